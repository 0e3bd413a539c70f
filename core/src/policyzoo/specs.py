"""The pydantic contracts every plugin speaks: policy specs and cards, robot specs, data features."""

from __future__ import annotations

import contextlib
import json
import re
import typing
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from policyzoo.errors import did_you_mean

STATE_KEY = "observation.state"
ACTION_KEY = "action"
REWARD_KEY = "next.reward"
IMAGE_PREFIX = "observation.images."

_DEVICE = re.compile(r"^(auto|cpu|mps|cuda(:\d+)?)$")


class Mismatch(BaseModel):
    """One reason a policy, a dataset and a robot do not fit together."""

    what: str = Field(description="The policy, flag or feature that does not fit.")
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what}: {self.problem} ({self.fix})"


class PolicySpec(BaseModel):
    """User-facing settings of one policy type; plugins subclass it and set `type`.

    Field names match LeRobot's config fields so that `--policy.NAME=VALUE` reads the same in both.
    """

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    type: ClassVar[str]
    kept_settings: ClassVar[dict[str, str]] = {}
    """Settings of the upstream (LeRobot) config that this spec does not take, each with why and what to do
    instead: `--policy.NAME` for one of them is refused with that reason, not with a did-you-mean."""

    device: str = Field("auto", description="auto, cpu, cuda, cuda:N or mps; auto picks cuda when present.")
    use_amp: bool = Field(False, description="Mixed precision (CUDA only).")
    optimizer_lr: float = Field(1e-4, gt=0, lt=1, description="Learning rate of the optimizer preset.")

    @field_validator("device")
    @classmethod
    def _known_device(cls, value: str) -> str:
        if not _DEVICE.match(value):
            raise ValueError("must be one of auto, cpu, cuda, cuda:N, mps")
        return value

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
        None, description="The one camera the policy sees, e.g. top or observation.images.top; default: the "
                          "dataset's first camera.")

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
        return [Mismatch(what=f"--policy.image_key={self.image_key}", problem=f"no such camera; the data has: "
                         f"{cameras}", fix="pick one of those cameras." + did_you_mean(self.image_key,
                                                                                       features.visual))]


class Source(BaseModel):
    """Where a number on a card comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str
    source: str


PresetValue = str | int | float | bool


class FinishPhase(BaseModel):
    """A last, shorter training phase of a preset: the first phase's final checkpoint fine-tuned on the same demos
    (`policyzoo train --policy.path=...`) with flags of its own, e.g. without the first phase's image shifts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: int = Field(gt=0, description="Training steps of this phase.")
    save_freq: int = Field(gt=0, description="Steps between its checkpoints; the benchmark evaluates each one.")
    flags: dict[str, PresetValue] = Field(
        default_factory=dict, description="`policyzoo train` flags of this phase (as --NAME=VALUE, LeRobot's names); "
                                          "the first phase's flags do not carry over.")


class TrainingPreset(BaseModel):
    """How a plugin trains its policy for one simulator task at one scale: `policyzoo bench success` runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: dict[str, PresetValue] = Field(
        default_factory=dict, description="Spec fields (as --policy.NAME=VALUE), e.g. chunk_size.")
    steps: int = Field(gt=0, description="Training steps.")
    batch_size: int = Field(gt=0)
    save_freq: int = Field(gt=0, description="Steps between checkpoints; the benchmark evaluates each one.")
    demos: int = Field(50, gt=0, description="Scripted demonstrations to train on.")
    cameras: tuple[str, ...] | None = Field(
        None, description="Simulator cameras the demos are recorded with, at the robot's camera size (None: the "
                          "robot's own cameras), e.g. ('left_top', 'right_front', 'right_wrist').")
    flags: dict[str, PresetValue] = Field(
        default_factory=dict, description="Further `policyzoo train` flags (as --NAME=VALUE, LeRobot's names), "
                                          "e.g. dataset.image_transforms.enable or scheduler.type.")
    finish: FinishPhase | None = Field(
        None, description="A fine-tuning phase after `steps`, from the last checkpoint (None: the run ends there).")
    note: str = Field("", description="Why these settings, and what they were measured to reach.")


class TaskPresets(BaseModel):
    """The settings of one simulator task (e.g. 'lift'): on a small CPU, at GPU scale, and for the demo."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: TrainingPreset | None = None
    gpu: TrainingPreset | None = None
    demo: TrainingPreset | None = Field(None, description="A few CPU minutes on the task's embedded sample: "
                                                          "what `policyzoo demo` trains.")
    note: str = Field("", description="Why a scale has no settings, e.g. a backbone that must be downloaded.")

    def at(self, scale: Literal["cpu", "gpu"]) -> TrainingPreset | None:
        return self.cpu if scale == "cpu" else self.gpu


Goal = Literal["production", "research", "limited-data", "contact-rich", "long-horizon"]
GOALS: tuple[str, ...] = typing.get_args(Goal)
"""The goals `policyzoo recommend --goal=...` ranks for; a card scores itself on each in `PolicyCard.goals`."""


class GoalFit(BaseModel):
    """How well a policy fits one goal of `policyzoo recommend` (0-5 points), and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    score: int = Field(ge=0, le=5, description="0: a poor fit ... 5: the best fit there is.")
    reason: str = Field(min_length=1, description="One line a user reads beside the points.")
    sources: tuple[str, ...] = Field((), description="The guide, a paper or a measurement that backs the reason.")


class TrainingIndicator(BaseModel):
    """What a healthy training loss of this policy looks like: the end-of-training summary compares with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: float | None = Field(None, description="The loss at the start of a typical run, if known.")
    goal: float | None = Field(None, description="The loss a well-trained run gets below; None: no figure.")
    note: str = Field(min_length=1, description="Where the figures come from, or how to judge the run instead.")

    @model_validator(mode="after")
    def _goal_below_start(self) -> TrainingIndicator:
        if self.start is not None and self.goal is not None and not self.goal < self.start:
            raise ValueError(f"goal ({self.goal}) must be below start ({self.start})")
        return self


ClaimKind = Literal["inference_hz", "control_hz", "chunk_s", "train_memory_gb", "parameters_m", "speedup"]


class PolicyClaim(BaseModel):
    """A published figure about the policy that `policyzoo bench claims` checks against this machine's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
                    description="Unique on the card, e.g. control-hz; the bench reports it as TYPE-ID.")
    text: str = Field(min_length=1, description="The claim as the guide or the paper makes it.")
    kind: ClaimKind = Field(description="What is measured: inference_hz (1 / chunk time), control_hz (actions "
                                        "per second over a chunk), chunk_s, train_memory_gb (low, high), "
                                        "parameters_m, speedup (chunk time of `versus` / ours).")
    value: float | tuple[float, float]
    source: str = Field(min_length=1)
    hardware: str | None = Field(None, description="The GPU the figure was measured on; None: it names none.")
    versus: str | None = Field(None, description="speedup only: the policy type it is faster than.")

    @model_validator(mode="after")
    def _value_fits_kind(self) -> PolicyClaim:
        ranged = isinstance(self.value, tuple)
        if (self.kind == "train_memory_gb") != ranged:
            raise ValueError(f"kind {self.kind}: value must be " + ("(low, high)" if not ranged else "one number"))
        if (self.kind == "speedup") != (self.versus is not None):
            raise ValueError("versus names the policy type of a speedup claim, and only of one")
        return self


class PretrainedBase(BaseModel):
    """A published checkpoint of a policy type that users fine-tune instead of training from scratch."""

    model_config = ConfigDict(extra="forbid")

    repo_id: str = Field(description="Hub repo id, passed as --policy.path.")
    steps: int = Field(gt=0, description="Training steps of a typical fine-tune (the --steps recommend prints).")
    source: str = Field(min_length=1, description="Where the figure comes from.")
    cameras: tuple[str, ...] = Field((), description="The camera keys it was trained with, in order: recommend "
                                                     "maps a dataset's cameras onto them with --rename_map.")


class PolicyCard(BaseModel):
    """What a user needs to choose a policy: the comparison table of the guide, with sources."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    summary: str
    architecture: str
    training: str
    needs_language: bool = False
    needs_reward: bool = False
    cameras: str = Field(description="How many cameras it takes, e.g. 'any number' or 'exactly one'.")
    min_cameras: int = Field(0, ge=0)
    max_cameras: int | None = Field(None, ge=0, description="None: no limit.")
    best_for: list[str]
    not_for: list[str]
    episodes_needed: Source
    train_memory_gb: tuple[float, float] = Field(description="GPU memory to train at batch 8: low, high.")
    train_memory_source: str
    train_steps: int | None = Field(None, gt=0, description="Training steps of a typical full run from scratch: "
                                    "the --steps `policyzoo recommend` suggests (None: train's default).")
    train_steps_source: str = Field("", description="Where train_steps comes from; required with it.")
    pretrained_base: PretrainedBase | None = Field(
        None, description="The checkpoint `policyzoo recommend` fine-tunes from (--policy.path) instead of "
                          "training from scratch.")
    inference_memory: Source
    latency: Source
    parameters: Source
    paper: str = ""
    square_images: bool = Field(False, description="Takes square images only.")
    same_shape_cameras: bool = Field(False, description="All its cameras must give images of one shape.")
    cameras_optional: bool = Field(False, description="A trained policy of this type runs without some of the "
                                                      "cameras it was trained with (it masks them): fine-tuning "
                                                      "on data with fewer cameras drops the others.")
    presets: dict[str, TaskPresets] = Field(
        default_factory=dict, description="Simulator task name (RobotSpec.sim_task) -> training settings.")
    # What the core computes from (it never names a policy itself): a third-party card with these fields is
    # ranked, summarised and benchmarked exactly like a first-party one.
    goals: dict[Goal, GoalFit] = Field(
        default_factory=dict, description="`policyzoo recommend`: the fit for each goal; a goal left out "
                                          "scores 0 points, and the reason says the card is silent.")
    indicator: TrainingIndicator | None = Field(
        None, description="What a healthy loss looks like: the end-of-training summary and loss plot use it.")
    claims: tuple[PolicyClaim, ...] = Field(
        (), description="Published figures `policyzoo bench claims` checks on this machine.")
    deploy_benchmark: bool = Field(
        False, description="`policyzoo bench deploy` drives this policy unless --policy says otherwise: a "
                           "chunking policy that builds at its default size in seconds.")

    @model_validator(mode="after")
    def _unique_claims(self) -> PolicyCard:
        ids = [claim.id for claim in self.claims]
        doubled = sorted({claim_id for claim_id in ids if ids.count(claim_id) > 1})
        if doubled:
            raise ValueError(f"claim ids must be unique on a card: {', '.join(doubled)}")
        if self.train_steps is not None and not self.train_steps_source.strip():
            raise ValueError("train_steps needs train_steps_source: where the figure comes from")
        return self


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
            raise ValueError(f"joint {self.name}: lower limit {self.lower} must be below upper limit {self.upper}")
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
        None, description="Short name of the task its simulator backend sets (e.g. 'lift'), for benchmarks.")

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


class Features(BaseModel):
    """Input and output features of a policy, with shapes; images are channel-first (C, H, W)."""

    model_config = ConfigDict(extra="forbid")

    state: dict[str, tuple[int, ...]] = {}
    visual: dict[str, tuple[int, int, int]] = {}
    action: dict[str, tuple[int, ...]] = {}
    has_reward: bool = False
    has_language: bool = False
    state_names: list[str] | None = None
    action_names: list[str] | None = None
    fps: int | None = None

    @classmethod
    def from_info(cls, info: dict) -> Features:
        """Read the features of a LeRobot dataset from its `meta/info.json` content."""
        state: dict[str, tuple[int, ...]] = {}
        visual: dict[str, tuple[int, int, int]] = {}
        action: dict[str, tuple[int, ...]] = {}
        names: dict[str, list[str] | None] = {}
        for key, feature in info.get("features", {}).items():
            shape = tuple(int(n) for n in feature.get("shape", ()))
            if feature.get("dtype") in ("video", "image"):
                visual[key] = _channel_first(shape, feature.get("names"))
            elif key == ACTION_KEY:
                action[key] = shape
                names[key] = _flat_names(feature.get("names"))
            elif key.startswith("observation."):
                state[key] = shape
                names[key] = _flat_names(feature.get("names"))
        features = info.get("features", {})
        return cls(
            state=state,
            visual=visual,
            action=action,
            has_reward=REWARD_KEY in features,
            has_language="task_index" in features and info.get("total_tasks", 1) > 0,
            state_names=names.get(STATE_KEY),
            action_names=names.get(ACTION_KEY),
            fps=info.get("fps"),
        )

    @property
    def action_dim(self) -> int:
        return sum(shape[0] for shape in self.action.values())

    @property
    def state_dim(self) -> int:
        return sum(shape[0] for shape in self.state.values())


def _channel_first(shape: tuple[int, ...], names: list[str] | None) -> tuple[int, int, int]:
    if names and list(names)[:3] == ["height", "width", "channels"]:
        return (shape[2], shape[0], shape[1])
    if len(shape) == 3 and shape[-1] in (1, 3, 4) and shape[0] not in (1, 3, 4):
        return (shape[2], shape[0], shape[1])
    return (shape[0], shape[1], shape[2])


def _flat_names(names: object) -> list[str] | None:
    if isinstance(names, list):
        return [str(n) for n in names]
    if isinstance(names, dict) and len(names) == 1:
        return [str(n) for n in next(iter(names.values()))]
    return None


def check_compatibility(
    spec: PolicySpec, dataset: Features | None = None, robot: RobotSpec | None = None
) -> list[Mismatch]:
    """Every reason `spec` cannot learn from `dataset` or run on `robot`, all at once."""
    problems: list[Mismatch] = []
    if dataset is not None:
        if not dataset.action:
            problems.append(Mismatch(what="dataset", problem="has no 'action' feature",
                                     fix="record the commanded joint positions as 'action'"))
        problems.extend(spec.check_features(dataset))
    if dataset is not None and robot is not None:
        problems.extend(_robot_mismatches(dataset, robot))
    elif robot is not None:
        problems.extend(spec.check_features(robot.features()))
    return problems


def _robot_mismatches(dataset: Features, robot: RobotSpec) -> list[Mismatch]:
    problems = []
    robot_features = robot.features()
    if dataset.action_dim != robot_features.action_dim:
        problems.append(Mismatch(
            what="action",
            problem=f"the dataset has {dataset.action_dim} action dims, robot '{robot.type}' has "
                    f"{robot_features.action_dim}",
            fix="train on data recorded with this robot, or pick the robot the data came from",
        ))
    if dataset.state and dataset.state_dim != robot_features.state_dim:
        problems.append(Mismatch(
            what="observation.state",
            problem=f"the dataset has {dataset.state_dim} state dims, robot '{robot.type}' has "
                    f"{robot_features.state_dim}",
            fix="train on data recorded with this robot",
        ))
    for key, shape in dataset.visual.items():
        if key not in robot_features.visual:
            cameras = ", ".join(c.name for c in robot.cameras) or "none"
            problems.append(Mismatch(
                what=key,
                problem=f"the policy needs camera '{key.removeprefix(IMAGE_PREFIX)}', "
                        f"robot '{robot.type}' has: {cameras}",
                fix="configure a camera with that name on the robot",
            ))
        elif robot_features.visual[key] != shape:
            problems.append(Mismatch(
                what=key,
                problem=f"dataset images are {shape[1]}x{shape[2]}, the robot camera gives "
                        f"{robot_features.visual[key][1]}x{robot_features.visual[key][2]}",
                fix="set the camera's height and width to match the dataset",
            ))
    return problems
