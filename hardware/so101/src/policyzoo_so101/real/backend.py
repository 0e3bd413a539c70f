"""`RealSO101`: one SO101 arm or the bimanual pair, through LeRobot's SO follower robots and Feetech bus."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

import numpy as np

from policyzoo import CameraSpec, RobotSpec
from policyzoo.errors import BadInput
from policyzoo.features import STATE_KEY
from policyzoo_so101.real.options import ArmOptions, RealOptions, parse_options

logger = logging.getLogger(__name__)
LEGACY_CALIBRATION_DIRS = ("so101_follower", "so100_follower")
"""Where LeRobot before 0.4 kept SO101 / SO100 follower calibrations (under calibration/robots/)."""


class RealSO101:
    """A `policyzoo_runtime.robot.RobotBackend` for real SO101 arms.

    One arm is LeRobot's `so101_follower`; two are its `bi_so_follower` (keys `left_...`, `right_...`).
    Joints read and move in degrees (`use_degrees=True`), the gripper in 0-100. Calibration files are
    LeRobot's, in the folder LeRobot uses, so arms calibrated with `lerobot-calibrate` are reused.
    Torque is disabled on disconnect. Cameras (`--robot.cameras`) are named as in the robot spec.
    """

    def __init__(self, spec: RobotSpec, options: dict[str, str]) -> None:
        self.options: RealOptions = parse_options(spec, dict(options))
        self.spec = spec.model_copy(
            update={
                "cameras": [
                    _camera_spec(camera, self.options.cameras[camera.name])
                    for camera in spec.cameras
                    if camera.name in self.options.cameras
                ]
            }
        )
        self._flags = {
            name: value for name, value in options.items() if name not in ("cameras", "max_relative_target")
        }
        self._arms: list[tuple[ArmOptions, Any]] = []
        self._cameras: dict[str, Any] = {}

    # RobotBackend
    def connect(self) -> None:
        """Open each arm's bus, load its calibration into the motors, enable torque, start the cameras."""
        self._build()
        require_calibration(self._arms, "arm", f"--robot.type={self.spec.type}", "robot", self._flags)
        try:
            for arm, follower in self._arms:
                open_arm(arm, follower)
                if not follower.is_calibrated:  # the motors lost (or never had) the file's calibration
                    with follower.bus.torque_disabled():
                        follower.bus.write_calibration(follower.calibration)
            for camera in self._cameras.values():
                camera.connect()
        except BaseException:  # including Ctrl-C: no arm stays powered after a failed connect
            self.disconnect()
            raise

    def observe(self) -> dict[str, Any]:
        values: dict[str, float] = {}
        for arm, follower in self._arms:
            try:
                reading = follower.get_observation()
            except OSError as exc:
                raise ConnectionError(lost_arm(arm, exc)) from exc
            values.update({arm.prefix + key: value for key, value in reading.items()})
        observation: dict[str, Any] = {
            STATE_KEY: np.array([values[name] for name in self.spec.joint_names], dtype=np.float32)
        }
        for camera in self.spec.cameras:
            observation[camera.key] = self._cameras[camera.name].read_latest()
        return observation

    def act(self, action: np.ndarray) -> None:
        """Send joint targets, clipped to the spec's limits; non-finite targets are refused."""
        action = np.asarray(action, dtype=np.float64)
        if action.shape != (len(self.spec.joints),) or not np.all(np.isfinite(action)):
            raise ValueError(f"expected {len(self.spec.joints)} finite joint targets, got {action.tolist()}")
        low = np.array([joint.lower for joint in self.spec.joints])
        high = np.array([joint.upper for joint in self.spec.joints])
        targets = dict(zip(self.spec.joint_names, np.clip(action, low, high).tolist(), strict=True))
        for arm, follower in self._arms:
            goal = {
                key.removeprefix(arm.prefix): value
                for key, value in targets.items()
                if key.startswith(arm.prefix)
            }
            try:
                follower.send_action(goal)
            except OSError as exc:
                raise ConnectionError(lost_arm(arm, exc)) from exc

    def disconnect(self) -> None:
        """Disable torque and close every bus and camera; one failing arm does not keep the other on."""
        for arm, follower in self._arms:
            if follower.bus.is_connected:
                try:
                    follower.disconnect()
                except Exception as exc:
                    logger.warning("could not disable torque on %s (%s): %s", arm.port, arm.id, exc)
        for camera in self._cameras.values():
            if camera.is_connected:
                camera.disconnect()

    def calibrate(self) -> list[Path]:
        """LeRobot's interactive calibration of each arm; returns the calibration files written or reused."""
        self._build()
        return calibrate_arms(self._arms, "arm")

    def calibration_files(self) -> list[Path]:
        """Where each arm's calibration is read from (and written to)."""
        directory = self.options.calibration_dir
        return [(directory or _calibration_dir(arm.id)) / f"{arm.id}.json" for arm in self.options.arms]

    def _build(self) -> None:
        if self._arms:
            return
        check_sdk("--robot.backend=real")
        self._arms = _followers(self.options)
        self._cameras = _cameras(self.options, self.spec)


def calibrate_arms(arms: list[tuple[ArmOptions, Any]], what: str) -> list[Path]:
    """LeRobot's interactive calibration of each arm (follower or leader); the calibration files written or reused."""
    written = []
    for arm, device in arms:
        print(f"calibrating {arm.prefix.rstrip('_') or 'the'} {what} '{arm.id}' on {arm.port}")
        open_arm(arm, device)
        try:
            device.calibrate()
        finally:
            device.disconnect()
        written.append(device.calibration_fpath)
    return written


def require_calibration(
    arms: list[tuple[ArmOptions, Any]], what: str, type_flag: str, section: str, flags: dict[str, str]
) -> None:
    """BadInput naming the `policyzoo calibrate` line for the first arm without a calibration file."""
    for arm, device in arms:
        if not device.calibration:
            raise BadInput(
                f"{arm.port_flag}={arm.port}: no calibration for {what} '{arm.id}' in {device.calibration_dir}; "
                f"run: policyzoo calibrate {type_flag} "
                + " ".join(f"--{section}.{name}={value}" for name, value in flags.items())
            )


def open_arm(arm: ArmOptions, device: Any) -> None:
    """Connect one LeRobot SO arm (follower or leader) without calibrating; its port or motor problem in one line."""
    try:
        device.connect(calibrate=False)
    except ConnectionError as exc:
        missing = "could not open port" in str(exc.__cause__ or exc)
        problem = "not found" if missing else f"does not answer ({_first_line(exc)})"
        raise BadInput(f"port {arm.port} {problem}: plug the arm in or pass {arm.port_flag}=...") from None
    except RuntimeError as exc:  # LeRobot's motor check: missing ids or wrong models
        found = re.findall(r"^\s*-\s*(\d+)", str(exc).split("Motors with incorrect")[0], re.MULTILINE)
        detail = f"no answer from motor ids {', '.join(found)}" if found else _first_line(exc)
        raise BadInput(
            f"port {arm.port} ({arm.id}): {detail}; is the arm powered, and were its motors set up "
            "with lerobot-setup-motors?"
        ) from None


def check_sdk(flag: str) -> None:
    try:
        import scservo_sdk  # noqa: F401
    except ImportError:
        raise BadInput(f"{flag} needs the Feetech SDK: pip install 'policyzoo-so101[real]'") from None


def _followers(options: RealOptions) -> list[tuple[ArmOptions, Any]]:
    from lerobot.robots.bi_so_follower import BiSOFollower, BiSOFollowerConfig
    from lerobot.robots.so_follower import SO101Follower, SOFollowerConfig, SOFollowerRobotConfig

    def config(arm: ArmOptions) -> SOFollowerRobotConfig:
        return SOFollowerRobotConfig(
            id=arm.id,
            port=arm.port,
            calibration_dir=options.calibration_dir or _calibration_dir(arm.id),
            use_degrees=True,
            max_relative_target=options.max_relative_target,
            disable_torque_on_disconnect=True,
        )

    if len(options.arms) == 1:
        return [(options.arms[0], SO101Follower(config(options.arms[0])))]
    left, right = options.arms
    arm_config = {
        side.prefix: SOFollowerConfig(
            port=side.port, use_degrees=True, max_relative_target=options.max_relative_target
        )
        for side in options.arms
    }
    robot = BiSOFollower(
        BiSOFollowerConfig(
            id=options.robot_id,
            calibration_dir=options.calibration_dir or _calibration_dir(left.id),
            left_arm_config=arm_config["left_"],
            right_arm_config=arm_config["right_"],
        )
    )
    arms = []
    for arm, follower in ((left, robot.left_arm), (right, robot.right_arm)):
        # bi_so_follower names its arms `<id>_left` / `<id>_right`; --robot.left_id / right_id pick other files,
        # and a calibration kept by an older LeRobot is picked up from its folder.
        if follower.id != arm.id or follower.calibration_fpath.parent != config(arm).calibration_dir:
            follower = SO101Follower(config(arm))
        arms.append((arm, follower))
    return arms


def _calibration_dir(arm_id: str) -> Path:
    from lerobot.robots.so_follower import SO101Follower
    from lerobot.utils import constants

    return calibration_dir(arm_id, constants.ROBOTS, SO101Follower.name, LEGACY_CALIBRATION_DIRS)


def calibration_dir(arm_id: str, kind: str, folder: str, legacy: tuple[str, ...]) -> Path:
    """LeRobot's calibration folder `<calibration root>/<kind>/<folder>`, or an older LeRobot's (`legacy`) when
    only that one has `arm_id`."""
    from lerobot.utils import constants

    devices = constants.HF_LEROBOT_CALIBRATION / kind
    current = devices / folder
    if not (current / f"{arm_id}.json").is_file():
        for name in legacy:
            if (devices / name / f"{arm_id}.json").is_file():
                return devices / name
    return current


def _camera_spec(camera: CameraSpec, config: dict[str, Any]) -> CameraSpec:
    return CameraSpec(
        name=camera.name,
        height=int(config.get("height", camera.height)),
        width=int(config.get("width", camera.width)),
        fps=int(config.get("fps", camera.fps)),
    )


def _cameras(options: RealOptions, spec: RobotSpec) -> dict[str, Any]:
    if not options.cameras:
        return {}
    import draccus
    from lerobot.cameras import CameraConfig
    from lerobot.cameras.opencv import OpenCVCameraConfig  # noqa: F401  (registers the choice)
    from lerobot.cameras.utils import make_cameras_from_configs

    configs = {}
    for camera in spec.cameras:
        fields = {
            "width": camera.width,
            "height": camera.height,
            "fps": camera.fps,
            **options.cameras[camera.name],
        }
        try:
            configs[camera.name] = draccus.decode(CameraConfig, fields)
        except Exception as exc:
            raise BadInput(f"--robot.cameras: camera '{camera.name}': {_first_line(exc)}") from None
    return make_cameras_from_configs(configs)


def lost_arm(arm: ArmOptions, exc: BaseException) -> str:
    return f"lost the arm on {arm.port} ({arm.id}): {_first_line(exc)}; check its USB cable and power"


def _first_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
