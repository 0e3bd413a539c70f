"""`policyzoo record` on the real bimanual SO101 with leader arms, all on fake Feetech buses (`rig` in conftest):
30 fps, 6-tick episodes (0.2 s) and 3-tick resets (0.1 s); a key script says what the operator presses at
which poll (one poll per tick)."""

from __future__ import annotations

import json

import numpy as np
import pytest

EPISODE = ["--dataset.episode_time_s=0.2", "--dataset.reset_time_s=0.1"]
TASK = "--dataset.single_task=hand the cube over"


def record(run_cli, rig, root, episodes, *extra):
    return run_cli(
        "record",
        *rig.robot_flags,
        *rig.teleop_flags,
        "--dataset.repo_id=someone/handover",
        f"--dataset.root={root}",
        TASK,
        f"--dataset.num_episodes={episodes}",
        *EPISODE,
        *extra,
    )


def load(root):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset("someone/handover", root=root, video_backend="pyav")


def episode_lengths(dataset) -> list[int]:
    return [int(n) for n in dataset.meta.episodes["length"]]


@pytest.mark.slow
def test_two_episodes_recorded_then_resumed_load_in_lerobot_and_train(run_cli, rig, tmp_path):
    root = tmp_path / "handover"
    rig.keys({})
    code, out, err = record(run_cli, rig, root, 1)
    assert code == 0, err
    assert "recorded 1 episodes, 6 frames" in out and "1 episodes in the dataset; finished" in out
    rig.keys({})
    code, out, err = record(run_cli, rig, root, 1, "--resume=true")
    assert code == 0, err
    assert "2 episodes in the dataset" in out

    dataset = load(root)
    assert dataset.num_episodes == 2 and episode_lengths(dataset) == [6, 6]
    info = json.loads((root / "meta" / "info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["robot_type"] == "so101_bimanual"
    names = [
        f"{side}_{motor}.pos"
        for side in ("left", "right")
        for motor in ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
    ]
    assert info["features"]["observation.state"]["names"] == names == info["features"]["action"]["names"]
    assert info["features"]["observation.images.left_top"]["shape"] == [24, 32, 3]
    frame = dataset[7]
    assert frame["observation.images.left_top"].shape == (3, 24, 32) and frame["task"] == "hand the cube over"
    actions = np.stack([dataset[i]["action"].numpy() for i in range(6)])
    states = np.stack([dataset[i]["observation.state"].numpy() for i in range(6)])
    assert np.all(np.diff(actions[:, 0]) > 0)  # the leaders moved a little each tick
    np.testing.assert_allclose(states[1:], actions[:-1], atol=0.2)  # and the followers followed
    assert not any(s.torque_enabled for arm in rig.followers.values() for s in arm.servos.values())

    output = tmp_path / "train"
    code, out, err = run_cli(
        "train",
        f"--dataset.root={root}",
        "--dataset.repo_id=someone/handover",
        "--policy.type=act",
        "--policy.device=cpu",
        "--policy.pretrained_backbone_weights=None",
        "--policy.chunk_size=4",
        "--policy.n_action_steps=4",
        "--policy.dim_model=16",
        "--policy.n_heads=2",
        "--policy.dim_feedforward=32",
        "--policy.n_encoder_layers=1",
        "--policy.n_decoder_layers=1",
        "--policy.n_vae_encoder_layers=1",
        "--policy.latent_dim=4",
        "--steps=2",
        "--batch_size=2",
        "--num_workers=0",
        f"--output_dir={output}",
    )
    assert code == 0, err
    assert (output / "checkpoints" / "last" / "pretrained_model" / "model.safetensors").is_file()


def test_left_arrow_records_again_and_right_arrow_ends_early(run_cli, rig, tmp_path):
    root = tmp_path / "handover"
    # episode 0: polls 0-5, its reset 6-8; episode 1: left at poll 11 after two frames, reset 12-14;
    # episode 1 again: right at poll 18 after three frames, the last episode: no reset
    rig.keys({11: "left", 18: "right"})
    code, out, err = record(run_cli, rig, root, 2, "--dataset.video=false")
    assert code == 0, err
    assert (
        "recorded 2 episodes, 9 frames (1 recorded again)" in out and "episode 1: recording it again" in err
    )
    assert episode_lengths(load(root)) == [6, 3]
    assert rig.state.keys.polls == 18 + 1 and rig.state.keys.closed


def test_esc_saves_the_episode_and_stops(run_cli, rig, tmp_path):
    root = tmp_path / "handover"
    rig.keys({9 + 4: "esc"})
    code, out, err = record(run_cli, rig, root, 5, "--dataset.video=false")
    assert code == 0, err
    assert "recorded 2 episodes, 10 frames" in out and "stopped (Esc)" in out
    assert episode_lengths(load(root)) == [6, 4]


@pytest.mark.parametrize(
    ("poll", "kept"),
    [(7, [6]), (11, [6]), (16, [6, 6])],
    ids=["reset-after-episode-0", "recording-episode-1", "reset-after-episode-1"],
)
def test_ctrl_c_keeps_finished_episodes_and_turns_the_torque_off(run_cli, rig, tmp_path, poll, kept):
    root = tmp_path / "handover"
    rig.keys({poll: KeyboardInterrupt})
    code, out, err = record(run_cli, rig, root, 3, "--dataset.video=false")
    assert code == 0, err
    assert "interrupted (Ctrl-C)" in out
    assert episode_lengths(load(root)) == kept
    servos = [servo for arm in rig.followers.values() for servo in arm.servos.values()]
    assert all(servo.torque_enabled is False for servo in servos)
    assert not any(camera.is_connected for camera in rig.cameras.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            [],
            "--teleop.type: required to record on the real so101_bimanual; leaders for it: so101_bimanual_leader",
        ),
        (
            ["--teleop.type=so101_leader"],
            "--teleop.type=so101_leader: drives robot 'so101', not 'so101_bimanual'; "
            "use so101_bimanual_leader",
        ),
        (["--teleop.type=so101_bimanual_leadr"], "Did you mean 'so101_bimanual_leader'?"),
        (
            ["--teleop.type=so101_bimanual_leader", "--teleop.left_port=/dev/a"],
            "--teleop.right_port: required for the so101_bimanual_leader",
        ),
        (
            [
                "--teleop.type=so101_bimanual_leader",
                "--teleop.left_port=/dev/a",
                "--teleop.right_port=/dev/b",
                "--teleop.cameras=x",
            ],
            "--teleop.cameras: the so101_bimanual_leader takes no such option",
        ),
    ],
)
def test_teleop_mistakes_are_one_line(run_cli, rig, tmp_path, args, message):
    code, _, err = run_cli(
        "record",
        *rig.robot_flags,
        *args,
        "--dataset.repo_id=someone/x",
        f"--dataset.root={tmp_path / 'x'}",
        TASK,
    )
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_uncalibrated_leaders_say_how_to_calibrate(run_cli, rig, tmp_path):
    flags = [flag.replace("--teleop.id=lead", "--teleop.id=fresh") for flag in rig.teleop_flags]
    code, _, err = run_cli(
        "record",
        *rig.robot_flags,
        *flags,
        "--dataset.repo_id=someone/x",
        f"--dataset.root={tmp_path / 'x'}",
        TASK,
        *EPISODE,
    )
    assert code == 2 and err.count("\n") == 1, err
    assert "no calibration for leader arm 'fresh_left'" in err
    assert "run: policyzoo calibrate --teleop.type=so101_bimanual_leader --teleop.left_port=" in err
    assert not any(s.torque_enabled for arm in rig.followers.values() for s in arm.servos.values())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--dataset.single_task=x"], "--dataset.repo_id: required"),
        (["--dataset.repo_id=someone/x"], "--dataset.single_task: required"),
        (
            ["--dataset.repo_id=someone/x", TASK, "--dataset.num_episodes=0"],
            "--dataset.num_episodes=0: expected a whole",
        ),
        (
            ["--dataset.repo_id=someone/x", TASK, "--dataset.episode_time_s=nan"],
            "--dataset.episode_time_s=nan: ",
        ),
        (
            ["--dataset.repo_id=someone/x", TASK, "--dataset.push_to_hub=true"],
            "--dataset.push_to_hub: unknown flag",
        ),
        (["--dataset.repo_id=someone/x", TASK, "--resume=true"], "no dataset to resume there"),
    ],
)
def test_dataset_mistakes_are_one_line(run_cli, rig, tmp_path, args, message):
    code, _, err = run_cli(
        "record", *rig.robot_flags, *rig.teleop_flags, f"--dataset.root={tmp_path / 'x'}", *args
    )
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_an_existing_dataset_is_never_overwritten(run_cli, rig, tmp_path):
    root = tmp_path / "handover"
    (root / "meta").mkdir(parents=True)
    (root / "meta" / "info.json").write_text("{}")
    code, _, err = record(run_cli, rig, root, 1)
    assert code == 2 and "a dataset already there; add --resume=true" in err
