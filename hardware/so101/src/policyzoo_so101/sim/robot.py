"""`SimSO101`: the SO101 in MuJoCo (one arm or two), speaking the real robot's units and camera names."""

from __future__ import annotations

import atexit
import threading
import weakref
from collections.abc import Callable
from typing import Any

import mujoco
import numpy as np

from policyzoo import RobotSpec
from policyzoo.errors import BadInput
from policyzoo.features import STATE_KEY
from policyzoo_so101.sim.scene import ARM_BODY, CAMERAS, MJ_JOINTS, SUBSTEPS, build_scene
from policyzoo_so101.sim.task import CubeTask
from policyzoo_so101.sim.units import Units
from policyzoo_so101.specs import MOTORS, SIDES

START = [0.0, -60.0, 40.0, 60.0, 0.0, 10.0]
"""One arm raised above the table with the gripper nearly closed (robot units)."""
_open_renderers: weakref.WeakSet[mujoco.Renderer] = weakref.WeakSet()
"""Every renderer not yet garbage-collected, whichever thread made it (see `new_renderer`)."""


def arms_of(spec: RobotSpec) -> tuple[str, ...]:
    """The simulated arms a spec drives: both for LeRobot's bimanual names, the right one for one arm."""
    names = [joint.name for joint in spec.joints]
    if names == [f"{side}_{motor}" for side in SIDES for motor in MOTORS]:
        return SIDES
    if names == list(MOTORS):
        return ("right",)
    raise BadInput(
        f"--robot.type={spec.type}: the simulator drives SO101 joints only "
        f"({', '.join(MOTORS)}, optionally prefixed left_/right_)"
    )


class SimSO101:
    """The simulated SO101 with a cube task (a `policyzoo_runtime.robot.SimulatedRobot`): the bimanual robot hands
    the cube from the right arm to the left one, a single arm picks it up and lifts it."""

    def __init__(self, spec: RobotSpec, options: dict[str, str] | None = None) -> None:
        if options:
            raise BadInput(f"--robot.{next(iter(options))}: the simulator takes no such option")
        self.arms = arms_of(spec)
        for camera in spec.cameras:
            parent = CAMERAS.get(camera.name, (None,))[0]
            if camera.name not in CAMERAS or (
                parent is not None and not parent.startswith(tuple(ARM_BODY[side] for side in self.arms))
            ):
                usable = [
                    name
                    for name, (body, *_) in CAMERAS.items()
                    if body is None or body.startswith(tuple(ARM_BODY[side] for side in self.arms))
                ]
                raise BadInput(
                    f"--robot.cameras: the simulator has no camera '{camera.name}' for "
                    f"{spec.type}; it has: {', '.join(usable)}"
                )
        self.spec = spec
        self.model = build_scene(
            {camera.name: (camera.height, camera.width) for camera in spec.cameras}, spec.fps, self.arms
        ).model
        self.data = mujoco.MjData(self.model)
        joints = [self.model.joint(f"{ARM_BODY[side]}/{name}") for side in self.arms for name in MJ_JOINTS]
        self._qpos = np.array([joint.qposadr[0] for joint in joints])
        self._actuators = np.array(
            [
                self.model.actuator(f"{side.capitalize()}_{name}").id
                for side in self.arms
                for name in MJ_JOINTS
            ]
        )
        self.units = Units(
            low=[joint.range[0] for joint in joints],
            high=[joint.range[1] for joint in joints],
            is_gripper=[joint.unit == "percent" for joint in spec.joints],
        )
        self._low = np.array([joint.lower for joint in spec.joints])
        self._high = np.array([joint.upper for joint in spec.joints])
        self.task_state = CubeTask(self.model, self.arms)
        self.task = self.task_state.description
        self.stages = self.task_state.stages
        self.max_episode_steps = self.task_state.max_steps
        self.start = np.array(START * len(self.arms))
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        self._thread_renderers = threading.local()  # for `capture`: GL contexts belong to one thread
        self.reset(seed=0)

    # RobotBackend
    def connect(self) -> None:
        """Nothing to connect: the scene is built in the constructor."""

    def observe(self) -> dict[str, Any]:
        observation: dict[str, Any] = {STATE_KEY: self.joint_positions()}
        for camera in self.spec.cameras:
            renderer = self._renderer(camera.height, camera.width)
            renderer.update_scene(self.data, camera.name)
            observation[camera.key] = renderer.render().copy()
        return observation

    def act(self, action: np.ndarray) -> None:
        """Move to joint targets (robot units), clipped to the joint limits; non-finite targets are refused."""
        action = np.asarray(action, dtype=float)
        if action.shape != (len(self.spec.joints),) or not np.all(np.isfinite(action)):
            raise ValueError(f"expected {len(self.spec.joints)} finite joint targets, got {action!r}")
        self.data.ctrl[self._actuators] = self.units.to_radians(np.clip(action, self._low, self._high))
        mujoco.mj_step(self.model, self.data, nstep=SUBSTEPS)

    def disconnect(self) -> None:
        for renderer in self._renderers.values():
            renderer.close()
        self._renderers.clear()

    def capture(self) -> Callable[[], dict[str, Any]]:
        """Freeze the present state (a copy of the MuJoCo data, well under a millisecond); the returned function
        renders its observation, in any thread, with renderers of that thread (async deploy renders off the
        control loop this way)."""
        frozen = mujoco.MjData(self.model)
        mujoco.mj_copyData(frozen, self.model, self.data)
        observation: dict[str, Any] = {STATE_KEY: self.joint_positions()}

        def render() -> dict[str, Any]:
            renderers = self._thread_renderers.__dict__
            for camera in self.spec.cameras:
                size = (camera.height, camera.width)
                if size not in renderers:
                    renderers[size] = new_renderer(self.model, *size)
                renderers[size].update_scene(frozen, camera.name)
                observation[camera.key] = renderers[size].render().copy()
            return observation

        return render

    # SimulatedRobot
    def reset(self, seed: int | None = None) -> dict[str, Any]:
        mujoco.mj_resetData(self.model, self.data)
        start = self.units.to_radians(self.start)
        self.data.qpos[self._qpos] = start
        self.data.ctrl[self._actuators] = start
        self.task_state.place_cube(self.data, np.random.default_rng(seed))
        mujoco.mj_forward(self.model, self.data)
        return self.observe()

    def reward(self) -> float:
        return self.task_state.stage(self.data) / self.task_state.stages

    def success(self) -> bool:
        return self.stage() == self.stages

    def stage(self) -> int:
        """The task stage reached now (0 to `stages`, see `CubeTask`)."""
        return self.task_state.stage(self.data)

    def expert(self):
        """A scripted expert for this episode: call it with each observation; `.done` ends the episode."""
        from policyzoo_so101.sim.expert import CubeExpert

        return CubeExpert(self)

    # helpers
    def joint_positions(self) -> np.ndarray:
        """Present joint positions in robot units (float32), as `observation.state`."""
        return self.units.to_robot(self.data.qpos[self._qpos]).astype(np.float32)

    def _renderer(self, height: int, width: int) -> mujoco.Renderer:
        if (height, width) not in self._renderers:
            self._renderers[(height, width)] = new_renderer(self.model, height, width)
        return self._renderers[(height, width)]


def new_renderer(model: mujoco.MjModel, height: int, width: int) -> mujoco.Renderer:
    """A renderer that is closed at the latest when the interpreter exits, before MuJoCo ends its EGL display: one
    left to the garbage collector after that prints `Exception ignored ... EGLError` (a command that fails before
    disconnecting, a thread's renderers)."""
    renderer = mujoco.Renderer(model, height, width)
    if (
        not _open_renderers
    ):  # registered after MuJoCo's own exit handler (at its first context): so it runs first
        atexit.unregister(_close_renderers)
        atexit.register(_close_renderers)
    _open_renderers.add(renderer)
    return renderer


def _close_renderers() -> None:
    for renderer in list(_open_renderers):
        renderer.close()
