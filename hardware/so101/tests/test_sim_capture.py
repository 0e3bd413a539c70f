"""`SimSO101.capture`: the state frozen in the control thread, rendered later in another thread."""

from __future__ import annotations

import threading

import numpy as np

from policyzoo_runtime.robot import CapturingRobot
from policyzoo_so101.sim import SimSO101
from policyzoo_so101.specs import SO101_BIMANUAL


def test_capture_renders_the_instant_it_was_taken_in_another_thread():
    robot = SimSO101(SO101_BIMANUAL, {})
    assert isinstance(robot, CapturingRobot)
    robot.connect()
    try:
        before = robot.observe()
        finish = robot.capture()
        target = before["observation.state"] + np.where(np.arange(12) % 6 == 5, 40.0, 20.0)
        for _ in range(15):
            robot.act(target)
        after = robot.observe()
        assert np.abs(after["observation.state"] - before["observation.state"]).max() > 5  # the arms moved
        rendered = {}
        worker = threading.Thread(target=lambda: rendered.update(finish()))
        worker.start()
        worker.join()
        assert set(rendered) == set(before)
        for key, value in before.items():
            np.testing.assert_array_equal(rendered[key], value)
        assert any(not np.array_equal(after[key], before[key]) for key in after if "images" in key)
    finally:
        robot.disconnect()
