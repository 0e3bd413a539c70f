"""The one place where simulator joint angles (radians) and robot units (degrees, gripper 0-100) meet.

As with LeRobot's calibration, 0 degrees is the middle of each joint's range and the gripper's 0-100
spans its range (0 closed, 100 fully open).
"""

from __future__ import annotations

import numpy as np


class Units:
    """Converts between a model's joint radians and robot units for joints whose ranges are given."""

    def __init__(self, low: np.ndarray, high: np.ndarray, is_gripper: np.ndarray) -> None:
        self.low = np.asarray(low, dtype=float)
        self.high = np.asarray(high, dtype=float)
        self.middle = (self.low + self.high) / 2
        self.is_gripper = np.asarray(is_gripper, dtype=bool)

    def to_robot(self, radians: np.ndarray) -> np.ndarray:
        degrees = np.rad2deg(np.asarray(radians, dtype=float) - self.middle)
        percent = 100.0 * (radians - self.low) / (self.high - self.low)
        return np.where(self.is_gripper, percent, degrees)

    def to_radians(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        from_degrees = self.middle + np.deg2rad(values)
        from_percent = self.low + values / 100.0 * (self.high - self.low)
        return np.where(self.is_gripper, from_percent, from_degrees)
