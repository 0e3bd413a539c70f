"""The card of a policy type: what it is (`PolicyCard`), what `policyzoo recommend` and the training summary
judge it by (`Guide`), and what the benchmarks and the demo train and check (`Bench`). Each number with its
source."""

from __future__ import annotations

import typing
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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
    save_freq: int = Field(
        gt=0, description="Steps between its checkpoints; the benchmark evaluates each one."
    )
    flags: dict[str, PresetValue] = Field(
        default_factory=dict,
        description="`policyzoo train` flags of this phase (as --NAME=VALUE, LeRobot's names); "
        "the first phase's flags do not carry over.",
    )


class TrainingPreset(BaseModel):
    """How a plugin trains its policy for one simulator task at one scale: `policyzoo bench success` runs it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    policy: dict[str, PresetValue] = Field(
        default_factory=dict, description="Spec fields (as --policy.NAME=VALUE), e.g. chunk_size."
    )
    steps: int = Field(gt=0, description="Training steps.")
    batch_size: int = Field(gt=0)
    save_freq: int = Field(gt=0, description="Steps between checkpoints; the benchmark evaluates each one.")
    demos: int = Field(50, gt=0, description="Scripted demonstrations to train on.")
    cameras: tuple[str, ...] | None = Field(
        None,
        description="Simulator cameras the demos are recorded with, at the robot's camera size (None: the "
        "robot's own cameras), e.g. ('left_top', 'right_front', 'right_wrist').",
    )
    flags: dict[str, PresetValue] = Field(
        default_factory=dict,
        description="Further `policyzoo train` flags (as --NAME=VALUE, LeRobot's names), "
        "e.g. dataset.image_transforms.enable or scheduler.type.",
    )
    finish: FinishPhase | None = Field(
        None,
        description="A fine-tuning phase after `steps`, from the last checkpoint (None: the run ends there).",
    )
    note: str = Field("", description="Why these settings, and what they were measured to reach.")


class TaskPresets(BaseModel):
    """The settings of one simulator task (e.g. 'lift'): on a small CPU, at GPU scale, and for the demo."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cpu: TrainingPreset | None = None
    gpu: TrainingPreset | None = None
    demo: TrainingPreset | None = Field(
        None, description="A few CPU minutes on the task's embedded sample: what `policyzoo demo` trains."
    )
    note: str = Field("", description="Why a scale has no settings, e.g. a backbone that must be downloaded.")

    def at(self, scale: Literal["cpu", "gpu"]) -> TrainingPreset | None:
        return self.cpu if scale == "cpu" else self.gpu


Goal = Literal["production", "research", "limited-data", "contact-rich", "long-horizon"]
GOALS: tuple[str, ...] = typing.get_args(Goal)
"""The goals `policyzoo recommend --goal=...` ranks for; a card scores itself on each in `Guide.goals`."""


class GoalFit(BaseModel):
    """How well a policy fits one goal of `policyzoo recommend` (0-5 points), and why."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    score: int = Field(ge=0, le=5, description="0: a poor fit ... 5: the best fit there is.")
    reason: str = Field(min_length=1, description="One line a user reads beside the points.")
    sources: tuple[str, ...] = Field(
        (), description="The guide, a paper or a measurement that backs the reason."
    )


class TrainingIndicator(BaseModel):
    """What a healthy training loss of this policy looks like: the end-of-training summary compares with it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: float | None = Field(None, description="The loss at the start of a typical run, if known.")
    goal: float | None = Field(None, description="The loss a well-trained run gets below; None: no figure.")
    note: str = Field(
        min_length=1, description="Where the figures come from, or how to judge the run instead."
    )

    @model_validator(mode="after")
    def _goal_below_start(self) -> TrainingIndicator:
        if self.start is not None and self.goal is not None and not self.goal < self.start:
            raise ValueError(f"goal ({self.goal}) must be below start ({self.start})")
        return self


ClaimKind = Literal["inference_hz", "control_hz", "chunk_s", "train_memory_gb", "parameters_m", "speedup"]


class PolicyClaim(BaseModel):
    """A published figure about the policy that `policyzoo bench claims` checks against this machine's."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(
        pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$",
        description="Unique on the card, e.g. control-hz; the bench reports it as TYPE-ID.",
    )
    text: str = Field(min_length=1, description="The claim as the guide or the paper makes it.")
    kind: ClaimKind = Field(
        description="What is measured: inference_hz (1 / chunk time), control_hz (actions "
        "per second over a chunk), chunk_s, train_memory_gb (low, high), "
        "parameters_m, speedup (chunk time of `versus` / ours)."
    )
    value: float | tuple[float, float]
    source: str = Field(min_length=1)
    hardware: str | None = Field(None, description="The GPU the figure was measured on; None: it names none.")
    versus: str | None = Field(None, description="speedup only: the policy type it is faster than.")

    @model_validator(mode="after")
    def _value_fits_kind(self) -> PolicyClaim:
        ranged = isinstance(self.value, tuple)
        if (self.kind == "train_memory_gb") != ranged:
            raise ValueError(
                f"kind {self.kind}: value must be " + ("(low, high)" if not ranged else "one number")
            )
        if (self.kind == "speedup") != (self.versus is not None):
            raise ValueError("versus names the policy type of a speedup claim, and only of one")
        return self


class PretrainedBase(BaseModel):
    """A published checkpoint of a policy type that users fine-tune instead of training from scratch."""

    model_config = ConfigDict(extra="forbid")

    repo_id: str = Field(description="Hub repo id, passed as --policy.path.")
    steps: int = Field(
        gt=0, description="Training steps of a typical fine-tune (the --steps recommend prints)."
    )
    source: str = Field(min_length=1, description="Where the figure comes from.")
    cameras: tuple[str, ...] = Field(
        (),
        description="The camera keys it was trained with, in order: recommend "
        "maps a dataset's cameras onto them with --rename_map.",
    )


class Guide(BaseModel):
    """The comparison table of the guide, with sources: what `policyzoo recommend` ranks by, `policies show`
    prints and the end-of-training summary compares with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    cameras: str = Field(description="How many cameras it takes, e.g. 'any number' or 'exactly one'.")
    min_cameras: int = Field(0, ge=0)
    max_cameras: int | None = Field(None, ge=0, description="None: no limit.")
    square_images: bool = Field(False, description="Takes square images only.")
    same_shape_cameras: bool = Field(False, description="All its cameras must give images of one shape.")
    best_for: list[str]
    not_for: list[str]
    episodes_needed: Source
    train_memory_gb: tuple[float, float] = Field(description="GPU memory to train at batch 8: low, high.")
    train_memory_source: str
    train_steps: int | None = Field(
        None,
        gt=0,
        description="Training steps of a typical full run from scratch: "
        "the --steps `policyzoo recommend` suggests (None: train's default).",
    )
    train_steps_source: str = Field("", description="Where train_steps comes from; required with it.")
    pretrained_base: PretrainedBase | None = Field(
        None,
        description="The checkpoint `policyzoo recommend` fine-tunes from (--policy.path) instead of "
        "training from scratch.",
    )
    inference_memory: Source
    latency: Source
    parameters: Source
    goals: dict[Goal, GoalFit] = Field(
        default_factory=dict,
        description="`policyzoo recommend`: the fit for each goal; a goal left out "
        "scores 0 points, and the reason says the card is silent.",
    )
    indicator: TrainingIndicator | None = Field(
        None, description="What a healthy loss looks like: the end-of-training summary and loss plot use it."
    )

    @model_validator(mode="after")
    def _steps_have_a_source(self) -> Guide:
        if self.train_steps is not None and not self.train_steps_source.strip():
            raise ValueError("train_steps needs train_steps_source: where the figure comes from")
        return self


class Bench(BaseModel):
    """What the benchmarks (`policyzoo bench ...`) and `policyzoo demo` train and check for this policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    presets: dict[str, TaskPresets] = Field(
        default_factory=dict, description="Simulator task name (RobotSpec.sim_task) -> training settings."
    )
    claims: tuple[PolicyClaim, ...] = Field(
        (), description="Published figures `policyzoo bench claims` checks on this machine."
    )
    deploy: bool = Field(
        False,
        description="`policyzoo bench deploy` drives this policy unless --policy says otherwise: a "
        "chunking policy that builds at its default size in seconds.",
    )

    @model_validator(mode="after")
    def _unique_claims(self) -> Bench:
        ids = [claim.id for claim in self.claims]
        doubled = sorted({claim_id for claim_id in ids if ids.count(claim_id) > 1})
        if doubled:
            raise ValueError(f"claim ids must be unique on a card: {', '.join(doubled)}")
        return self


class PolicyCard(BaseModel):
    """What a policy type is; only `title`, `summary` and `architecture` are required. The core knows a policy
    by its card alone (it never names one itself): a third-party card is ranked, summarised and benchmarked
    exactly like a first-party one, and one without `guide` or `bench` is listed and left out of those."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str
    summary: str = Field(description="One line: `policies list` prints it.")
    architecture: str
    training: str = Field("", description="How it learns, e.g. 'imitation learning: L1 action loss'.")
    paper: str = ""
    needs_language: bool = False
    needs_reward: bool = False
    cameras_optional: bool = Field(
        False,
        description="A trained policy of this type runs without some of the "
        "cameras it was trained with (it masks them): fine-tuning "
        "on data with fewer cameras drops the others.",
    )
    guide: Guide | None = Field(None, description="None: `policyzoo recommend` leaves it unranked.")
    bench: Bench | None = Field(None, description="None: the benchmarks and the demo leave it out.")
