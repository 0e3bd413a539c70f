"""What a robot backend (real or simulated) looks like to policyzoo's record, replay, deploy and eval."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from policyzoo.spec import RobotSpec

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


SIM_INSTALL = "pip install 'policyzoo-so101[sim]'"
SIMULATOR_METHODS = ("reset", "reward", "success")


def make_robot(
    robot_type: str,
    backend: str,
    options: dict[str, str] | None = None,
    *,
    spec: RobotSpec | None = None,
    simulator: bool = False,
    flag: str = "--robot.type",
) -> Any:
    """The one robot factory: the registered `backend` of `robot_type`, constructed (not connected) with
    `spec` (default: the robot's own) and the `--robot.*` `options`.

    `simulator=True` insists on a `SimulatedRobot` (record, replay, eval). A backend whose code cannot be
    imported is one line saying what to install, and `flag` names the flag that chose the robot.
    """
    from policyzoo.errors import BadInput
    from policyzoo.registry import get_registry

    entry = get_registry().robot(robot_type, flag=flag)
    where = f"--env={robot_type}_{backend}" if flag == "--env" else f"--robot.backend={backend}"
    if simulator and backend not in entry.backends:
        raise BadInput(f"{flag}={robot_type}: this robot has no simulator backend")
    factory = load_backend(robot_type, backend, flag)
    if (
        simulator
        and isinstance(factory, type)
        and not all(callable(getattr(factory, name, None)) for name in SIMULATOR_METHODS)
    ):
        raise BadInput(
            f"{where}: the '{robot_type}' backend '{backend}' is not a simulator (it has no "
            f"{', '.join(SIMULATOR_METHODS[:-1])} and {SIMULATOR_METHODS[-1]})"
        )
    robot = factory(spec or entry.spec, dict(options or {}))
    if simulator and not isinstance(robot, SimulatedRobot):
        raise BadInput(
            f"{where}: the '{robot_type}' backend '{backend}' is not a simulator (it has no "
            f"{', '.join(SIMULATOR_METHODS[:-1])} and {SIMULATOR_METHODS[-1]})"
        )
    return robot


def load_backend(robot_type: str, backend: str, flag: str = "--robot.type") -> RobotBackendFactory:
    """The registered `backend` of `robot_type`, imported (not constructed), or one line saying what to install
    (an unknown robot or backend: what there is)."""
    from policyzoo.errors import BadInput
    from policyzoo.registry import get_registry

    entry = get_registry().robot(robot_type, flag=flag)
    try:
        return entry.load_backend(backend)
    except ImportError as exc:
        where = f"--env={robot_type}_{backend}" if flag == "--env" else f"--robot.backend={backend}"
        install = SIM_INSTALL if backend == "sim" else f"pip install --force-reinstall {entry.distribution}"
        what = "the simulator" if backend == "sim" else f"the '{backend}' backend of robot '{robot_type}'"
        raise BadInput(f"{where}: {what} is not installed ({exc.name or exc}); run: {install}") from None
