"""The user-facing settings of Diffusion Policy; field names and defaults are LeRobot 0.6's `DiffusionConfig`'s.

LeRobot 0.6.0 changed the defaults (its #3202): horizon 64 (was 16), n_action_steps 32 (was 8), the ResNet18
from ImageNet weights (was random) with its batch norms (was GroupNorm), one image encoder per camera (was one
shared). Checkpoints keep the settings they were trained with: their config.json states every field."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from policyzoo.features import Features, Mismatch
from policyzoo.spec import PolicySpec

ENV_STATE_KEY = "observation.environment_state"


class DiffusionSpec(PolicySpec):
    """Diffusion Policy: a 1-D conditional U-Net that denoises a horizon of future actions."""

    type: ClassVar[str] = "diffusion"
    kept_settings: ClassVar[dict[str, str]] = {
        "compile_model": "policyzoo train does not torch.compile the model; LeRobot's default (off) is kept",
        "compile_mode": "policyzoo train does not torch.compile the model; LeRobot's default (off) is kept",
        "resize_shape": "images are used at the dataset's size; crop them with --policy.crop_shape=[H,W]",
        "crop_ratio": "crop with --policy.crop_shape=[H,W] (pixels) instead",
        "optimizer_betas": "LeRobot's Adam betas of Diffusion are kept; set the rate with --policy.optimizer_lr",
        "optimizer_eps": "LeRobot's Adam eps of Diffusion is kept; set the rate with --policy.optimizer_lr",
        "scheduler_name": "choose the schedule with LeRobot's --scheduler.type=... flags (for example "
        "cosine_decay_with_warmup); the policy's own schedule is kept otherwise",
    }

    optimizer_lr: float = Field(1e-4, gt=0, lt=1, description="Adam learning rate.")
    optimizer_weight_decay: float = Field(1e-6, ge=0, description="Adam weight decay.")
    scheduler_warmup_steps: int = Field(500, ge=0, description="Warm-up steps of the cosine LR schedule.")
    n_obs_steps: int = Field(2, ge=1, description="Observations the policy sees (current and past).")
    horizon: int = Field(64, ge=1, description="Actions denoised per pass (a multiple of 2**len(down_dims)).")
    n_action_steps: int = Field(
        32, ge=1, description="Actions executed per pass (<= horizon - n_obs_steps + 1)."
    )
    drop_n_last_frames: int = Field(7, ge=0, description="Frames at each episode's end not used as samples.")
    vision_backbone: Literal["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"] = Field(
        "resnet18", description="torchvision ResNet image encoder."
    )
    pretrained_backbone_weights: str | None = Field(
        "ResNet18_Weights.IMAGENET1K_V1",
        description="torchvision weights the ResNet starts from (needs "
        "use_group_norm=false; random, with one line, when they cannot be had offline); None: random weights.",
    )
    crop_shape: tuple[int, int] | None = Field(
        None, description="Crop (height, width) of every image; None: none."
    )
    crop_is_random: bool = Field(True, description="Random crops in training (center crop when acting).")
    use_group_norm: bool = Field(False, description="GroupNorm instead of BatchNorm in the backbone.")
    spatial_softmax_num_keypoints: int = Field(32, ge=1, description="Keypoints of the spatial softmax.")
    use_separate_rgb_encoder_per_camera: bool = Field(True, description="One image encoder per camera.")
    down_dims: tuple[int, ...] = Field((512, 1024, 2048), min_length=1, description="U-Net channel sizes.")
    kernel_size: int = Field(5, ge=1, description="U-Net convolution kernel size.")
    n_groups: int = Field(8, ge=1, description="GroupNorm groups in the U-Net (divides every down_dim).")
    diffusion_step_embed_dim: int = Field(128, ge=2, description="Size of the timestep embedding.")
    use_film_scale_modulation: bool = Field(True, description="FiLM scale as well as bias.")
    noise_scheduler_type: Literal["DDPM", "DDIM"] = Field(
        "DDPM", description="DDPM, or DDIM for fast sampling."
    )
    num_train_timesteps: int = Field(100, ge=1, description="Diffusion steps in training.")
    num_inference_steps: int | None = Field(
        None, ge=1, description="Denoising steps when acting (<= num_train_timesteps); None: all of them."
    )
    beta_schedule: Literal["linear", "scaled_linear", "squaredcos_cap_v2"] = Field(
        "squaredcos_cap_v2", description="Noise schedule."
    )
    beta_start: float = Field(1e-4, gt=0, lt=1, description="First beta of the schedule.")
    beta_end: float = Field(0.02, gt=0, lt=1, description="Last beta of the schedule.")
    prediction_type: Literal["epsilon", "sample"] = Field("epsilon", description="What the U-Net predicts.")
    clip_sample: bool = Field(True, description="Clip denoised actions to [-clip_sample_range, range].")
    clip_sample_range: float = Field(1.0, gt=0, description="Clip range in normalized units.")
    do_mask_loss_for_padding: bool = Field(False, description="Leave padded actions out of the loss.")
    gradient_checkpointing: bool = Field(
        False,
        description="Recompute the U-Net's activations in the backward "
        "pass: less GPU memory for more compute (LeRobot 0.6).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> DiffusionSpec:
        if self.pretrained_backbone_weights is not None and self.use_group_norm:
            raise ValueError(
                "pretrained_backbone_weights needs use_group_norm=false: group norms in place of the "
                "pretrained batch norms would undo the weights"
            )
        factor = 2 ** len(self.down_dims)
        if self.horizon % factor:
            raise ValueError(
                f"horizon ({self.horizon}) must be a multiple of {factor} "
                f"(2 ** len(down_dims) = 2 ** {len(self.down_dims)})"
            )
        if self.n_action_steps > self.horizon - self.n_obs_steps + 1:
            raise ValueError(
                f"n_action_steps ({self.n_action_steps}) must be <= horizon - n_obs_steps + 1 "
                f"({self.horizon - self.n_obs_steps + 1})"
            )
        if self.num_inference_steps is not None and self.num_inference_steps > self.num_train_timesteps:
            raise ValueError(
                f"num_inference_steps ({self.num_inference_steps}) must be <= num_train_timesteps "
                f"({self.num_train_timesteps})"
            )
        if self.crop_shape is not None and min(self.crop_shape) <= 0:
            raise ValueError(f"crop_shape {self.crop_shape} must be positive")
        if any(dim % self.n_groups for dim in self.down_dims):
            raise ValueError(
                f"every down_dims entry {self.down_dims} must be a multiple of n_groups ({self.n_groups})"
            )
        if self.beta_start >= self.beta_end:
            raise ValueError("beta_start must be smaller than beta_end")
        return self

    def check_features(self, features: Features) -> list[Mismatch]:
        problems = []
        if not features.visual and ENV_STATE_KEY not in features.state:
            problems.append(
                Mismatch(
                    what="policy.type=diffusion",
                    problem="Diffusion Policy needs at least one camera or an environment state",
                    fix="record a camera (observation.images.NAME)",
                )
            )
        shapes = {shape for shape in features.visual.values()}
        if len(shapes) > 1:
            listed = ", ".join(
                f"{key.removeprefix('observation.images.')} {h}x{w}"
                for key, (_, h, w) in features.visual.items()
            )
            problems.append(
                Mismatch(
                    what="observation.images",
                    problem=f"Diffusion Policy needs all cameras the same shape, got {listed}",
                    fix="record every camera at the same resolution, or use --policy.type=act",
                )
            )
        if self.crop_shape is not None:
            for key, (_, height, width) in features.visual.items():
                if self.crop_shape[0] > height or self.crop_shape[1] > width:
                    problems.append(
                        Mismatch(
                            what="policy.crop_shape",
                            problem=f"crop {self.crop_shape[0]}x{self.crop_shape[1]} is larger than {key} "
                            f"({height}x{width})",
                            fix=f"set --policy.crop_shape to at most [{height},{width}]",
                        )
                    )
        return problems
