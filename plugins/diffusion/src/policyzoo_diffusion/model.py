"""Diffusion Policy's factory: LeRobot's `DiffusionPolicy` through the shared LeRobot adapter."""

from __future__ import annotations

from typing import Any

import torch
from lerobot.policies.utils import populate_queues

from policyzoo.lerobot import LeRobotFactory, LeRobotHandle
from policyzoo.specs import ACTION_KEY
from policyzoo_diffusion.spec import DiffusionSpec

IMAGES_KEY = "observation.images"


class DiffusionHandle(LeRobotHandle):
    """LeRobot's `predict_action_chunk` reads the observation history that `select_action` fills;
    `predict_chunk` adds the observation to that history first, leaving the action queue alone."""

    def model_chunk(self, observation: dict[str, Any]) -> torch.Tensor:
        policy = self.policy
        observation = {key: value for key, value in observation.items() if key != ACTION_KEY}
        if policy.config.image_features:
            observation[IMAGES_KEY] = torch.stack([observation[key] for key in policy.config.image_features],
                                                  dim=-4)
        policy._queues = populate_queues(policy._queues, observation)
        return policy.predict_action_chunk(observation)


class DiffusionFactory(LeRobotFactory):
    policy_type = "diffusion"
    spec_class = DiffusionSpec
    handle_class = DiffusionHandle
    quick_settings = {"down_dims": (16, 32), "n_groups": 4, "kernel_size": 3, "diffusion_step_embed_dim": 16,
                      "spatial_softmax_num_keypoints": 8, "horizon": 8, "n_action_steps": 4,
                      "drop_n_last_frames": 3, "num_train_timesteps": 10, "num_inference_steps": 4,
                      "noise_scheduler_type": "DDIM", "crop_shape": (40, 56)}


factory = DiffusionFactory()
