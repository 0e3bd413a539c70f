"""Diffusion Policy's training settings for the simulator tasks (`policyzoo bench success`): data, no torch."""

from policyzoo.specs import TaskPresets, TrainingPreset

# A U-Net a quarter of the default width, DDIM with 10 denoising steps when acting (the paper's fast
# setting), 84x84 random crops of the 96x96 cameras, a short warm-up for a short run.
SMALL_DIFFUSION = {
    "down_dims": "[128, 256, 512]", "diffusion_step_embed_dim": 64, "crop_shape": "[84, 84]",
    "noise_scheduler_type": "DDIM", "num_train_timesteps": 100, "num_inference_steps": 10,
    "scheduler_warmup_steps": 100, "optimizer_lr": 3e-4,
}
FULL_DIFFUSION = {"crop_shape": "[84, 84]", "noise_scheduler_type": "DDIM", "num_inference_steps": 10}

PRESETS = {
    "lift": TaskPresets(
        cpu=TrainingPreset(policy=SMALL_DIFFUSION, steps=4000, batch_size=8, save_freq=1000, demos=50,
                           note="a narrow U-Net: 1, 0, 3, 3 of 20 unseen scenes at steps 1000-4000, about 60 minutes "
                                "of training alone on a 2-core CPU; far too few steps for diffusion"),
        gpu=TrainingPreset(policy=FULL_DIFFUSION, steps=100_000, batch_size=64, save_freq=10_000, demos=50,
                           note="LeRobot's defaults with DDIM sampling; not measured here (no GPU lent)"),
    ),
}
