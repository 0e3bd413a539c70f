"""The real SO101 backend on a fake Feetech bus: LeRobot's FeetechMotorsBus and the Feetech SDK run for real
above an in-memory serial port holding six STS3215 servos per arm."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from policyzoo.errors import BadInput
from policyzoo_so101.real import RealSO101
from policyzoo_so101.real.fake_bus import FakeArm, fake_feetech_ports
from policyzoo_so101.specs import SO101, SO101_BIMANUAL

LEFT, RIGHT = "/dev/fake-left", "/dev/fake-right"
BIMANUAL = {"left_port": LEFT, "right_port": RIGHT, "id": "bench"}


@pytest.fixture
def calibration_home(tmp_path, monkeypatch):
    """LeRobot's calibration root, moved to a temporary folder."""
    from lerobot.utils import constants

    monkeypatch.setattr(constants, "HF_LEROBOT_CALIBRATION", tmp_path / "calibration")
    return tmp_path / "calibration" / "robots" / "so_follower"


@pytest.fixture
def arms():
    arms = {LEFT: FakeArm(), RIGHT: FakeArm()}
    with fake_feetech_ports(arms) as ports:
        yield ports


def sweep_by_hand(monkeypatch, arms: list[FakeArm]) -> None:
    """Stand in for the person calibrating: ENTER at each prompt, each joint moved through its range."""
    import lerobot.motors.motors_bus as motors_bus

    monkeypatch.setattr("builtins.input", lambda prompt="": "")
    shaft_positions = itertools.cycle([248, 3848, None])  # one sweep per arm

    def enter_pressed() -> bool:
        position = next(shaft_positions)
        for arm in arms:
            for servo in arm.servos.values():
                servo.position = 2048 if position is None else position
        return position is None

    monkeypatch.setattr(motors_bus, "enter_pressed", enter_pressed)


def write_calibration(directory, arm_id: str, homing_offset: int = 100) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    motors = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
    calibration = {
        name: {
            "id": i,
            "drive_mode": 0,
            "homing_offset": homing_offset,
            "range_min": 0 if name == "wrist_roll" else 1000,
            "range_max": 4095 if name == "wrist_roll" else 3000,
        }
        for i, name in enumerate(motors, start=1)
    }
    (directory / f"{arm_id}.json").write_text(json.dumps(calibration))


def test_calibrate_then_read_and_move_both_arms(arms, calibration_home, monkeypatch):
    sweep_by_hand(monkeypatch, list(arms.arms.values()))
    robot = RealSO101(SO101_BIMANUAL, BIMANUAL)
    files = robot.calibrate()
    assert files == [calibration_home / "bench_left.json", calibration_home / "bench_right.json"]
    saved = json.loads(files[0].read_text())
    assert saved["shoulder_pan"]["range_min"] == 247 and saved["shoulder_pan"]["range_max"] == 3847
    assert saved["wrist_roll"]["range_min"] == 0 and saved["wrist_roll"]["range_max"] == 4095

    robot = RealSO101(SO101_BIMANUAL, BIMANUAL)
    robot.connect()
    try:
        servos = [servo for arm in arms.arms.values() for servo in arm.servos.values()]
        assert all(servo.torque_enabled for servo in servos)
        state = robot.observe()["observation.state"]
        assert state.shape == (12,) and state.dtype == np.float32
        names = SO101_BIMANUAL.joint_names
        np.testing.assert_allclose(state[names.index("left_shoulder_pan.pos")], 0.0, atol=0.1)
        np.testing.assert_allclose(state[names.index("right_gripper.pos")], 50.0, atol=0.1)

        target = np.array([10, -20, 30, -40, 90, 25, -10, 20, -30, 40, -90, 75], dtype=np.float32)
        robot.act(target)
        np.testing.assert_allclose(robot.observe()["observation.state"], target, atol=0.1)
        robot.act(
            np.full(12, 500.0)
        )  # beyond every limit: clipped to the spec's (inside the calibrated range)
        uppers = [joint.upper for joint in SO101_BIMANUAL.joints]
        np.testing.assert_allclose(robot.observe()["observation.state"], uppers, atol=0.15)
    finally:
        robot.disconnect()
    assert not any(servo.torque_enabled for servo in servos)
    assert all(servo.table[55] == 0 for servo in servos)  # Lock released as LeRobot does


def test_existing_calibration_files_are_reused_without_prompting(arms, calibration_home, monkeypatch):
    write_calibration(calibration_home, "bench_left")
    write_calibration(calibration_home, "bench_right")
    monkeypatch.setattr("builtins.input", lambda prompt="": pytest.fail(f"prompted: {prompt}"))
    robot = RealSO101(SO101_BIMANUAL, BIMANUAL)
    robot.connect()
    try:
        left = arms.arms[LEFT].servos
        assert all(servo.homing_offset == 100 for servo in left.values())  # the file went into the motors
        shaft = left[1].position
        state = robot.observe()["observation.state"]
        expected = (shaft - 100 - 2000) * 360 / 4095  # (present - mid of range) in degrees
        assert state[0] == pytest.approx(expected, abs=1e-3)
    finally:
        robot.disconnect()


def test_older_lerobot_calibration_folder_is_used_when_the_current_one_has_no_file(arms, calibration_home):
    legacy = calibration_home.parent / "so101_follower"
    write_calibration(legacy, "solo", homing_offset=-7)
    robot = RealSO101(SO101, {"port": LEFT, "id": "solo"})
    assert robot.calibration_files() == [legacy / "solo.json"]
    robot.connect()
    try:
        assert arms.arms[LEFT].servos[3].homing_offset == -7
        assert robot.observe()["observation.state"].shape == (6,)
    finally:
        robot.disconnect()


def test_a_missing_port_is_one_clear_line(arms, calibration_home):
    write_calibration(calibration_home, "bench_left")
    write_calibration(calibration_home, "bench_right")
    robot = RealSO101(SO101_BIMANUAL, {**BIMANUAL, "right_port": "/dev/ttyACM0"})
    with pytest.raises(BadInput) as error:
        robot.connect()
    assert str(error.value) == "port /dev/ttyACM0 not found: plug the arm in or pass --robot.right_port=..."
    assert not any(servo.torque_enabled for servo in arms.arms[LEFT].servos.values())


def test_an_unplugged_arm_mid_run_is_reported_with_its_port(arms, calibration_home):
    write_calibration(calibration_home, "bench_left")
    write_calibration(calibration_home, "bench_right")
    robot = RealSO101(SO101_BIMANUAL, BIMANUAL)
    robot.connect()
    arms.unplug(RIGHT)
    with pytest.raises(ConnectionError) as error:
        robot.observe()
    message = str(error.value)
    assert message.startswith(f"lost the arm on {RIGHT} (bench_right): ") and "\n" not in message
    robot.disconnect()  # does not raise; the arm still plugged in is released
    assert not any(servo.torque_enabled for servo in arms.arms[LEFT].servos.values())


def test_no_calibration_says_how_to_make_one(arms, calibration_home):
    with pytest.raises(
        BadInput,
        match=r"no calibration for arm 'bench_left' .* run: policyzoo calibrate "
        r"--robot.type=so101_bimanual --robot.left_port=/dev/fake-left --robot.right_port=/dev/fake-right --robot.id=bench$",
    ):
        RealSO101(SO101_BIMANUAL, BIMANUAL).connect()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"left_port": LEFT}, "--robot.right_port: required for the real so101_bimanual"),
        ({"left_port": LEFT, "right_port": LEFT}, "same port as --robot.left_port"),
        ({**BIMANUAL, "left_prot": "x"}, "Did you mean --robot.left_port?"),
        ({**BIMANUAL, "max_relative_target": "-3"}, "expected a positive number"),
        ({**BIMANUAL, "max_relative_target": "nan"}, "expected a positive number"),
        ({**BIMANUAL, "max_relative_target": "inf"}, "expected a positive number"),
        (
            {**BIMANUAL, "cameras": "{top: {type: opencv}}"},
            "has no camera 'top'; its cameras are left_top, right_front",
        ),
    ],
)
def test_option_mistakes_name_the_flag(options, message):
    with pytest.raises(BadInput, match=message.replace("?", r"\?").replace(".", r"\.")):
        RealSO101(SO101_BIMANUAL, options)


def test_configured_cameras_define_the_robot_spec(calibration_home):
    robot = RealSO101(
        SO101_BIMANUAL,
        {**BIMANUAL, "cameras": "{left_top: {type: opencv, index_or_path: 0, width: 640, height: 480}}"},
    )
    assert [(c.name, c.height, c.width) for c in robot.spec.cameras] == [("left_top", 480, 640)]
    assert RealSO101(SO101_BIMANUAL, BIMANUAL).spec.cameras == []


def test_a_silent_motor_is_named_in_one_line(arms, calibration_home):
    write_calibration(calibration_home, "bench_left")
    write_calibration(calibration_home, "bench_right")
    del arms.arms[RIGHT].servos[6]  # the gripper's cable came loose
    with pytest.raises(BadInput) as error:
        RealSO101(SO101_BIMANUAL, BIMANUAL).connect()
    assert str(error.value) == (
        f"port {RIGHT} (bench_right): no answer from motor ids 6; is the arm powered, and "
        "were its motors set up with lerobot-setup-motors?"
    )
    assert not any(servo.torque_enabled for servo in arms.arms[LEFT].servos.values())
