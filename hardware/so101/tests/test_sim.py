"""The simulator: units and limits, the scripted expert, rendering."""

import numpy as np
import pytest

from policyzoo import CameraSpec
from policyzoo.errors import BadInput
from policyzoo_runtime.robot import SimulatedRobot
from policyzoo_so101.sim import SimSO101
from policyzoo_so101.specs import SO101, SO101_BIMANUAL


@pytest.fixture(scope="module")
def sim():
    robot = SimSO101(SO101_BIMANUAL, {})
    yield robot
    robot.disconnect()


def test_is_a_simulated_robot_with_the_spec_cameras(sim):
    assert isinstance(sim, SimulatedRobot)
    observation = sim.reset(seed=3)
    assert observation["observation.state"].dtype == np.float32
    assert observation["observation.state"].shape == (12,)
    for camera in SO101_BIMANUAL.cameras:
        image = observation[camera.key]
        assert image.shape == (camera.height, camera.width, 3) and image.dtype == np.uint8
        assert image.std() > 5  # a rendered scene, not a blank frame


def test_units_round_trip_and_limits_inside_the_model(sim):
    values = np.array([10.0, -20.0, 30.0, -40.0, 50.0, 25.0] * 2)
    assert np.allclose(sim.units.to_robot(sim.units.to_radians(values)), values)
    low, high = sim.units.to_robot(sim.units.low), sim.units.to_robot(sim.units.high)
    for index, joint in enumerate(SO101_BIMANUAL.joints):
        assert low[index] <= joint.lower + 0.1 and joint.upper - 0.1 <= high[index], joint.name


def test_commands_are_clipped_and_non_finite_refused(sim):
    sim.reset(seed=0)
    target = np.array([500.0, 0, 0, 0, 0, 150.0] * 2)
    for _ in range(60):
        sim.act(target)
    state = sim.joint_positions()
    assert state[0] <= SO101_BIMANUAL.joints[0].upper + 1.0
    assert state[5] <= 100.5
    with pytest.raises(ValueError):
        sim.act(np.full(12, np.nan))


def test_scripted_expert_succeeds(sim):
    results = []
    for seed in range(3):
        observation = sim.reset(seed=seed)
        expert = sim.expert()
        rewards = []
        while not expert.done:
            sim.act(expert(observation))
            rewards.append(sim.reward())
            observation = {}
        results.append(sim.success())
        assert max(rewards) == 1.0 and 0.0 < np.mean(rewards) < 1.0
    assert all(results)


def test_single_arm_lifts_the_cube_and_has_a_wrist_camera():
    robot = SimSO101(SO101, {})
    try:
        observation = robot.reset(seed=1)
        assert robot.task == "Pick up the red cube and lift it."
        assert observation["observation.images.wrist"].std() > 5
        for seed in range(2):
            observation = robot.reset(seed=seed)
            expert = robot.expert()
            while not expert.done:
                robot.act(expert(observation))
            assert robot.success() and robot.reward() == 1.0
    finally:
        robot.disconnect()


@pytest.mark.parametrize(
    "update, flag",
    [
        ({"cameras": [CameraSpec(name="ceiling", height=8, width=8)]}, "'ceiling'"),
        ({"joints": SO101_BIMANUAL.joints[:5]}, "--robot.type"),
    ],
)
def test_unsupported_specs_are_bad_input(update, flag):
    with pytest.raises(BadInput, match=flag):
        SimSO101(SO101_BIMANUAL.model_copy(update=update), {})


def test_a_wrist_camera_of_a_missing_arm_is_bad_input():
    spec = SO101.model_copy(update={"cameras": [CameraSpec(name="left_wrist", height=8, width=8)]})
    with pytest.raises(BadInput, match="left_wrist"):
        SimSO101(spec, {})


def test_renders_without_mujoco_gl_set_by_the_user():
    import os
    import subprocess
    import sys

    probe = (
        "from policyzoo_so101.sim import SimSO101\n"
        "from policyzoo_so101.specs import SO101_BIMANUAL\n"
        "robot = SimSO101(SO101_BIMANUAL, {})\n"
        "robot.reset(seed=0)\n"
        "image = robot.observe()[SO101_BIMANUAL.cameras[0].key]\n"
        "print(image.shape, int(image.max()) > 0)"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("MUJOCO_GL", "PYOPENGL_PLATFORM")}
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("True")
