"""Leader devices (teleoperators) that a person moves to drive a robot while recording, as plugins register them
with the `register_teleoperators` hook."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from policyzoo.errors import BadInput, did_you_mean
from policyzoo.spec import RobotSpec

if TYPE_CHECKING:
    import numpy as np


@runtime_checkable
class Teleoperator(Protocol):
    """A connected leader device: `read()` gives joint targets for the robot it drives (its `spec.joints`, in
    that order and those units)."""

    def connect(self) -> None: ...

    def read(self) -> np.ndarray: ...

    def disconnect(self) -> None: ...


@dataclass(frozen=True)
class TeleopEntry:
    type: str
    robot: str
    """The robot type it drives."""
    factory: str
    """'module:object', called with (robot spec, options)."""
    distribution: str


def teleoperators() -> dict[str, TeleopEntry]:
    """Every registered teleoperator type (the first registration of a type wins), asked of the plugins anew."""
    from policyzoo.plugins import PluginInfo, get_plugins

    found: dict[str, TeleopEntry] = {}

    def registrar(info: PluginInfo) -> dict[str, Callable[..., None]]:
        def register(type: str, robot: str, factory: str) -> None:
            found.setdefault(type, TeleopEntry(type, robot, factory, info.distribution))

        return {"register": register}

    get_plugins().call_each("register_teleoperators", registrar)
    return found


def make_teleop(
    teleop_type: str | None, robot_spec: RobotSpec | None, options: dict[str, str]
) -> Teleoperator:
    """The registered `teleop_type` for `robot_spec` (None: the robot it drives), constructed (not connected) with
    its `--teleop.*` options."""
    from policyzoo.registry import get_registry, import_object

    entries = teleoperators()
    if not teleop_type:
        drives = sorted(
            name for name, entry in entries.items() if robot_spec and entry.robot == robot_spec.type
        )
        where = f" to record on the real {robot_spec.type}; leaders for it" if robot_spec else "; installed"
        raise BadInput(f"--teleop.type: required{where}: {', '.join(drives or sorted(entries)) or 'none'}")
    entry = entries.get(teleop_type)
    if entry is None:
        raise BadInput(
            f"--teleop.type={teleop_type}: unknown teleoperator; installed: "
            f"{', '.join(sorted(entries)) or 'none'}." + did_you_mean(teleop_type, entries)
        )
    robot_spec = robot_spec or get_registry().robot(entry.robot).spec
    drives = sorted(name for name, other in entries.items() if other.robot == robot_spec.type)
    if entry.robot != robot_spec.type:
        raise BadInput(
            f"--teleop.type={teleop_type}: drives robot '{entry.robot}', not '{robot_spec.type}'; "
            f"use {' or '.join(drives) or 'a leader made for it'}"
        )
    try:
        factory = import_object(entry.factory)
    except ImportError as exc:
        raise BadInput(
            f"--teleop.type={teleop_type}: its code is not installed ({exc.name or exc}); "
            f"run: pip install --force-reinstall {entry.distribution}"
        ) from None
    return factory(robot_spec, dict(options))
