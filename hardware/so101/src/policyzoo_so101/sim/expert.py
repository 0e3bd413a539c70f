"""Scripted experts for the cube tasks: end-effector waypoints solved with inverse kinematics into joint
targets, interpolated in joint space. They read the cube's true pose from the simulator.

Transfer cube (two arms): the right arm picks the cube, puts it down in the middle and moves clear; the
left arm then picks it up where it actually lies and lifts it. Lift cube (one arm): pick it up and lift.
"""

from __future__ import annotations

import numpy as np

from policyzoo_so101.sim.ik import DOWN, ArmIK
from policyzoo_so101.sim.robot import START, SimSO101

OPEN, CLOSED = 45.0, 0.0
FIXED_JAW_OFFSET = 0.014
"""From the cube's centre to the grasp site along the closing axis: half the cube, a 3 mm margin, less the
fixed pad's offset from the site (the fixed jaw stays put as the gripper closes)."""
Y_AXIS = np.array([0.0, 1.0, 0.0])
Plan = list[tuple[int, np.ndarray]]


class CubeExpert:
    """Call it once per control tick with the latest observation; it returns the next joint targets."""

    def __init__(self, sim: SimSO101, params: dict[str, float] | None = None) -> None:
        self.sim = sim
        self.p = {**DEFAULTS, **(params or {})}
        self.ik = {side: ArmIK(sim.model, side) for side in sim.arms}
        self.tick = 0
        self.plan: dict[str, Plan] = {}
        self.end = int(self.p["t_end"] if len(sim.arms) == 2 else self.p["t_end_lift"])

    def __call__(self, observation: dict) -> np.ndarray:
        if self.tick == 0:
            self._plan_pick()
        if self.tick == int(self.p["t_left"]) and "left" in self.sim.arms:
            self._plan_handover()
        action = np.concatenate([_interpolate(self.plan[side], self.tick) for side in self.sim.arms])
        self.tick += 1
        return action

    @property
    def done(self) -> bool:
        return self.tick >= self.end

    def _plan_pick(self) -> None:
        p = self.p
        cube = self.sim.task_state.cube_position(self.sim.data)
        start = np.array(START)
        q_above = self._joints("right", cube + [0, 0, p["above"]], start, OPEN, grasp=True)
        q_at = self._joints("right", cube + [0, 0, p["grip_dz"]], q_above, OPEN, grasp=True)
        t = {
            name: int(p[name])
            for name in ("t_above", "t_down", "t_close", "t_carry", "t_put", "t_open", "t_away", "t_end")
        }
        pick = [(0, start), (t["t_above"], q_above), (t["t_down"], q_at), (t["t_close"], _grip(q_at, CLOSED))]
        if "left" not in self.sim.arms:
            q_lift = self._joints("right", cube + [0, 0, p["lift"] + p["grip_dz"]], q_at, CLOSED, grasp=True)
            self.plan["right"] = [*pick, (t["t_carry"], q_lift), (self.end, q_lift)]
            return
        middle = np.array([p["middle_x"], p["middle_y"], cube[2]])
        q_carry = self._joints("right", middle + [0, 0, p["carry"]], q_at, CLOSED, grasp=True)
        q_put = self._joints("right", middle + [0, 0, p["grip_dz"] + p["put"]], q_carry, CLOSED, grasp=True)
        q_away = self._joints("right", middle + [p["clear"], 0, p["above"]], q_put, OPEN)
        self.plan["right"] = [
            *pick,
            (t["t_carry"], q_carry),
            (t["t_put"], q_put),
            (t["t_open"], _grip(q_put, OPEN)),
            (t["t_away"], q_away),
            (t["t_end"], q_away),
        ]
        q_wait = self._joints("left", middle + [-p["wait_dx"], 0, p["above"]], start, OPEN)
        self.plan["left"] = [(0, start), (t["t_put"], q_wait)]

    def _plan_handover(self) -> None:
        """Once the right arm is clear: the left arm picks the cube where it lies and lifts it."""
        p = self.p
        cube = self.sim.task_state.cube_position(self.sim.data)
        axis = self.sim.task_state.cube_face_axis(self.sim.data, Y_AXIS)
        q_wait = self.plan["left"][-1][1]
        q_above = self._joints("left", cube + [0, 0, p["above"]], q_wait, OPEN, True, axis)
        q_at = self._joints("left", cube + [0, 0, p["grip_dz"]], q_above, OPEN, True, axis)
        q_lift = self._joints("left", cube + [-p["away"], 0, p["lift"]], q_at, CLOSED, True, axis)
        ticks = np.cumsum([self.tick] + [int(p[name]) for name in ("d_above", "d_down", "d_close", "d_lift")])
        self.plan["left"] += [
            (ticks[0], q_wait),
            (ticks[1], q_above),
            (ticks[2], q_at),
            (ticks[3], _grip(q_at, CLOSED)),
            (ticks[4], q_lift),
        ]

    def _joints(
        self,
        side: str,
        target: np.ndarray,
        seed: np.ndarray,
        gripper: float,
        grasp: bool = False,
        closing_axis: np.ndarray = Y_AXIS,
    ) -> np.ndarray:
        """Joint targets (robot units) of one arm for its grasp site at `target`, fingers down; with `grasp`,
        shifted so that the fixed jaw lands just outside the cube's face."""
        solver = self.ik[side]
        best: tuple[np.ndarray, float] | None = None
        for start in (seed, np.array(START)):
            q, error = solver.solve(target, self._radians(start), DOWN, yaw_axis=closing_axis)
            if grasp:
                closing = solver.data.site_xmat[solver.site].reshape(3, 3)[:, 0]
                q, error = solver.solve(target + FIXED_JAW_OFFSET * closing, q, DOWN, yaw_axis=closing_axis)
            if best is None or error < best[1] - 1e-4:
                best = (q, error)
        joints = self._robot(best[0])
        joints[5] = gripper
        return joints

    def _radians(self, joints: np.ndarray) -> np.ndarray:
        """One arm's joints in robot units -> its five arm joints in radians (the arms share ranges)."""
        return self.sim.units.to_radians(np.resize(joints, len(self.sim.arms) * 6))[:5]

    def _robot(self, radians: np.ndarray) -> np.ndarray:
        full = np.zeros(len(self.sim.arms) * 6)
        full[:5] = radians
        return self.sim.units.to_robot(full)[:6]


def _grip(joints: np.ndarray, gripper: float) -> np.ndarray:
    out = joints.copy()
    out[5] = gripper
    return out


def _interpolate(plan: Plan, tick: int) -> np.ndarray:
    """Smooth-step between the waypoints around `tick`; the last one holds."""
    for (t0, q0), (t1, q1) in zip(plan, plan[1:], strict=False):
        if t0 <= tick < t1:
            s = (tick - t0) / (t1 - t0)
            s = s * s * (3 - 2 * s)
            return q0 + s * (q1 - q0)
    return plan[-1][1].copy()


DEFAULTS = {
    # metres: heights above the cube's centre, offsets in the table plane
    "above": 0.06,
    "grip_dz": 0.012,
    "carry": 0.05,
    "put": 0.003,
    "away": 0.06,
    "lift": 0.06,
    "clear": 0.15,
    "middle_x": 0.0,
    "middle_y": 0.6,
    "wait_dx": 0.05,
    # control ticks (30 per second)
    "t_above": 22,
    "t_down": 36,
    "t_close": 44,
    "t_carry": 66,
    "t_put": 78,
    "t_open": 84,
    "t_away": 96,
    "t_left": 94,
    "d_above": 10,
    "d_down": 12,
    "d_close": 8,
    "d_lift": 20,
    "t_end": 150,
    "t_end_lift": 80,
}
