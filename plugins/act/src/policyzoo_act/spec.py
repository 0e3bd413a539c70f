"""The user-facing settings of ACT; field names are LeRobot's `ACTConfig` field names."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field, model_validator

from policyzoo.features import Features, Mismatch
from policyzoo.spec import PolicySpec

ENV_STATE_KEY = "observation.environment_state"


class ACTSpec(PolicySpec):
    """Action Chunking Transformer: a CVAE transformer that predicts chunks of future actions."""

    type: ClassVar[str] = "act"
    kept_settings: ClassVar[dict[str, str]] = {
        "n_obs_steps": "ACT reads one observation frame (LeRobot's ACT takes only n_obs_steps=1)",
    }

    optimizer_lr: float = Field(1e-5, gt=0, lt=1, description="AdamW learning rate (transformer).")
    optimizer_lr_backbone: float = Field(1e-5, gt=0, lt=1, description="AdamW learning rate of the ResNet.")
    optimizer_weight_decay: float = Field(1e-4, ge=0, description="AdamW weight decay.")
    chunk_size: int = Field(100, ge=1, le=1000, description="Actions predicted per forward pass.")
    n_action_steps: int = Field(100, ge=1, description="Actions executed from each chunk (<= chunk_size).")
    temporal_ensemble_coeff: float | None = Field(
        None, description="Temporal ensembling weight (e.g. 0.01); needs n_action_steps=1. None: off."
    )
    vision_backbone: Literal["resnet18", "resnet34", "resnet50", "resnet101", "resnet152"] = Field(
        "resnet18", description="torchvision ResNet shared by all cameras."
    )
    pretrained_backbone_weights: str | None = Field(
        "ResNet18_Weights.IMAGENET1K_V1",
        description="torchvision weights the ResNet starts from (LeRobot's "
        "default), used when in torch's cache or downloadable; None: random weights.",
    )
    replace_final_stride_with_dilation: bool = Field(False, description="Dilate the ResNet's last stage.")
    pre_norm: bool = Field(False, description="Pre-norm transformer blocks.")
    dim_model: int = Field(512, ge=8, description="Transformer hidden size.")
    n_heads: int = Field(8, ge=1, description="Attention heads (divides dim_model).")
    dim_feedforward: int = Field(3200, ge=8, description="Feed-forward size of the transformer blocks.")
    feedforward_activation: Literal["relu", "gelu", "glu"] = Field(
        "relu", description="Feed-forward activation."
    )
    n_encoder_layers: int = Field(4, ge=1, description="Transformer encoder layers.")
    n_decoder_layers: int = Field(1, ge=1, description="Transformer decoder layers (LeRobot uses 1).")
    use_vae: bool = Field(True, description="Train with the CVAE objective.")
    latent_dim: int = Field(32, ge=1, description="CVAE latent size.")
    n_vae_encoder_layers: int = Field(4, ge=1, description="CVAE encoder layers.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout in the transformer.")
    kl_weight: float = Field(10.0, ge=0, description="Weight of the KL term in the loss.")

    @model_validator(mode="after")
    def _consistent(self) -> ACTSpec:
        if self.n_action_steps > self.chunk_size:
            raise ValueError(
                f"n_action_steps ({self.n_action_steps}) must be <= chunk_size ({self.chunk_size})"
            )
        if self.temporal_ensemble_coeff is not None and self.n_action_steps != 1:
            raise ValueError("temporal_ensemble_coeff needs n_action_steps=1 (the policy runs every step)")
        if self.replace_final_stride_with_dilation and self.vision_backbone in ("resnet18", "resnet34"):
            raise ValueError(
                f"replace_final_stride_with_dilation needs resnet50 or larger: torchvision's "
                f"{self.vision_backbone} blocks cannot dilate"
            )
        if self.dim_model % self.n_heads:
            raise ValueError(f"dim_model ({self.dim_model}) must be a multiple of n_heads ({self.n_heads})")
        return self

    def check_features(self, features: Features) -> list[Mismatch]:
        problems = []
        if not features.visual and ENV_STATE_KEY not in features.state:
            problems.append(
                Mismatch(
                    what="policy.type=act",
                    problem="ACT needs at least one camera or an environment state",
                    fix="record a camera (observation.images.NAME) or use a policy for state-only data",
                )
            )
        for key, shape in features.action.items():
            if len(shape) != 1:
                problems.append(
                    Mismatch(
                        what=key,
                        problem=f"ACT needs a flat action vector, got shape {shape}",
                        fix="flatten the action feature",
                    )
                )
        return problems
