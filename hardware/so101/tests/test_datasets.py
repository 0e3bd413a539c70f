"""Recording, replay, the embedded sample dataset and the `dataset` / `record` / `replay` commands."""

import json
import re
from pathlib import Path

import pytest

from policyzoo import CameraSpec
from policyzoo.cli import main
from policyzoo_runtime.datasets import read_meta
from policyzoo_runtime.record.sim import SIM_META, record_episodes, replay_episode
from policyzoo_so101 import sample_dataset
from policyzoo_so101.sim import SimSO101
from policyzoo_so101.specs import SO101_BIMANUAL


def run(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """One expert episode with a tiny camera, recorded through LeRobot."""
    spec = SO101_BIMANUAL.model_copy(update={"cameras": [CameraSpec(name="left_top", height=24, width=32)]})
    robot = SimSO101(spec, {})
    root = tmp_path_factory.mktemp("rec") / "demo"
    result = record_episodes(robot, root, "local/demo", episodes=1, seed=5, progress=False)
    yield robot, result
    robot.disconnect()


@pytest.mark.slow
def test_recorded_episode_loads_and_replays(recorded):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    robot, result = recorded
    assert result.successes == 1 and result.frames > 100
    assert json.loads((result.root / SIM_META).read_text())["seeds"] == [5]
    dataset = LeRobotDataset("local/demo", root=result.root)
    item = dataset[result.frames - 1]
    assert item["observation.images.left_top"].shape == (3, 24, 32)
    assert float(item["next.reward"]) == 1.0 and bool(item["next.success"])
    frames, success = replay_episode(robot, result.root, 0)
    assert frames == result.frames and success


def test_sample_dataset_loads_with_rewards():
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    repo_id, root = sample_dataset(None)
    dataset = LeRobotDataset(repo_id, root=root, video_backend="pyav")
    assert dataset.meta.robot_type == "so101_bimanual"
    assert dataset.num_episodes >= 5
    assert set(dataset.meta.camera_keys) == {c.key for c in SO101_BIMANUAL.cameras}
    assert dataset.meta.features["action"]["names"] == SO101_BIMANUAL.joint_names
    rewards = dataset.hf_dataset["next.reward"]
    assert max(float(r) for r in rewards) == 1.0
    last = dataset[dataset.num_frames - 1]
    assert last["observation.images.left_top"].shape == (3, 96, 96) and bool(last["next.success"])
    seeds = json.loads((Path(root) / SIM_META).read_text())
    assert all(seeds["successes"])
    features = read_meta(Path(root)).features  # what `train` sees: it fits the simulated robot exactly
    robot = SO101_BIMANUAL.features()
    assert (features.state, features.visual, features.action) == (robot.state, robot.visual, robot.action)
    assert features.has_reward


def test_dataset_info_prints_the_sample(capsys):
    _, root = sample_dataset(None)
    code, out, _ = run(capsys, "dataset", "info", f"--dataset.root={root}")
    assert code == 0
    assert "episodes: 10" in out and "fps: 30" in out
    assert "cameras: left_top, right_front" in out
    assert "rewards: yes" in out
    assert re.search(r"observation\.images\.left_top\s+video\s+96x96x3", out)


@pytest.mark.parametrize(
    "args, flag",
    [
        (["dataset", "info", "--dataset.root=/nonexistent/x"], "--dataset.root=/nonexistent/x"),
        (["dataset", "info", "--dataset.rot=x"], "--dataset.rot"),
        (["record", "--robot.backend=rael", "--dataset.root=x"], "--robot.backend=rael"),
        (["record", "--robot.backend=real", "--dataset.root=x"], "--dataset.repo_id: required"),
        (["record", "--robot.backend=sim"], "--dataset.root"),
        (["record", "--robot.type=so10", "--dataset.root=x"], "--robot.type=so10"),
    ],
)
def test_bad_input_exits_2_with_one_line(capsys, args, flag):
    code, _, err = run(capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and flag in err and "Traceback" not in err


def test_replay_of_a_missing_episode_is_bad_input(capsys):
    _, root = sample_dataset(None)
    code, _, err = run(capsys, "replay", f"--dataset.root={root}", "--episode=99", "--robot.backend=sim")
    assert code == 2 and "--episode=99" in err


def _actions(root: Path, episode: int):
    import numpy as np
    import pyarrow.parquet as pq

    table = pq.read_table(
        sorted((root / "data").glob("chunk-*/file-*.parquet")), columns=["episode_index", "action"]
    ).to_pandas()
    return np.stack(table[table["episode_index"] == episode]["action"].to_numpy())


@pytest.mark.slow
def test_dataset_sample_regenerates_the_embedded_sample(capsys, tmp_path):
    import numpy as np

    code, out, _ = run(capsys, "dataset", "sample", "--output", str(tmp_path / "s"), "--episodes=1")
    assert code == 0 and "1 successful" in out
    _, embedded = sample_dataset(None)
    assert np.allclose(_actions(tmp_path / "s", 0), _actions(Path(embedded), 0), atol=1e-3)
    assert (tmp_path / "s" / "videos").is_dir()


@pytest.mark.slow
def test_the_lift_sample_loads_and_regenerates(capsys, tmp_path):
    import numpy as np
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    repo_id, root = sample_dataset("lift")
    dataset = LeRobotDataset(repo_id, root=root, video_backend="pyav")
    assert dataset.meta.robot_type == "so101" and dataset.num_episodes == 20
    assert dataset.meta.camera_keys == ["observation.images.wrist"]
    assert dataset[0]["observation.images.wrist"].shape == (3, 64, 64)
    assert all(json.loads((Path(root) / SIM_META).read_text())["successes"])
    code, out, _ = run(
        capsys, "dataset", "sample", "--task=lift", "--output", str(tmp_path / "s"), "--episodes=1"
    )
    assert code == 0 and "1 successful" in out
    assert np.allclose(_actions(tmp_path / "s", 0), _actions(Path(root), 0), atol=1e-3)
    assert read_meta(tmp_path / "s").features.visual == read_meta(Path(root)).features.visual
    assert sample_dataset("juggle") is None


@pytest.mark.slow
def test_record_takes_simulator_cameras_of_the_robot_size(capsys, tmp_path):
    code, out, err = run(
        capsys,
        "record",
        "--robot.type=so101",
        f"--dataset.root={tmp_path / 'd'}",
        "--robot.cameras=wrist",
        "--dataset.video=false",
    )
    assert code == 0, err
    meta = read_meta(tmp_path / "d")
    assert meta.features.visual == {"observation.images.wrist": (3, 96, 96)}  # the robot's camera size
    assert "1 successful" in out


def test_missing_simulator_names_the_install_command(capsys, monkeypatch):
    import dataclasses

    from policyzoo.registry import get_registry

    robots = get_registry().robots
    entry = robots["so101_bimanual"]
    broken = dataclasses.replace(entry, backends={**entry.backends, "sim": "policyzoo_so101_no_such:Sim"})
    monkeypatch.setitem(robots, "so101_bimanual", broken)
    code, _, err = run(capsys, "record", "--robot.backend=sim", "--dataset.root=x")
    assert code == 2 and "pip install 'policyzoo-so101[sim]'" in err
