"""`policyzoo calibrate` and the real backend's command-line errors: one line, exit code 2."""

from __future__ import annotations

import itertools
import json

import pytest

from policyzoo_so101.real.fake_bus import FakeArm, fake_feetech_ports

LEFT, RIGHT = "/dev/fake-left", "/dev/fake-right"


@pytest.fixture
def calibration_home(tmp_path, monkeypatch):
    from lerobot.utils import constants

    monkeypatch.setattr(constants, "HF_LEROBOT_CALIBRATION", tmp_path / "calibration")
    return tmp_path / "calibration" / "robots" / "so_follower"


def test_calibrate_writes_lerobot_files_for_both_arms_and_offers_them_again(
    run_cli, calibration_home, monkeypatch
):
    import lerobot.motors.motors_bus as motors_bus

    arms = {LEFT: FakeArm(), RIGHT: FakeArm()}
    sweep = itertools.cycle([300, 3800, None])

    def enter_pressed() -> bool:  # the person moving every joint through its range, then ENTER
        position = next(sweep)
        for arm in arms.values():
            for servo in arm.servos.values():
                servo.position = 2048 if position is None else position
        return position is None

    prompts: list[str] = []
    monkeypatch.setattr(motors_bus, "enter_pressed", enter_pressed)
    monkeypatch.setattr("builtins.input", lambda prompt="": prompts.append(prompt) or "")
    args = [
        "calibrate",
        "--robot.type=so101_bimanual",
        f"--robot.left_port={LEFT}",
        f"--robot.right_port={RIGHT}",
        "--robot.id=pair",
    ]
    with fake_feetech_ports(arms):
        code, out, err = run_cli(*args)
        assert code == 0, err
        files = [calibration_home / "pair_left.json", calibration_home / "pair_right.json"]
        assert out.count("calibration: ") == 2 and all(str(f) in out for f in files)
        assert json.loads(files[1].read_text())["elbow_flex"]["range_max"] == 3799
        assert not any(s.torque_enabled for arm in arms.values() for s in arm.servos.values())

        prompts.clear()
        code, _, err = run_cli(*args)  # existing files: LeRobot asks whether to reuse them (ENTER = yes)
        assert code == 0, err
        assert sum("use provided calibration file" in p for p in prompts) == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["calibrate"], "--robot.type: required"),
        (
            ["calibrate", "--robot.type=so101_bimanual", "--robot.left_port=/dev/a"],
            "--robot.right_port: required",
        ),
        (
            ["calibrate", "--robot.type=so101", "--robot.port=/dev/policyzoo-no-such-port"],
            "port /dev/policyzoo-no-such-port not found: plug the arm in or pass --robot.port=...",
        ),
        (
            [
                "calibrate",
                "--robot.type=so101_bimanual",
                "--robot.left_port=/dev/policyzoo-none",
                "--robot.right_port=/dev/policyzoo-none2",
            ],
            "port /dev/policyzoo-none not found: plug the arm in or pass --robot.left_port=...",
        ),
        (
            ["calibrate", "--robot.type=so101", "--robot.port=/dev/x", "--robot.prot=1"],
            "Did you mean --robot.port?",
        ),
        (["calibrate", "--robot.type=so101", "--robot.port=/dev/x", "--fps=3"], "--fps: unknown flag"),
    ],
)
def test_bad_calibrate_lines(run_cli, calibration_home, args, message):
    code, out, err = run_cli(*args)
    assert code == 2
    assert err.count("\n") == 1 and message in err and "Traceback" not in err
