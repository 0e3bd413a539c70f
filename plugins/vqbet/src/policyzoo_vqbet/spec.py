"""The user-facing settings of VQ-BeT; field names are LeRobot's `VQBeTConfig` field names."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from policyzoo.features import STATE_KEY, Features, Mismatch
from policyzoo.spec import SingleCameraSpec


class VQBeTSpec(SingleCameraSpec):
    """VQ-BeT: a GPT over observation tokens predicting residual-VQ action codes plus offsets."""

    type: ClassVar[str] = "vqbet"
    kept_settings: ClassVar[dict[str, str]] = {
        name: "LeRobot's VQ-BeT default is kept; set the rate with --policy.optimizer_lr, see policyzoo policies "
        "show vqbet for the settings it takes"
        for name in (
            "offset_loss_weight",
            "primary_code_loss_weight",
            "secondary_code_loss_weight",
            "optimizer_betas",
            "optimizer_eps",
            "optimizer_weight_decay",
            "optimizer_vqvae_weight_decay",
        )
    }

    optimizer_lr: float = Field(1e-4, gt=0, lt=1, description="Adam learning rate (GPT and encoders).")
    optimizer_vqvae_lr: float = Field(1e-3, gt=0, lt=1, description="Adam learning rate of the residual VQ.")
    scheduler_warmup_steps: int = Field(
        500, ge=0, description="Warm-up steps of the learning rate after the VQ phase."
    )
    n_obs_steps: int = Field(5, ge=1, description="Observation steps in the context (current and past).")
    n_action_pred_token: int = Field(3, ge=1, description="Action tokens predicted (current and future).")
    action_chunk_size: int = Field(5, ge=1, description="Actions per predicted token; executed per chunk.")
    n_vqvae_training_steps: int = Field(
        20000,
        ge=1,
        description="First training steps, which train only the residual VQ that discretizes actions.",
    )
    vqvae_n_embed: int = Field(16, ge=2, description="Codebook size of each residual-VQ layer.")
    vqvae_embedding_dim: int = Field(256, ge=1, description="Size of each codebook vector.")
    vqvae_enc_hidden_dim: int = Field(128, ge=1, description="Hidden size of the VQ-VAE encoder and decoder.")
    vision_backbone: Literal["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"] = Field(
        "resnet18", description="torchvision ResNet image encoder."
    )
    pretrained_backbone_weights: str | None = Field(
        None,
        description="torchvision weights the ResNet starts from, e.g. ResNet18_Weights.IMAGENET1K_V1 (needs "
        "use_group_norm=false); None: random weights (LeRobot's default).",
    )
    crop_shape: tuple[int, int] | None = Field(
        (84, 84), description="(H, W) crop before the backbone, random in training; null: no crop."
    )
    crop_is_random: bool = Field(True, description="Random crops in training (always centred at inference).")
    use_group_norm: bool = Field(True, description="Group norm instead of batch norm in the backbone.")
    spatial_softmax_num_keypoints: int = Field(32, ge=1, description="Keypoints of the spatial softmax.")
    gpt_block_size: int = Field(500, ge=1, description="Longest token sequence of the GPT.")
    gpt_input_dim: int = Field(512, ge=1, description="Size of the observation tokens.")
    gpt_output_dim: int = Field(512, ge=1, description="Output size of the GPT.")
    gpt_n_layer: int = Field(8, ge=1, description="GPT layers.")
    gpt_n_head: int = Field(8, ge=1, description="GPT attention heads (divides gpt_hidden_dim).")
    gpt_hidden_dim: int = Field(512, ge=1, description="GPT hidden size.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout in the GPT.")
    bet_softmax_temperature: float = Field(0.1, gt=0, description="Sampling temperature of the codes.")
    sequentially_select: bool = Field(False, description="Pick the primary code, then the secondary one.")

    @field_validator("crop_shape", mode="before")
    @classmethod
    def _parse_crop(cls, value: object) -> object:
        """Command-line forms: '[84, 84]', '84,84', 'null' / 'none'."""
        if not isinstance(value, str):
            return value
        text = value.strip().strip("[]()").strip()
        if text.lower() in ("null", "none", ""):
            return None
        try:
            return tuple(int(part) for part in text.split(","))
        except ValueError:
            raise ValueError("expected [HEIGHT, WIDTH], e.g. [84, 84], or null for no crop") from None

    @field_validator("crop_shape")
    @classmethod
    def _positive_crop(cls, value: tuple[int, int] | None) -> tuple[int, int] | None:
        if value is not None and min(value) < 1:
            raise ValueError("both crop sides must be >= 1 (or crop_shape null for no crop)")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> VQBeTSpec:
        if self.pretrained_backbone_weights is not None and self.use_group_norm:
            raise ValueError(
                "pretrained_backbone_weights needs use_group_norm=false: group norms in place of the "
                "pretrained batch norms would undo the weights"
            )
        if self.gpt_hidden_dim % self.gpt_n_head:
            raise ValueError(
                f"gpt_hidden_dim ({self.gpt_hidden_dim}) must be a multiple of gpt_n_head ({self.gpt_n_head})"
            )
        tokens = 3 * self.n_obs_steps + self.n_action_pred_token - 1  # image, state, action query per step
        if tokens > self.gpt_block_size:
            raise ValueError(
                f"gpt_block_size ({self.gpt_block_size}) is shorter than the {tokens} tokens of "
                f"n_obs_steps={self.n_obs_steps} and n_action_pred_token={self.n_action_pred_token}"
            )
        return self

    @property
    def n_action_steps(self) -> int:
        """Actions executed per prediction: VQ-BeT runs its whole chunk (the name other policies use)."""
        return self.action_chunk_size

    def check_features(self, features: Features) -> list[Mismatch]:
        problems = []
        cameras = list(features.visual)
        if STATE_KEY not in features.state:
            problems.append(
                Mismatch(
                    what=STATE_KEY,
                    problem="VQ-BeT needs the robot state and the data has none",
                    fix="record the joint positions as observation.state",
                )
            )
        unknown_camera = super().check_features(features)
        problems.extend(unknown_camera)
        if not cameras:
            problems.append(
                Mismatch(
                    what="policy.type=vqbet",
                    problem="VQ-BeT needs exactly one camera, the data has none",
                    fix="record a camera (observation.images.NAME)",
                )
            )
        camera = self.camera(features)
        if not unknown_camera and camera is not None and self.crop_shape is not None:
            _, height, width = features.visual[camera]
            if self.crop_shape[0] > height or self.crop_shape[1] > width:
                problems.append(
                    Mismatch(
                        what=f"--policy.crop_shape={list(self.crop_shape)}",
                        problem=f"the crop is larger than the {height}x{width} images of {camera}",
                        fix=f"use a crop of at most [{height}, {width}], or --policy.crop_shape=null",
                    )
                )
        return problems
