"""The cube tasks: with two arms, the right arm picks up the red cube and hands it to the left arm
(transfer cube); with one arm, the arm picks it up and lifts it."""

from __future__ import annotations

import mujoco
import numpy as np

from policyzoo_so101.sim.scene import ARM_BODY, CUBE_BODY, CUBE_GEOM, TABLE_GEOM

CUBE_X = (0.04, 0.12)
CUBE_Y = (0.54, 0.64)
CUBE_Z = 0.02
"""Resting on the table (the cube is 4 cm)."""


LIFT_Z = 0.05
"""Cube centre height (m) that counts as lifted for the one-arm task."""


class CubeTask:
    """Cube placement, and the task's stage from contacts; the last stage is success.

    Two arms (transfer cube, 4 stages): 1 the right gripper grips the cube; 2 ... and has lifted it off the
    table; 3 the left gripper grips it too, off the table; 4 only the left gripper holds it, off the table.
    One arm (lift cube, 2 stages): 1 the gripper grips the cube; 2 ... and holds it up off the table.
    """

    def __init__(self, model: mujoco.MjModel, arms: tuple[str, ...]) -> None:
        self.arms = arms
        self.bimanual = len(arms) == 2
        self.stages = 4 if self.bimanual else 2
        self.max_steps = 300 if self.bimanual else 160
        """Control ticks an evaluation episode may take: twice the scripted expert's episode."""
        self.description = (
            "Pick up the red cube with the right arm and hand it over to the left arm."
            if self.bimanual
            else "Pick up the red cube and lift it."
        )
        self.cube_joint = model.body(CUBE_BODY).jntadr[0]
        self.cube_qpos = model.jnt_qposadr[self.cube_joint]
        self.cube = model.geom(CUBE_GEOM).id
        self.table = model.geom(TABLE_GEOM).id
        self.jaws = {
            side: (
                _geoms(model, f"{ARM_BODY[side]}/Fixed_Jaw"),
                _geoms(model, f"{ARM_BODY[side]}/Moving_Jaw"),
            )
            for side in arms
        }

    def place_cube(self, data: mujoco.MjData, rng: np.random.Generator) -> np.ndarray:
        position = np.array([rng.uniform(*CUBE_X), rng.uniform(*CUBE_Y), CUBE_Z])
        data.qpos[self.cube_qpos : self.cube_qpos + 7] = [*position, 1.0, 0.0, 0.0, 0.0]
        return position

    def cube_position(self, data: mujoco.MjData) -> np.ndarray:
        return data.qpos[self.cube_qpos : self.cube_qpos + 3].copy()

    def cube_face_axis(self, data: mujoco.MjData, near: np.ndarray) -> np.ndarray:
        """The horizontal axis through two of the cube's faces that is closest to `near`."""
        rotation = np.zeros(9)
        mujoco.mju_quat2Mat(rotation, data.qpos[self.cube_qpos + 3 : self.cube_qpos + 7])
        axes = rotation.reshape(3, 3).T[:2].copy()
        axes[:, 2] = 0.0
        best = max(axes, key=lambda axis: abs(axis @ near) / (np.linalg.norm(axis) + 1e-9))
        return best / np.linalg.norm(best)

    def stage(self, data: mujoco.MjData) -> int:
        touching = self._cube_contacts(data)
        on_table = self.table in touching
        right = self._grips("right", touching)
        if not self.bimanual:
            lifted = not on_table and self.cube_position(data)[2] > LIFT_Z
            return (2 if lifted else 1) if right else 0
        left = self._grips("left", touching)
        right_touch = bool(touching & (self.jaws["right"][0] | self.jaws["right"][1]))
        if left and not on_table:
            return 4 if not right_touch else 3
        if right:
            return 1 if on_table else 2
        return 0

    def _grips(self, side: str, touching: set[int]) -> bool:
        fixed, moving = self.jaws[side]
        return bool(touching & fixed) and bool(touching & moving)

    def _cube_contacts(self, data: mujoco.MjData) -> set[int]:
        found = set()
        for contact in data.contact[: data.ncon]:
            if contact.geom1 == self.cube:
                found.add(int(contact.geom2))
            elif contact.geom2 == self.cube:
                found.add(int(contact.geom1))
        return found


def _geoms(model: mujoco.MjModel, body_name: str) -> set[int]:
    body = model.body(body_name).id
    return {
        geom for geom in range(model.ngeom) if model.geom_bodyid[geom] == body and model.geom_contype[geom]
    }
