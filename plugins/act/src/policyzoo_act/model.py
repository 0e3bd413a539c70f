"""ACT's factory: LeRobot's `ACTPolicy` through the shared LeRobot adapter."""

from __future__ import annotations

from policyzoo.lerobot import LeRobotFactory
from policyzoo_act.spec import ACTSpec


class ACTFactory(LeRobotFactory):
    policy_type = "act"
    spec_class = ACTSpec
    fixed_config = {"pretrained_backbone_weights": None}
    quick_settings = {"dim_model": 32, "n_heads": 2, "dim_feedforward": 64, "n_encoder_layers": 1,
                      "n_vae_encoder_layers": 1, "latent_dim": 8, "chunk_size": 10, "n_action_steps": 5}


factory = ACTFactory()
