"""What stands between a policy's output and the robot: finite values, joint limits, bounded steps."""

from __future__ import annotations

import numpy as np

from policyzoo.deploy.errors import UnsafeAction
from policyzoo.specs import RobotSpec


class SafetyFilter:
    """Clip targets to the joint limits of `spec` and to `max_step` away from the previous target."""

    def __init__(self, spec: RobotSpec, max_step: float | None = None) -> None:
        self.names = spec.joint_names
        self.lower = np.array([joint.lower for joint in spec.joints], dtype=np.float64)
        self.upper = np.array([joint.upper for joint in spec.joints], dtype=np.float64)
        self.max_step = max_step

    def __call__(self, action: np.ndarray, previous: np.ndarray) -> np.ndarray:
        """A safe target for this tick; raises UnsafeAction for a wrong shape or a non-finite value."""
        action = np.asarray(action, dtype=np.float64)
        if action.shape != self.lower.shape:
            raise UnsafeAction(f"action has shape {action.shape}, the robot has {self.lower.shape[0]} joints")
        bad = ~np.isfinite(action)
        if bad.any():
            joints = ", ".join(name for name, flag in zip(self.names, bad, strict=True) if flag)
            raise UnsafeAction(f"non-finite action for {joints}")
        safe = np.clip(action, self.lower, self.upper)
        if self.max_step is not None:
            safe = np.clip(safe, previous - self.max_step, previous + self.max_step)
        return safe

    def clip_to_limits(self, state: np.ndarray) -> np.ndarray:
        return np.clip(np.asarray(state, dtype=np.float64), self.lower, self.upper)
