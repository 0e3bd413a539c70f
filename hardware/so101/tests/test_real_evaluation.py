"""`policyzoo deploy --episodes=N` on the real bimanual SO101 (fake buses, `rig` in conftest): the operator marks
each episode (scripted keys, one poll per tick), every kept rollout is recorded, and the summary has
`policyzoo eval`'s form. Also: `policyzoo calibrate --teleop.type=...` and the live status line."""

from __future__ import annotations

import io
import itertools
import json

import pytest

from policyzoo_runtime.evaluation.sim import wilson_interval

EVAL = ["--episode_time_s=0.2", "--reset_time_s=0.1"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny untrained ACT (ACT's quick settings) for the bimanual joints and a 32x24 `left_top` camera."""
    from policyzoo import build_policy, get_spec
    from policyzoo.spec import CameraSpec
    from policyzoo_act.model import ACTFactory
    from policyzoo_bench.deploy import random_stats
    from policyzoo_so101.specs import SO101_BIMANUAL

    features = SO101_BIMANUAL.model_copy(
        update={"cameras": [CameraSpec(name="left_top", height=24, width=32)]}
    ).features()
    spec = get_spec("act")(device="cpu", **ACTFactory.quick_settings)
    directory = tmp_path_factory.mktemp("act") / "policy"
    build_policy(spec, features, random_stats(features)).save(directory)
    return directory


def deploy(run_cli, rig, checkpoint, *extra):
    return run_cli(
        "deploy", f"--policy.path={checkpoint}", *rig.robot_flags, "--task", "hand the cube over", *extra
    )


@pytest.mark.slow
def test_three_marked_episodes_give_the_summary_and_the_dataset(run_cli, rig, checkpoint, tmp_path):
    record = tmp_path / "eval_handover"
    # episode 0: s at its 4th tick (polls 0-3), reset 4-6; episode 1 runs out (7-12), r while waiting (14), reset
    # 15-17; episode 1 again runs out (18-23), f (24), reset 25-27; episode 2: s at its 2nd tick (28-29)
    rig.keys({3: "s", 14: "r", 24: "f", 29: "s"})
    code, out, err = deploy(
        run_cli,
        rig,
        checkpoint,
        "--episodes=3",
        *EVAL,
        f"--record={record}",
        f"--report={tmp_path / 'report.json'}",
    )
    assert code == 0, err
    summary = json.loads((record / "eval_summary.json").read_text())
    assert summary == json.loads((tmp_path / "report.json").read_text())
    assert summary["env"] == "so101_bimanual_real" and summary["policy"]["type"] == "act"
    assert summary["episodes"] == 3 and summary["marks"] == ["success", "failure", "success"]
    assert summary["success_rate"] == pytest.approx(2 / 3, abs=1e-6)
    assert summary["success_interval_95"] == [round(b, 6) for b in wilson_interval(2, 3)]
    episodes = summary["per_episode"]
    assert [e["length"] for e in episodes] == [4, 6, 2] and [e["retries"] for e in episodes] == [0, 1, 0]
    assert [e["dataset_episode"] for e in episodes] == [0, 1, 2] and summary["retries"] == 1
    assert summary["clamped_ticks"] == sum(e["clamped_ticks"] for e in episodes)
    assert summary["deadlines"]["on_time_pct"] > 0 and summary["stop"] == "finished"
    assert set(summary) >= {"seed", "max_steps", "mean_sum_reward", "mean_episode_length", "timing", "stages"}
    assert len(episodes[0]["final_state"]) == 12
    assert (
        "success rate 66.7% (2/3 episodes)" in out and "marks: success, failure, success (1 retries)" in out
    )
    assert "episode 1: done; mark it: s success, f failure, r retry" in err

    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    dataset = LeRobotDataset(f"local/{record.name}", root=record, video_backend="pyav")
    assert [int(n) for n in dataset.meta.episodes["length"]] == [4, 6, 2]
    last_frames = [3, 9, 11]
    assert [bool(dataset[i]["next.success"]) for i in last_frames] == [True, False, True]
    assert [bool(dataset[i]["next.done"]) for i in range(12)].count(True) == 3
    assert dataset[0]["observation.images.left_top"].shape == (3, 24, 32)
    assert not any(s.torque_enabled for arm in rig.followers.values() for s in arm.servos.values())


def test_ctrl_c_keeps_the_marked_episodes_and_turns_the_torque_off(run_cli, rig, checkpoint, tmp_path):
    record = tmp_path / "eval"
    rig.keys({2: "f", 8: KeyboardInterrupt})  # episode 0 marked at its 3rd tick; Ctrl-C in episode 1
    code, out, err = deploy(run_cli, rig, checkpoint, "--episodes=3", *EVAL, f"--record={record}")
    assert code == 0, err
    summary = json.loads((record / "eval_summary.json").read_text())
    assert summary["marks"] == ["failure"] and summary["stop"] == "interrupted (Ctrl-C)"
    assert summary["success_interval_95"] == [0.0, round(wilson_interval(0, 1)[1], 6)]
    info = json.loads((record / "meta" / "info.json").read_text())
    assert info["total_episodes"] == 1 and info["total_frames"] == 3
    assert not any(s.torque_enabled for arm in rig.followers.values() for s in arm.servos.values())
    assert rig.state.keys.closed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--episode_time_s=3"], "--episode_time_s: only with --episodes=N"),
        (["--record=/tmp/x"], "--record: only with --episodes=N"),
        (["--episodes=2", "--duration_s=3"], "--duration_s: not with --episodes"),
        (["--episodes=0"], "--episodes=0: expected a whole number >= 1"),
        (
            ["--episodes=2", "--reset_time_s=-1"],
            "--reset_time_s=-1: expected a finite number of seconds >= 0",
        ),
    ],
)
def test_evaluation_flag_mistakes_are_one_line(run_cli, rig, checkpoint, args, message):
    code, _, err = deploy(run_cli, rig, checkpoint, *args)
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_a_used_record_folder_is_refused_before_the_robot_moves(run_cli, rig, checkpoint, tmp_path):
    (tmp_path / "eval").mkdir()
    (tmp_path / "eval" / "notes.txt").write_text("mine")
    code, _, err = deploy(run_cli, rig, checkpoint, "--episodes=1", f"--record={tmp_path / 'eval'}")
    assert code == 2 and "--record=" in err and "not empty" in err
    assert not any(s.goal_writes for arm in rig.followers.values() for s in arm.servos.values())


def test_calibrate_the_leader_arms(run_cli, rig, tmp_path, monkeypatch):
    import lerobot.motors.motors_bus as motors_bus

    sweep = itertools.cycle([300, 3800, None])

    def enter_pressed() -> (
        bool
    ):  # the person moving every joint of both leaders through its range, then ENTER
        position = next(sweep)
        for arm in rig.leaders.values():
            arm.script = None
            for servo in arm.servos.values():
                servo.position = 2048 if position is None else position
        return position is None

    monkeypatch.setattr(motors_bus, "enter_pressed", enter_pressed)
    monkeypatch.setattr("builtins.input", lambda prompt="": "")
    flags = [flag.replace("--teleop.id=lead", "--teleop.id=new") for flag in rig.teleop_flags]
    code, out, err = run_cli("calibrate", *flags)
    assert code == 0, err
    folder = tmp_path / "calibration" / "teleoperators" / "so_leader"
    assert (
        f"calibration: {folder / 'new_left.json'}" in out
        and f"calibration: {folder / 'new_right.json'}" in out
    )
    assert json.loads((folder / "new_right.json").read_text())["elbow_flex"]["range_max"] == 3799


def test_the_status_line_rewrites_one_line():
    from policyzoo_runtime.deploy.report import DeployReport
    from policyzoo_runtime.deploy.status import StatusLine

    stream = io.StringIO()
    status = StatusLine(stream, every_s=0.0, enabled=True)
    status.prefix = "episode 1: "
    status(DeployReport(mode="sync", fps=30, ticks=12, late_ticks=3, missed_deadlines=3, clamped_ticks=2))
    status(DeployReport(mode="sync", fps=30, ticks=13, clamped_ticks=2))
    status.close()
    assert stream.getvalue() == (
        "\repisode 1: tick 12, 75.0% on time, 2 clamped\repisode 1: tick 13, 100.0% on time, 2 clamped\n"
    )
    quiet = io.StringIO()
    StatusLine(quiet)(DeployReport(mode="sync", fps=30, ticks=1))  # not a terminal: nothing
    assert quiet.getvalue() == ""
