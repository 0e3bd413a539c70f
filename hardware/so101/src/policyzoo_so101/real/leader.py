"""`LeaderSO101`: the SO101 leader arm, or the bimanual pair, through LeRobot's SO leader teleoperator."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from policyzoo import RobotSpec
from policyzoo_so101.real.backend import (
    calibrate_arms,
    calibration_dir,
    check_sdk,
    lost_arm,
    open_arm,
    require_calibration,
)
from policyzoo_so101.real.options import ArmOptions, RealOptions, parse_options

logger = logging.getLogger(__name__)
LEGACY_CALIBRATION_DIRS = ("so101_leader", "so100_leader")
"""Where LeRobot before 0.4 kept SO101 / SO100 leader calibrations (under calibration/teleoperators/)."""


class LeaderSO101:
    """A `policyzoo_runtime.teleop.Teleoperator` for the follower `spec`: one SO101 leader arm, or two (`left_`, `right_`).

    Positions read in the follower's units (degrees, gripper 0-100), so a reading is a joint target for the
    follower. The motors' torque stays off: a person moves the arm. Calibration files are LeRobot's, where
    `lerobot-calibrate --teleop.type=so101_leader` keeps them.
    """

    def __init__(self, spec: RobotSpec, options: dict[str, str]) -> None:
        self.spec = spec
        self.type = f"{spec.type}_leader"
        self.options: RealOptions = parse_options(spec, dict(options), section="teleop", device=self.type)
        self._flags = dict(options)
        self._arms: list[tuple[ArmOptions, Any]] = []

    def connect(self) -> None:
        """Open each arm's bus (torque off) with its calibration; the arms that opened are closed on failure."""
        self._build()
        require_calibration(self._arms, "leader arm", f"--teleop.type={self.type}", "teleop", self._flags)
        try:
            for arm, leader in self._arms:
                open_arm(arm, leader)
                if not leader.is_calibrated:  # the motors lost (or never had) the file's calibration
                    leader.bus.write_calibration(leader.calibration)
        except BaseException:
            self.disconnect()
            raise

    def read(self) -> np.ndarray:
        values: dict[str, float] = {}
        for arm, leader in self._arms:
            try:
                reading = leader.get_action()
            except OSError as exc:
                raise ConnectionError(lost_arm(arm, exc)) from exc
            values.update({arm.prefix + key: value for key, value in reading.items()})
        return np.array([values[name] for name in self.spec.joint_names], dtype=np.float32)

    def disconnect(self) -> None:
        for arm, leader in self._arms:
            if leader.bus.is_connected:
                try:
                    leader.disconnect()
                except Exception as exc:
                    logger.warning("could not close the leader arm on %s (%s): %s", arm.port, arm.id, exc)

    def calibrate(self) -> list[Path]:
        """LeRobot's interactive calibration of each leader arm; returns the calibration files written or reused."""
        self._build()
        return calibrate_arms(self._arms, "leader arm")

    def _build(self) -> None:
        if self._arms:
            return
        check_sdk(f"--teleop.type={self.type}")
        from lerobot.teleoperators.so_leader import SOLeader, SOLeaderTeleopConfig
        from lerobot.utils import constants

        def leader(arm: ArmOptions) -> Any:
            folder = self.options.calibration_dir or calibration_dir(
                arm.id, constants.TELEOPERATORS, SOLeader.name, LEGACY_CALIBRATION_DIRS
            )
            return SOLeader(
                SOLeaderTeleopConfig(id=arm.id, calibration_dir=folder, port=arm.port, use_degrees=True)
            )

        self._arms = [(arm, leader(arm)) for arm in self.options.arms]
