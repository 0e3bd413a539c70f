"""Inverse kinematics for one SO-ARM100 arm: damped least squares on MuJoCo's site Jacobian."""

from __future__ import annotations

import mujoco
import numpy as np

from policyzoo_so101.sim.scene import ARM_BODY, MJ_JOINTS

DOWN = np.array([0.0, 0.0, -1.0])


class ArmIK:
    """Joint angles (radians) that put an arm's grasp site at a point with the fingers pointing down."""

    def __init__(self, model: mujoco.MjModel, side: str) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.site = model.site(f"{side}_grasp").id
        joints = [model.joint(f"{ARM_BODY[side]}/{name}") for name in MJ_JOINTS[:5]]
        self.qpos = np.array([joint.qposadr[0] for joint in joints])
        self.dofs = np.array([joint.dofadr[0] for joint in joints])
        self.low = np.array([joint.range[0] for joint in joints])
        self.high = np.array([joint.range[1] for joint in joints])

    def solve(
        self,
        target: np.ndarray,
        seed: np.ndarray,
        pointing: np.ndarray = DOWN,
        yaw_axis: np.ndarray | None = None,
        iterations: int = 200,
        damping: float = 1e-3,
    ) -> tuple[np.ndarray, float]:
        """Arm joints for the site at `target` with the fingers along `pointing` and, when given, closing
        along `yaw_axis` (world); returns (joints, position error in metres)."""
        pointing = np.asarray(pointing, dtype=float) / np.linalg.norm(pointing)
        q = np.clip(np.asarray(seed, dtype=float).copy(), self.low, self.high)
        jac_pos = np.zeros((3, self.model.nv))
        jac_rot = np.zeros((3, self.model.nv))
        for _ in range(iterations):
            self.data.qpos[self.qpos] = q
            mujoco.mj_kinematics(self.model, self.data)
            mujoco.mj_comPos(self.model, self.data)
            frame = self.data.site_xmat[self.site].reshape(3, 3)
            position_error = target - self.data.site_xpos[self.site]
            errors = [position_error, 0.3 * np.cross(-frame[:, 1], pointing)]
            if yaw_axis is not None:  # a parallel gripper closes the same along the axis and its opposite
                sign = 1.0 if frame[:, 0] @ yaw_axis >= 0 else -1.0
                errors.append(0.3 * np.cross(frame[:, 0], sign * yaw_axis))
            error = np.concatenate(errors)
            if np.linalg.norm(position_error) < 1e-4 and np.linalg.norm(error[3:]) < 1e-3:
                break
            mujoco.mj_jacSite(self.model, self.data, jac_pos, jac_rot, self.site)
            rows = [jac_pos[:, self.dofs], 0.3 * jac_rot[:, self.dofs]]
            if yaw_axis is not None:
                rows.append(0.3 * jac_rot[:, self.dofs])
            jac = np.vstack(rows)
            step = jac.T @ np.linalg.solve(jac @ jac.T + damping * np.eye(len(error)), error)
            q = np.clip(q + step, self.low, self.high)
        self.data.qpos[self.qpos] = q
        mujoco.mj_kinematics(self.model, self.data)
        return q, float(np.linalg.norm(target - self.data.site_xpos[self.site]))
