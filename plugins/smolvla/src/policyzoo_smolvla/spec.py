"""The user-facing settings of SmolVLA; field names are LeRobot's `SmolVLAConfig` field names."""

from __future__ import annotations

import re
from pathlib import Path
from typing import ClassVar

from pydantic import Field, field_validator, model_validator

from policyzoo.features import Features, Mismatch
from policyzoo.spec import PolicySpec

DEFAULT_VLM = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")
TINY_HINT = "python -m policyzoo_smolvla.tiny DIR builds a tiny random one offline"


class SmolVLASpec(PolicySpec):
    """SmolVLA: a small VLM (SmolVLM2) reads cameras, state and the task; a flow-matching expert acts."""

    type: ClassVar[str] = "smolvla"
    kept_settings: ClassVar[dict[str, str]] = {
        **{
            name: "LeRobot's SmolVLA default is kept (it must match the pretrained smolvla_base); fine-tune from "
            "it with --policy.path=lerobot/smolvla_base"
            for name in (
                "adapt_to_pi_aloha",
                "add_image_special_tokens",
                "attention_mode",
                "max_period",
                "min_period",
                "pad_language_to",
                "prefix_length",
                "resize_imgs_with_padding",
                "use_delta_joint_actions_aloha",
                "use_cache",
            )
        },
        **{
            name: "LeRobot's SmolVLA optimizer preset is kept; set the rate with --policy.optimizer_lr or the "
            "schedule with --scheduler.type=..."
            for name in (
                "optimizer_betas",
                "optimizer_eps",
                "optimizer_grad_clip_norm",
                "optimizer_weight_decay",
                "scheduler_decay_lr",
            )
        },
        "compile_model": "policyzoo train does not torch.compile the model; LeRobot's default (off) is kept",
        "compile_mode": "policyzoo train does not torch.compile the model; LeRobot's default (off) is kept",
        "n_obs_steps": "SmolVLA reads one observation frame (LeRobot's SmolVLA takes only n_obs_steps=1)",
        "empty_cameras": "SmolVLA takes the dataset's cameras; policyzoo adds no empty camera slots",
        "rtc_config": "real-time chunking is not part of policyzoo's SmolVLA; deploy --async=true predicts while "
        "acting instead",
    }

    vlm_model_name: str = Field(
        DEFAULT_VLM,
        description="The VLM backbone: a Hub id or a local folder with its config and processor "
        f"({TINY_HINT}).",
    )
    load_vlm_weights: bool = Field(
        False,
        description="Start the VLM from its pretrained weights (downloads "
        "them); false builds it randomly initialised.",
    )
    num_vlm_layers: int = Field(16, ge=1, description="VLM text layers kept (the first N); SmolVLA uses 16.")
    num_expert_layers: int = Field(-1, description="Action-expert layers; <= 0: as many as the VLM layers.")
    expert_width_multiplier: float = Field(
        0.75, gt=0, le=4, description="Expert hidden size relative to the VLM's."
    )
    self_attn_every_n_layers: int = Field(
        2, description="Self-attention instead of cross-attention every N expert layers; <= 0: never."
    )
    freeze_vision_encoder: bool = Field(True, description="Keep the VLM's vision encoder frozen.")
    train_expert_only: bool = Field(True, description="Train only the action expert (and projections).")
    train_state_proj: bool = Field(True, description="Train the state projection.")
    chunk_size: int = Field(50, ge=1, le=1000, description="Actions predicted per chunk.")
    n_action_steps: int = Field(50, ge=1, description="Actions executed from each chunk (<= chunk_size).")
    num_steps: int = Field(10, ge=1, le=1000, description="Flow-matching denoising steps per chunk.")
    tokenizer_max_length: int = Field(48, ge=1, description="Longest task text, in tokens.")
    max_state_dim: int = Field(32, ge=1, description="State vectors are zero-padded to this size.")
    max_action_dim: int = Field(32, ge=1, description="Action vectors are zero-padded to this size.")
    scheduler_warmup_steps: int = Field(1000, ge=0, description="Warm-up steps of the cosine schedule.")
    scheduler_decay_steps: int = Field(30000, ge=1, description="Decay steps of the cosine schedule.")

    @field_validator("vlm_model_name")
    @classmethod
    def _hub_id_or_folder(cls, value: str) -> str:
        path = Path(value).expanduser()
        if path.is_dir():
            if not (path / "config.json").is_file():
                raise ValueError(f"the folder has no config.json; point it at a SmolVLM folder ({TINY_HINT})")
            return str(path.resolve())
        if value.startswith((".", "/", "~")) or not _HUB_ID.match(value):
            raise ValueError(f"no such folder, and not a Hub id (USER/NAME); {TINY_HINT}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SmolVLASpec:
        if self.n_action_steps > self.chunk_size:
            raise ValueError(
                f"n_action_steps ({self.n_action_steps}) must be <= chunk_size ({self.chunk_size})"
            )
        if self.num_expert_layers > 0 and self.num_vlm_layers % self.num_expert_layers:
            raise ValueError(
                f"num_vlm_layers ({self.num_vlm_layers}) must be a multiple of num_expert_layers "
                f"({self.num_expert_layers})"
            )
        return self

    def check_features(self, features: Features) -> list[Mismatch]:
        problems = []
        if not features.has_language:
            problems.append(
                Mismatch(
                    what="task",
                    problem="SmolVLA follows a task instruction and the dataset has no task text",
                    fix="record a task per episode (LeRobot's 'task', e.g. --dataset.single_task=\"pick up the cube\")",
                )
            )
        if not features.visual:
            problems.append(
                Mismatch(
                    what="policy.type=smolvla",
                    problem="SmolVLA needs at least one camera",
                    fix="record a camera (observation.images.NAME)",
                )
            )
        if features.state_dim > self.max_state_dim:
            problems.append(
                Mismatch(
                    what="observation.state",
                    problem=f"{features.state_dim} state dims exceed max_state_dim ({self.max_state_dim})",
                    fix=f"set --policy.max_state_dim={features.state_dim} (a new model; pretrained ones use 32)",
                )
            )
        if features.action_dim > self.max_action_dim:
            problems.append(
                Mismatch(
                    what="action",
                    problem=f"{features.action_dim} action dims exceed max_action_dim "
                    f"({self.max_action_dim})",
                    fix=f"set --policy.max_action_dim={features.action_dim} (a new model; pretrained ones use 32)",
                )
            )
        return problems
