"""TD-MPC's training settings for the simulator tasks (`policyzoo bench success`): data, no torch."""

from policyzoo.card import TaskPresets, TrainingPreset

# Offline from the scripted demos, with the simulator's stage reward (0, 0.5, 1 for lift): the wrist camera,
# and a planner a tenth of the default (2 MPPI iterations of 64 + 8 samples, where LeRobot runs 6 of 512 + 51)
# so that an evaluation episode plans in seconds, not minutes, on the CPU.
SMALL_TDMPC = {
    "image_key": "wrist",
    "cem_iterations": 2,
    "n_gaussian_samples": 64,
    "n_pi_samples": 8,
    "n_elites": 8,
}

PRESETS = {
    "lift": TaskPresets(
        cpu=TrainingPreset(
            flags={"dataset.use_imagenet_stats": False},  # the dataset's camera stats, as measured
            policy=SMALL_TDMPC,
            steps=3000,
            batch_size=8,
            save_freq=1000,
            demos=50,
            note="offline TD-MPC from 50 demos with a sparse stage reward",
        ),
        note="TD-MPC is made to collect its own data online; policyzoo trains it offline only",
    ),
}
