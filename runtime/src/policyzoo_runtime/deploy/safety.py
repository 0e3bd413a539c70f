"""What stands between a policy's output and the robot: finite values, joint limits, bounded steps."""

from __future__ import annotations

import math

import numpy as np

from policyzoo.spec import RobotSpec
from policyzoo_runtime.deploy.errors import UnsafeAction


class SafetyFilter:
    """Clip targets to the joint limits of `spec` and to `max_step` away from the previous target.

    Raises ValueError when a bound is unusable: limits must be finite with lower < upper, `max_step`
    finite and positive (clipping against NaN gives NaN).
    """

    def __init__(self, spec: RobotSpec, max_step: float | None = None) -> None:
        self.names = spec.joint_names
        self.lower = np.array([joint.lower for joint in spec.joints], dtype=np.float64)
        self.upper = np.array([joint.upper for joint in spec.joints], dtype=np.float64)
        bad = ~(np.isfinite(self.lower) & np.isfinite(self.upper) & (self.lower < self.upper))
        if bad.any():
            joints = ", ".join(
                f"{name} [{low}, {high}]"
                for name, low, high, flag in zip(self.names, self.lower, self.upper, bad, strict=True)
                if flag
            )
            raise ValueError(f"robot '{spec.type}': joint limits must be finite with lower < upper: {joints}")
        if max_step is not None and not (math.isfinite(max_step) and max_step > 0):
            raise ValueError(f"max_relative_target must be a finite positive number, got {max_step}")
        self.max_step = max_step

    def __call__(self, action: np.ndarray, previous: np.ndarray | None = None) -> np.ndarray:
        """The target to send for `action` (`previous`: the last target sent, needed with a step limit).

        Raises UnsafeAction for a wrong shape, a non-finite action, or a target that is not finite after
        clipping: what this returns is exactly what may reach the robot.
        """
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.lower.shape:
            raise UnsafeAction(f"action has shape {action.shape}, the robot has {self.lower.shape[0]} joints")
        self._refuse_non_finite(action, "action")
        safe = np.clip(action, self.lower, self.upper)
        if self.max_step is not None:
            if previous is None:
                raise ValueError("a step limit needs the previous target")
            safe = np.clip(safe, previous - self.max_step, previous + self.max_step)
        self._refuse_non_finite(safe, "target after clipping")
        return safe

    def clip_to_limits(self, state: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(state, dtype=np.float64), self.lower, self.upper)

    def _refuse_non_finite(self, values: np.ndarray, what: str) -> None:
        bad = ~np.isfinite(values)
        if bad.any():
            joints = ", ".join(name for name, flag in zip(self.names, bad, strict=True) if flag)
            raise UnsafeAction(f"non-finite {what} for {joints}")
