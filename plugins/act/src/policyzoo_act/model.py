"""ACT's factory: LeRobot's `ACTPolicy` through the shared LeRobot adapter."""

from __future__ import annotations

from pathlib import Path

from lerobot.configs.policies import PreTrainedConfig
from lerobot.policies.pretrained import PreTrainedPolicy

from policyzoo.checkpoint import WEIGHTS_FILE, safetensors_header
from policyzoo_act.norm import TRAINED_NORM_KEY, frozen_norms, trainable_norms
from policyzoo_act.spec import ACTSpec
from policyzoo_runtime.lerobot import LeRobotFactory


class ACTFactory(LeRobotFactory):
    policy_type = "act"
    spec_class = ACTSpec
    quick_settings = {
        "pretrained_backbone_weights": None,
        "dim_model": 32,
        "n_heads": 2,
        "dim_feedforward": 64,
        "n_encoder_layers": 1,
        "n_vae_encoder_layers": 1,
        "latent_dim": 8,
        "chunk_size": 10,
        "n_action_steps": 5,
    }

    def make_policy(self, config: PreTrainedConfig) -> PreTrainedPolicy:
        """LeRobot's ACT; a ResNet that starts from random weights gets trainable batch norms (see `norm`)."""
        policy = super().make_policy(config)
        backbone = getattr(policy.model, "backbone", None)  # none without cameras
        if backbone is not None and config.pretrained_backbone_weights is None:
            trainable_norms(backbone)
        return policy

    def load_weights(self, policy: PreTrainedPolicy, directory: Path) -> None:
        """Weights of LeRobot's own ACT (frozen batch norms) load into frozen norms, ours into trainable ones."""
        weights = Path(directory) / WEIGHTS_FILE
        backbone = getattr(policy.model, "backbone", None)
        if backbone is not None and weights.is_file() and TRAINED_NORM_KEY not in safetensors_header(weights):
            frozen_norms(backbone)
        super().load_weights(policy, directory)


factory = ACTFactory()
