"""Test set-up of the SO101 plugin, and a real bimanual rig on fake buses."""

import json
import os
from types import SimpleNamespace

import numpy as np
import pytest

os.environ.setdefault("MUJOCO_GL", "egl")
os.environ.setdefault("HF_HUB_OFFLINE", "1")


# -- a real bimanual rig on fake buses: follower arms, leader arms a script moves, cameras, keys -----------


FOLLOWER_PORTS = {"left": "/dev/fake-follower-left", "right": "/dev/fake-follower-right"}
LEADER_PORTS = {"left": "/dev/fake-leader-left", "right": "/dev/fake-leader-right"}
MOTORS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
CAMERA = (24, 32)
"""(height, width) of the fake camera."""


ROBOT_FLAGS = [
    "--robot.type=so101_bimanual",
    "--robot.backend=real",
    f"--robot.left_port={FOLLOWER_PORTS['left']}",
    f"--robot.right_port={FOLLOWER_PORTS['right']}",
    "--robot.id=pair",
    f"--robot.cameras={{left_top: {{type: opencv, index_or_path: 0, width: {CAMERA[1]}, height: {CAMERA[0]}}}}}",
]
TELEOP_FLAGS = [
    "--teleop.type=so101_bimanual_leader",
    f"--teleop.left_port={LEADER_PORTS['left']}",
    f"--teleop.right_port={LEADER_PORTS['right']}",
    "--teleop.id=lead",
]


def _calibration() -> str:
    """The same calibration for every arm, so a leader reading is the follower's target to the step."""
    return json.dumps(
        {
            name: {
                "id": i,
                "drive_mode": 0,
                "homing_offset": 0,
                "range_min": 0 if name == "wrist_roll" else 200,
                "range_max": 4095 if name == "wrist_roll" else 3894,
            }
            for i, name in enumerate(MOTORS, 1)
        }
    )


class FakeCamera:
    """Stands in for LeRobot's OpenCV camera: a frame whose brightness counts the reads."""

    def __init__(self) -> None:
        self.is_connected = False
        self.reads = 0

    def connect(self) -> None:
        self.is_connected = True

    def read_latest(self) -> np.ndarray:
        self.reads += 1
        return np.full((*CAMERA, 3), self.reads % 256, dtype=np.uint8)

    def disconnect(self) -> None:
        self.is_connected = False


def leader_sweep(reading: int) -> list[int]:
    """Where the person holds the leader arms at their n-th reading: every joint a little further each tick."""
    return [1500 + 7 * reading] * 5 + [1000 + 5 * reading]


@pytest.fixture
def rig(tmp_path, monkeypatch):
    """Two calibrated follower arms (id `pair`), two calibrated leader arms (id `lead`) moved by `leader_sweep`,
    a 32x24 camera `left_top`, LeRobot's calibration folder in a temporary place, and `rig.keys(script)` to set
    the keys the operator presses (`policyzoo_runtime.keys.ScriptedKeys`)."""
    from lerobot.utils import constants

    import policyzoo_runtime.keys
    from policyzoo_runtime.keys import ScriptedKeys
    from policyzoo_so101.real import backend
    from policyzoo_so101.real.fake_bus import FakeArm, FakeLeaderArm, fake_feetech_ports

    monkeypatch.setattr(constants, "HF_LEROBOT_CALIBRATION", tmp_path / "calibration")
    for kind, folder, arm_id in (("robots", "so_follower", "pair"), ("teleoperators", "so_leader", "lead")):
        directory = tmp_path / "calibration" / kind / folder
        directory.mkdir(parents=True)
        for side in ("left", "right"):
            (directory / f"{arm_id}_{side}.json").write_text(_calibration())
    cameras: dict[str, FakeCamera] = {}
    monkeypatch.setattr(
        backend,
        "_cameras",
        lambda options, spec: {name: cameras.setdefault(name, FakeCamera()) for name in options.cameras},
    )
    followers = {port: FakeArm() for port in FOLLOWER_PORTS.values()}
    leaders = {port: FakeLeaderArm(leader_sweep) for port in LEADER_PORTS.values()}
    state = SimpleNamespace(keys=None)

    def keys(script) -> ScriptedKeys:
        state.keys = ScriptedKeys(script)
        return state.keys

    monkeypatch.setattr(policyzoo_runtime.keys, "open_keys", lambda: state.keys or keys({}))
    with fake_feetech_ports({**followers, **leaders}):
        yield SimpleNamespace(
            followers=followers,
            leaders=leaders,
            cameras=cameras,
            keys=keys,
            state=state,
            robot_flags=ROBOT_FLAGS,
            teleop_flags=TELEOP_FLAGS,
        )
