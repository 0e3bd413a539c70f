"""What a robot backend (real or simulated) looks like to policyzoo's record, replay, deploy and eval."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from policyzoo.specs import RobotSpec

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class RobotBackend(Protocol):
    """One connected robot. Joint values are in the units of `spec.joints`, in that order.

    `observe()` returns LeRobot-style keys: `observation.state` (float32 array, one value per joint)
    and `observation.images.NAME` (uint8 array, H x W x 3) for every camera in `spec.cameras`.
    """

    spec: RobotSpec

    def connect(self) -> None: ...

    def observe(self) -> dict[str, Any]: ...

    def act(self, action: np.ndarray) -> None:
        """Command joint targets (one per joint, robot units); the backend enforces its own limits."""

    def disconnect(self) -> None:
        """Stop and release the robot; real backends disable torque here."""


@runtime_checkable
class SimulatedRobot(RobotBackend, Protocol):
    """A simulator backend: resettable, with a task, a reward and a success signal."""

    task: str

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        """Start a new episode and return its first observation."""

    def reward(self) -> float: ...

    def success(self) -> bool: ...


@runtime_checkable
class StagedTask(Protocol):
    """Optional for a simulator: its task has `stages` steps (the last one is success); `stage()` is the
    present one. Evaluation reports the highest stage each episode reached."""

    stages: int

    def stage(self) -> int: ...


class RobotBackendFactory(Protocol):
    """What a registered backend path ('module:object') points at."""

    def __call__(self, spec: RobotSpec, options: dict[str, str]) -> RobotBackend: ...


@runtime_checkable
class CapturingRobot(RobotBackend, Protocol):
    """A backend whose observations are expensive to build (e.g. rendered): optional, used by async deploy."""

    def capture(self) -> Callable[[], dict[str, Any]]:
        """Freeze the robot's present state, cheaply, in the control thread; the returned function builds the
        observation of that instant as `observe()` would, and may run in another thread."""
