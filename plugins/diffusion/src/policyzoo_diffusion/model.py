"""Diffusion Policy's factory: LeRobot's `DiffusionPolicy` through the shared LeRobot adapter."""

from __future__ import annotations

from policyzoo_diffusion.spec import DiffusionSpec
from policyzoo_runtime.lerobot import HistoryHandle, LeRobotFactory


class DiffusionFactory(LeRobotFactory):
    policy_type = "diffusion"
    spec_class = DiffusionSpec
    handle_class = HistoryHandle  # Diffusion reads its last n_obs_steps frames
    # random ResNet with group norms shared by the cameras (0.4's defaults): stabler on the tiny batches of tests
    quick_settings = {
        "pretrained_backbone_weights": None,
        "use_group_norm": True,
        "use_separate_rgb_encoder_per_camera": False,
        "down_dims": (16, 32),
        "n_groups": 4,
        "kernel_size": 3,
        "diffusion_step_embed_dim": 16,
        "spatial_softmax_num_keypoints": 8,
        "horizon": 8,
        "n_action_steps": 4,
        "drop_n_last_frames": 3,
        "num_train_timesteps": 10,
        "num_inference_steps": 4,
        "noise_scheduler_type": "DDIM",
        "crop_shape": (40, 56),
    }


factory = DiffusionFactory()
