"""The `--robot.*` options of the real SO101 backends, checked and resolved before anything connects."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyzoo import RobotSpec
from policyzoo.errors import BadInput, did_you_mean

SINGLE_OPTIONS = ("port", "id", "calibration_dir", "max_relative_target", "cameras")
BIMANUAL_OPTIONS = (
    "left_port",
    "right_port",
    "id",
    "left_id",
    "right_id",
    "calibration_dir",
    "max_relative_target",
    "cameras",
)
ROBOT_ONLY_OPTIONS = ("max_relative_target", "cameras")
CAMERAS_EXAMPLE = "{NAME: {type: opencv, index_or_path: 0, width: 640, height: 480, fps: 30}}"


@dataclass(frozen=True)
class ArmOptions:
    prefix: str
    """'' for a single arm, 'left_' / 'right_' for the bimanual robot (as LeRobot prefixes its keys)."""
    port: str
    id: str
    """The calibration file is `<calibration dir>/<id>.json`."""
    port_flag: str


@dataclass(frozen=True)
class RealOptions:
    robot_id: str
    arms: list[ArmOptions]
    calibration_dir: Path | None
    max_relative_target: float | None
    cameras: dict[str, dict[str, Any]]


def is_bimanual(spec: RobotSpec) -> bool:
    return all(joint.name.startswith(("left_", "right_")) for joint in spec.joints)


def parse_options(
    spec: RobotSpec, options: dict[str, str], section: str = "robot", device: str | None = None
) -> RealOptions:
    """The `--robot.*` options of the real `spec`, or with `section="teleop"` those of `device`, its leader
    arms (no cameras, no step limit; the id defaults to `device`)."""
    bimanual = is_bimanual(spec)
    known = BIMANUAL_OPTIONS if bimanual else SINGLE_OPTIONS
    if section != "robot":
        known = tuple(name for name in known if name not in ROBOT_ONLY_OPTIONS)
    robot_id = options.get("id") or device or spec.type
    what = f"the {device}" if device else f"the real {spec.type}"
    for name in options:
        if name not in known:
            hint = did_you_mean(name, known).replace("'", "", 2).replace("mean ", f"mean --{section}.", 1)
            raise BadInput(
                f"--{section}.{name}: {what} takes no such option.{hint} "
                f"Options: {', '.join(f'--{section}.' + k for k in known)}"
            )
    if bimanual:
        arms = [
            ArmOptions(
                f"{side}_",
                _required_port(options, f"{side}_port", what, section),
                options.get(f"{side}_id") or f"{robot_id}_{side}",
                f"--{section}.{side}_port",
            )
            for side in ("left", "right")
        ]
        if arms[0].port == arms[1].port:
            raise BadInput(
                f"--{section}.right_port={arms[1].port}: same port as --{section}.left_port; each arm has its own bus"
            )
    else:
        arms = [ArmOptions("", _required_port(options, "port", what, section), robot_id, f"--{section}.port")]
    directory = options.get("calibration_dir")
    return RealOptions(
        robot_id=robot_id,
        arms=arms,
        calibration_dir=Path(directory).expanduser() if directory else None,
        max_relative_target=_positive(options.get("max_relative_target")),
        cameras=_cameras(options.get("cameras"), spec),
    )


def _required_port(options: dict[str, str], name: str, what: str, section: str) -> str:
    if not options.get(name):
        raise BadInput(
            f"--{section}.{name}: required for {what}, e.g. --{section}.{name}=/dev/ttyACM0 "
            "(find it with lerobot-find-port)"
        )
    return options[name]


def _positive(text: str | None) -> float | None:
    if text is None or text.lower() in ("none", ""):
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not (math.isfinite(value) and value > 0):  # NaN passes `value <= 0` and clips every target to NaN
        raise BadInput(f"--robot.max_relative_target={text}: expected a positive number of degrees (or none)")
    return value


def _cameras(text: str | None, spec: RobotSpec) -> dict[str, dict[str, Any]]:
    if not text:
        return {}
    import yaml

    try:
        cameras = yaml.safe_load(text)
    except yaml.YAMLError:
        cameras = None
    names = [camera.name for camera in spec.cameras]
    if not isinstance(cameras, dict) or not all(
        isinstance(c, dict) and "type" in c for c in cameras.values()
    ):
        raise BadInput(
            f"--robot.cameras: expected a mapping like {CAMERAS_EXAMPLE} (names: {', '.join(names)})"
        )
    for name in cameras:
        if name not in names:
            raise BadInput(
                f"--robot.cameras: {spec.type} has no camera '{name}'; its cameras are "
                f"{', '.join(names) or 'none'}." + did_you_mean(str(name), names)
            )
    return {str(name): dict(config) for name, config in cameras.items()}
