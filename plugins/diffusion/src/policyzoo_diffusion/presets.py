"""Diffusion Policy's training settings for the simulator tasks (`policyzoo bench success`): data, no torch."""

from policyzoo.card import TaskPresets, TrainingPreset

# A U-Net a quarter of the default width, DDIM with 10 denoising steps when acting (the paper's fast
# setting), 84x84 random crops of the 96x96 cameras, a short warm-up for a short run. One observation frame, as
# ACT reads: with two, the last two joint positions alone nearly give a scripted demo's next action, a low loss
# that needs no camera. With both changes (one frame, 6000 steps instead of 4000) success rose from 3 to 9 of 20;
# their shares were not measured apart. Measured on LeRobot 0.4.4, whose defaults it keeps where 0.6.0 changed
# them (horizon 16, 8 actions a pass, a random ResNet with group norms shared by the cameras).
LEROBOT_04_DEFAULTS = {
    "horizon": 16,
    "n_action_steps": 8,
    "pretrained_backbone_weights": "None",
    "use_group_norm": True,
    "use_separate_rgb_encoder_per_camera": False,
}
SMALL_DIFFUSION = {
    **LEROBOT_04_DEFAULTS,
    "down_dims": "[128, 256, 512]",
    "diffusion_step_embed_dim": 64,
    "crop_shape": "[84, 84]",
    "noise_scheduler_type": "DDIM",
    "num_train_timesteps": 100,
    "num_inference_steps": 10,
    "scheduler_warmup_steps": 100,
    "optimizer_lr": 3e-4,
    "n_obs_steps": 1,
    "drop_n_last_frames": 8,
}
FULL_DIFFUSION = {"crop_shape": "[84, 84]", "noise_scheduler_type": "DDIM", "num_inference_steps": 10}

PRESETS = {
    "lift": TaskPresets(
        cpu=TrainingPreset(
            flags={"dataset.use_imagenet_stats": False},  # the dataset's camera stats, as measured
            policy=SMALL_DIFFUSION,
            steps=6000,
            batch_size=8,
            save_freq=1000,
            demos=50,
            note="a narrow U-Net on one frame: 0, 1, 2, 5, 7, 9 of 20 unseen scenes at steps 1000-6000, "
            "about 65 minutes on a 2-core CPU (LeRobot 0.4.4); still rising, too few steps for diffusion",
        ),
        gpu=TrainingPreset(
            policy=FULL_DIFFUSION,
            steps=100_000,
            batch_size=64,
            save_freq=10_000,
            demos=50,
            note="LeRobot 0.6's defaults with DDIM sampling; not measured here (no GPU lent)",
        ),
    ),
}
