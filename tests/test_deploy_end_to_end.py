"""`policyzoo deploy` end to end: a saved ACT on the simulated bimanual SO101, and a saved policy on the real
backend over a fake Feetech bus (the Feetech SDK and LeRobot's bus code run for real above it)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from policyzoo import Features, build_policy, get_spec
from policyzoo_bench.deploy import random_stats

ROBOT = "so101_bimanual"


def tiny_act(features: Features, chunk: int = 30):
    spec = get_spec("act")(
        device="cpu",
        chunk_size=chunk,
        n_action_steps=chunk,
        dim_model=32,
        n_heads=2,
        dim_feedforward=64,
        n_encoder_layers=1,
        n_decoder_layers=1,
        n_vae_encoder_layers=1,
        latent_dim=8,
    )
    return build_policy(spec, features, random_stats(features))


@pytest.fixture(scope="module")
def act_checkpoint(tmp_path_factory):
    """A small, untrained ACT for the bimanual robot's features, saved as LeRobot saves it."""
    from policyzoo.registry import get_registry

    directory = tmp_path_factory.mktemp("act") / "pretrained_model"
    tiny_act(get_registry().robot(ROBOT).spec.features()).save(directory)
    return directory


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_deploy_act_on_the_simulator(run_cli, act_checkpoint, tmp_path, mode):
    report_path = tmp_path / "report.json"
    code, out, err = run_cli(
        "deploy",
        f"--policy.path={act_checkpoint}",
        f"--robot.type={ROBOT}",
        "--robot.backend=sim",
        "--fps=30",
        "--duration_s=2",
        f"--async={mode == 'async'}",
        "--task",
        "transfer the cube",
        f"--report={report_path}",
    )
    assert code == 0, err
    report = json.loads(report_path.read_text())
    assert report["mode"] == mode and report["ok"] and report["stop_reason"] == "finished"
    assert report["ticks"] == 60 and report["fps"] == 30
    assert report["chunks"] >= 2  # 60 ticks need at least two 30-action chunks
    assert report["ticks"] - report["starved_ticks"] >= 30 and isinstance(report["success"], bool)
    assert report["inference_p50_ms"] > 0 and report["largest_jump"] > 0
    assert f"mode {mode} at 30 fps: 60 ticks" in out and "task success:" in out


@pytest.mark.slow
def test_deploy_refuses_a_policy_for_other_cameras(run_cli, tmp_path):
    """The simulator renders the cameras the policy reads (names and sizes), those it has."""
    features = Features(
        state={"observation.state": (12,)},
        visual={"observation.images.ceiling": (3, 96, 96)},
        action={"action": (12,)},
    )
    tiny_act(features, chunk=5).save(tmp_path / "policy")
    code, _, err = run_cli(
        "deploy",
        f"--policy.path={tmp_path / 'policy'}",
        f"--robot.type={ROBOT}",
        "--robot.backend=sim",
        "--duration_s=1",
    )
    assert code == 2 and err.count("\n") == 1
    assert (
        f"the simulator has no camera 'ceiling' for {ROBOT}; it has: left_top, right_front, front, top" in err
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["deploy"], "--policy.path: required"),
        (
            ["deploy", "--policy.path=/no/such/policy", f"--robot.type={ROBOT}"],
            "--policy.path=/no/such/policy: no such",
        ),
        (
            ["deploy", "--policy.path=x", f"--robot.type={ROBOT}", "--robot.backend=rael"],
            "Did you mean 'real'?",
        ),
        (["deploy", "--policy.path=x", f"--robot.type={ROBOT}", "--fps=fast"], "--fps=fast: "),
        (["deploy", "--policy.path=x", f"--robot.type={ROBOT}", "--async=maybe"], "--async=maybe: "),
        (["deploy", "--policy.path=x", f"--robot.type={ROBOT}", "--asynk=true"], "Did you mean --async?"),
        (
            ["deploy", "--policy.path=x", f"--robot.type={ROBOT}", "--chunk_threshold=2"],
            "--chunk_threshold=2: expected a number >= 0, at most 1",
        ),
        (
            ["deploy", "--policy.path=x", f"--robot.type={ROBOT}", "--robot.backend=real"],
            "--robot.left_port: required",
        ),
    ],
)
def test_bad_deploy_lines(run_cli, args, message):
    code, _, err = run_cli(*args)
    assert code == 2 and err.count("\n") == 1 and message in err, err


@pytest.mark.slow
def test_deploy_refuses_more_action_steps_than_the_chunk(run_cli, act_checkpoint):
    code, _, err = run_cli(
        "deploy",
        f"--policy.path={act_checkpoint}",
        f"--robot.type={ROBOT}",
        "--robot.backend=sim",
        "--duration_s=1",
        "--n_action_steps=31",
    )
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
    assert "--n_action_steps=31: n_action_steps (31) must be <= chunk_size (30) (act)" in err


@pytest.mark.slow
def test_sigterm_stops_deploy_as_ctrl_c_does(act_checkpoint, tmp_path):
    """A supervisor's SIGTERM: the same exit code, report and stop message as Ctrl-C (SIGINT)."""
    results = {}
    for signum in (signal.SIGINT, signal.SIGTERM):
        report_path = tmp_path / f"{signum.name}.json"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "policyzoo",
                "deploy",
                f"--policy.path={act_checkpoint}",
                f"--robot.type={ROBOT}",
                "--robot.backend=sim",
                f"--report={report_path}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        try:
            started = process.stderr.readline()
            assert started == "running until Ctrl-C\n", started + process.stderr.read()
            time.sleep(3)  # the loop starts within milliseconds of that line; let it run a while
            process.send_signal(signum)
            out, err = process.communicate(timeout=120)
        finally:
            process.kill()
        results[signum] = process.returncode
        assert "Traceback" not in err, err
        assert f"stopped: interrupted ({'SIGTERM' if signum == signal.SIGTERM else 'Ctrl-C'})" in out, (
            out + err
        )
        report = json.loads(report_path.read_text())
        assert report["ok"] and report["ticks"] > 0
    assert results[signal.SIGTERM] == results[signal.SIGINT] == 0


# -- the real backend on a fake bus ---------------------------------------------------------------------

LEFT, RIGHT = "/dev/fake-left", "/dev/fake-right"
MOTORS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]


@pytest.fixture
def fake_arms(tmp_path, monkeypatch):
    """Two calibrated fake arms; LeRobot's calibration folder in a temporary place."""
    from lerobot.utils import constants

    from policyzoo_so101.real.fake_bus import FakeArm, fake_feetech_ports

    monkeypatch.setattr(constants, "HF_LEROBOT_CALIBRATION", tmp_path / "calibration")
    folder = tmp_path / "calibration" / "robots" / "so_follower"
    folder.mkdir(parents=True)
    for side in ("left", "right"):
        (folder / f"pair_{side}.json").write_text(
            json.dumps(
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
        )
    arms = {LEFT: FakeArm(), RIGHT: FakeArm()}
    with fake_feetech_ports(arms):
        yield arms


@pytest.fixture(scope="module")
def state_only_checkpoint(tmp_path_factory):
    """A state-only policy (mlp_bc, no cameras) for the bimanual joints: the real backend has no camera here."""
    features = Features(state={"observation.state": (12,)}, action={"action": (12,)})
    spec = get_spec("mlp_bc")(
        device="cpu", use_images=False, hidden_dim=32, n_layers=1, chunk_size=10, n_action_steps=10
    )
    stats = random_stats(features)
    stats["action"]["mean"] = stats["action"]["mean"] + 60.0  # far from where the arms rest
    directory = tmp_path_factory.mktemp("mlp") / "policy"
    build_policy(spec, features, stats).save(directory)
    return directory


def test_deploy_on_the_real_backend_limits_each_step_and_releases_torque(
    run_cli, fake_arms, state_only_checkpoint, tmp_path
):
    report_path = tmp_path / "real.json"
    code, out, err = run_cli(
        "deploy",
        f"--policy.path={state_only_checkpoint}",
        f"--robot.type={ROBOT}",
        "--robot.backend=real",
        f"--robot.left_port={LEFT}",
        f"--robot.right_port={RIGHT}",
        "--robot.id=pair",
        "--duration_s=1",
        "--async=true",
        f"--report={report_path}",
    )
    assert code == 0, err
    report = json.loads(report_path.read_text())
    assert report["ok"] and report["ticks"] == 30
    assert (
        report["largest_jump"] <= 5.0 + 1e-6 and report["clamped_ticks"] > 0
    )  # 5 degrees per tick by default
    servos = [servo for arm in fake_arms.values() for servo in arm.servos.values()]
    for servo in servos:  # 5 degrees, or 5 % of the gripper's calibrated range, in encoder steps
        step = 0.05 * (3894 - 200) if servo.table[5] == 6 else 5 * 4095 / 360
        goals = np.array(servo.goal_writes)
        assert len(goals) == 30  # one target per tick
        assert np.abs(np.diff(goals)).max() <= step + 1
    assert max(abs(s.goal_writes[-1] - s.goal_writes[0]) for s in servos) > 100  # it really moved
    assert not any(servo.torque_enabled for servo in servos)  # released on disconnect


def test_ctrl_c_on_the_real_backend_disables_torque(fake_arms, state_only_checkpoint):
    from policyzoo import load_policy
    from policyzoo_runtime.deploy import DeployConfig, deploy, make_robot

    policy = load_policy(state_only_checkpoint)
    predict = policy.predict_chunk
    calls = []

    def interrupted_on_third_call(observation):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return predict(observation)

    policy.predict_chunk = interrupted_on_third_call
    robot = make_robot(ROBOT, "real", {"left_port": LEFT, "right_port": RIGHT, "id": "pair"})
    report = deploy(policy, robot, DeployConfig(fps=50, max_relative_target=5.0))
    assert report.stop_reason == "interrupted (Ctrl-C)" and report.ticks == 20
    assert not any(servo.torque_enabled for arm in fake_arms.values() for servo in arm.servos.values())
