"""The settings of a policy type (`PolicySpec`, which plugins subclass) and a robot as its data sees it
(`RobotSpec`, `JointSpec`, `CameraSpec`)."""

from __future__ import annotations

import contextlib
import json
import re
import typing
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from policyzoo.errors import did_you_mean
from policyzoo.features import ACTION_KEY, IMAGE_PREFIX, STATE_KEY, Features, Mismatch

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


def _known_device(value: str) -> str:
    if not _DEVICE.match(value):
        raise ValueError("must be one of auto, cpu, cuda, cuda:N, mps")
    return value


Device = Annotated[str, AfterValidator(_known_device)]
"""A `--policy.device` of every command: auto, cpu, cuda, cuda:N or mps."""


class PolicySpec(BaseModel):
    """User-facing settings of one policy type; plugins subclass it and set `type`.

    Field names match LeRobot's config fields so that `--policy.NAME=VALUE` reads the same in both.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    type: ClassVar[str]
    kept_settings: ClassVar[dict[str, str]] = {}
    """Settings of the upstream (LeRobot) config that this spec does not take, each with why and what to do
    instead: `--policy.NAME` for one of them is refused with that reason, not with a did-you-mean."""

    device: Device = Field(
        "auto", description="auto, cpu, cuda, cuda:N or mps; auto picks cuda when present."
    )
    use_amp: bool = Field(False, description="Mixed precision (CUDA only).")
    optimizer_lr: float = Field(1e-4, gt=0, lt=1, description="Learning rate of the optimizer preset.")

    @model_validator(mode="before")
    @classmethod
    def _values_from_text(cls, data: Any) -> Any:
        """`--policy.crop_shape=[84,84]` (LeRobot's form), `(84, 84)` or `null` for tuple and list fields;
        `None` or `null` for any field that may be None."""
        if not isinstance(data, dict):
            return data
        parsed = dict(data)
        for name, value in data.items():
            field = cls.model_fields.get(name)
            if not isinstance(value, str) or field is None:
                continue
            if value.strip() in ("None", "none", "null") and type(None) in typing.get_args(field.annotation):
                parsed[name] = None
            elif _takes_sequence(field.annotation):
                text = value.strip().replace("(", "[").replace(")", "]")
                with contextlib.suppress(json.JSONDecodeError):  # else pydantic reports the original text
                    parsed[name] = None if text in ("None", "none") else json.loads(text)
        return parsed

    def check_features(self, features: Features) -> list[Mismatch]:
        """Rules of this policy type about the data it can learn from. Pure Python: no torch."""
        return []


def _takes_sequence(annotation: Any) -> bool:
    if typing.get_origin(annotation) in (tuple, list):
        return True
    return any(_takes_sequence(argument) for argument in typing.get_args(annotation))


class SingleCameraSpec(PolicySpec):
    """Base spec of policies that see one camera: `image_key` picks it, else the dataset's first camera."""

    image_key: str | None = Field(
        None,
        description="The one camera the policy sees, e.g. top or observation.images.top; default: the "
        "dataset's first camera.",
    )

    @field_validator("image_key")
    @classmethod
    def _full_key(cls, value: str | None) -> str | None:
        if value is None or value.startswith("observation."):
            return value
        return IMAGE_PREFIX + value

    def camera(self, features: Features) -> str | None:
        """The camera the model sees (None when the data has none)."""
        return self.image_key or next(iter(features.visual), None)

    def check_features(self, features: Features) -> list[Mismatch]:
        if self.image_key is None or self.image_key in features.visual:
            return []
        cameras = ", ".join(features.visual) or "none"
        return [
            Mismatch(
                what=f"--policy.image_key={self.image_key}",
                problem=f"no such camera; the data has: {cameras}",
                fix="pick one of those cameras." + did_you_mean(self.image_key, features.visual),
            )
        ]


Unit = Literal["deg", "rad", "percent", "m"]


class JointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Motor name as LeRobot names it, e.g. 'left_shoulder_pan'.")
    unit: Unit
    lower: float = Field(allow_inf_nan=False)
    upper: float = Field(allow_inf_nan=False)

    @model_validator(mode="after")
    def _ordered(self) -> JointSpec:
        if not self.lower < self.upper:
            raise ValueError(
                f"joint {self.name}: lower limit {self.lower} must be below upper limit {self.upper}"
            )
        return self

    @property
    def feature_name(self) -> str:
        return f"{self.name}.pos"


class CameraSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    height: int = Field(gt=0)
    width: int = Field(gt=0)
    fps: int = Field(30, gt=0)

    @property
    def key(self) -> str:
        return f"{IMAGE_PREFIX}{self.name}"


class RobotSpec(BaseModel):
    """A robot as a dataset recorded on it sees it: joints, cameras and control rate."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: str
    description: str = ""
    joints: list[JointSpec]
    cameras: list[CameraSpec] = []
    fps: int = Field(30, gt=0)
    sim_task: str | None = Field(
        None, description="Short name of the task its simulator backend sets (e.g. 'lift'), for benchmarks."
    )

    @property
    def joint_names(self) -> list[str]:
        return [joint.feature_name for joint in self.joints]

    def features(self) -> Features:
        """The features a LeRobot dataset recorded on this robot has."""
        return Features(
            state={STATE_KEY: (len(self.joints),)},
            visual={camera.key: (3, camera.height, camera.width) for camera in self.cameras},
            action={ACTION_KEY: (len(self.joints),)},
            state_names=self.joint_names,
            action_names=self.joint_names,
            fps=self.fps,
        )
