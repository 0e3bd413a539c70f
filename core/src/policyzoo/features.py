"""What data a policy learns from and a robot gives: the feature keys, `Features`, and `check_compatibility`,
every reason a policy, a dataset and a robot do not fit together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from policyzoo.spec import PolicySpec, RobotSpec

STATE_KEY = "observation.state"
ACTION_KEY = "action"
REWARD_KEY = "next.reward"
IMAGE_PREFIX = "observation.images."


class Mismatch(BaseModel):
    """One reason a policy, a dataset and a robot do not fit together."""

    what: str = Field(description="The policy, flag or feature that does not fit.")
    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.what}: {self.problem} ({self.fix})"


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
            problems.append(
                Mismatch(
                    what="dataset",
                    problem="has no 'action' feature",
                    fix="record the commanded joint positions as 'action'",
                )
            )
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
        problems.append(
            Mismatch(
                what="action",
                problem=f"the dataset has {dataset.action_dim} action dims, robot '{robot.type}' has "
                f"{robot_features.action_dim}",
                fix="train on data recorded with this robot, or pick the robot the data came from",
            )
        )
    if dataset.state and dataset.state_dim != robot_features.state_dim:
        problems.append(
            Mismatch(
                what="observation.state",
                problem=f"the dataset has {dataset.state_dim} state dims, robot '{robot.type}' has "
                f"{robot_features.state_dim}",
                fix="train on data recorded with this robot",
            )
        )
    for key, shape in dataset.visual.items():
        if key not in robot_features.visual:
            cameras = ", ".join(c.name for c in robot.cameras) or "none"
            problems.append(
                Mismatch(
                    what=key,
                    problem=f"the policy needs camera '{key.removeprefix(IMAGE_PREFIX)}', "
                    f"robot '{robot.type}' has: {cameras}",
                    fix="configure a camera with that name on the robot",
                )
            )
        elif robot_features.visual[key] != shape:
            problems.append(
                Mismatch(
                    what=key,
                    problem=f"dataset images are {shape[1]}x{shape[2]}, the robot camera gives "
                    f"{robot_features.visual[key][1]}x{robot_features.visual[key][2]}",
                    fix="set the camera's height and width to match the dataset",
                )
            )
    return problems
