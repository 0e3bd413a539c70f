"""The user-facing settings of TD-MPC; field names are LeRobot's `TDMPCConfig` field names."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, model_validator

from policyzoo.features import REWARD_KEY, Features, Mismatch
from policyzoo.spec import SingleCameraSpec

ENV_STATE_KEY = "observation.environment_state"
MIN_IMAGE_SIZE = 39
"""The smallest side TD-MPC's image encoder (convolutions 7/2, 5/2, 3/2, 3/2) accepts."""


class TDMPCSpec(SingleCameraSpec):
    """TD-MPC: a task-oriented latent world model trained with rewards; plans with MPPI at every step."""

    type: ClassVar[str] = "tdmpc"
    kept_settings: ClassVar[dict[str, str]] = {
        name: "LeRobot's TD-MPC default is kept (its loss weights and planner constants are tuned together); "
        "policyzoo policies show tdmpc lists the settings it takes"
        for name in (
            "advantage_scaling",
            "consistency_coeff",
            "elite_weighting_temperature",
            "expectile_weight",
            "gaussian_mean_momentum",
            "max_std",
            "min_std",
            "pi_coeff",
            "reward_coeff",
            "target_model_momentum",
            "temporal_decay_coeff",
            "uncertainty_regularizer_coeff",
            "value_coeff",
        )
    } | {"n_obs_steps": "TD-MPC reads one observation frame (LeRobot's TD-MPC takes only n_obs_steps=1)"}

    optimizer_lr: float = Field(3e-4, gt=0, lt=1, description="Adam learning rate.")
    horizon: int = Field(5, ge=1, le=100, description="Planning horizon (steps) of model predictive control.")
    n_action_steps: int = Field(1, ge=1, description="Actions executed from each plan (<= horizon).")
    n_action_repeats: int = Field(
        2, ge=1, description="Times each planned action is repeated; 1 when n_action_steps > 1."
    )
    use_mpc: bool = Field(True, description="Plan with MPPI/CEM; false samples the policy head only.")
    cem_iterations: int = Field(6, ge=1, description="MPPI/CEM iterations per plan.")
    n_gaussian_samples: int = Field(512, ge=1, description="Gaussian action samples per CEM iteration.")
    n_pi_samples: int = Field(51, ge=0, description="Policy-head rollouts per CEM iteration.")
    n_elites: int = Field(50, ge=1, description="Elite samples refitting the Gaussian (<= all samples).")
    latent_dim: int = Field(50, ge=1, description="Latent state size of the world model.")
    mlp_dim: int = Field(512, ge=1, description="Hidden size of the dynamics, reward, policy and value MLPs.")
    image_encoder_hidden_dim: int = Field(
        32, ge=1, description="Channels of the image encoder's convolutions."
    )
    state_encoder_hidden_dim: int = Field(256, ge=1, description="Hidden size of the state encoder.")
    q_ensemble_size: int = Field(5, ge=2, description="Q functions in the ensemble.")
    discount: float = Field(0.9, gt=0, le=1, description="Reward discount factor.")
    max_random_shift_ratio: float = Field(
        0.0476, ge=0, lt=0.5, description="Random-shift image augmentation, as a share of the size."
    )

    @model_validator(mode="after")
    def _consistent(self) -> TDMPCSpec:
        if self.n_action_steps > self.horizon:
            raise ValueError(f"n_action_steps ({self.n_action_steps}) must be <= horizon ({self.horizon})")
        if self.n_action_steps > 1 and self.n_action_repeats != 1:
            raise ValueError("n_action_steps > 1 needs n_action_repeats=1")
        if self.n_action_steps > 1 and not self.use_mpc:
            raise ValueError("n_action_steps > 1 needs use_mpc=true")
        if self.n_elites > self.n_gaussian_samples + self.n_pi_samples:
            raise ValueError(
                f"n_elites ({self.n_elites}) must be <= n_gaussian_samples + n_pi_samples "
                f"({self.n_gaussian_samples + self.n_pi_samples})"
            )
        return self

    def check_features(self, features: Features) -> list[Mismatch]:
        problems = []
        if not features.has_reward:
            problems.append(
                Mismatch(
                    what=REWARD_KEY,
                    problem="TD-MPC learns from rewards and the dataset has none",
                    fix="record a reward per frame as 'next.reward', or pick an imitation policy (act, diffusion)",
                )
            )
        unknown_camera = super().check_features(features)
        if unknown_camera:
            return problems + unknown_camera
        camera = self.camera(features)
        if camera is None and ENV_STATE_KEY not in features.state:
            problems.append(
                Mismatch(
                    what="policy.type=tdmpc",
                    problem="TD-MPC needs a camera or an environment state",
                    fix="record a camera (observation.images.NAME) or observation.environment_state",
                )
            )
        if camera is not None:
            _, height, width = features.visual[camera]
            if height != width:
                others = [
                    key for key, shape in features.visual.items() if shape[1] == shape[2] and key != camera
                ]
                hint = f" or pick a square one with --policy.image_key={others[0]}" if others else ""
                problems.append(
                    Mismatch(
                        what=camera,
                        problem=f"TD-MPC takes one square image, this camera gives {height}x{width}",
                        fix=f"record it square (e.g. {min(height, width)}x{min(height, width)}){hint}",
                    )
                )
            elif height < MIN_IMAGE_SIZE:
                problems.append(
                    Mismatch(
                        what=camera,
                        problem=f"TD-MPC's image encoder needs at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE}, "
                        f"this camera gives {height}x{width}",
                        fix=f"record images of at least {MIN_IMAGE_SIZE}x{MIN_IMAGE_SIZE}",
                    )
                )
        return problems
