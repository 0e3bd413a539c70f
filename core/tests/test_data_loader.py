"""policyzoo's training loader gives the batches LeRobot's own loader gives (0.6), value for value, and
`policyzoo dataset synth` writes a dataset LeRobot opens.

Frames are compared exactly: both decode with the same FFmpeg (libdav1d, whose output does not depend on its
threads), seek to the same key frame, pick the same frame, convert it to RGB with the same swscale call and to
float with the same `uint8 -> float32, / 255`; only where that happens differs (worker or trainer).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from policyzoo_runtime.lerobot.synth import REPO_ID, SynthSize, write

FRAMES = 24
EPISODES = 2
WINDOWS = {
    # ACT: the current observation and 100 actions, longer than an episode: most of it is padding
    "act": {"action": list(range(100))},
    # Diffusion: two observation frames (the first pads at an episode's start) and 16 actions from t-1
    "diffusion": {
        "observation.state": [-1, 0],
        "observation.images.left_top": [-1, 0],
        "observation.images.right_front": [-1, 0],
        "action": list(range(-1, 15)),
    },
}
# both episodes' first and last frames, their neighbours, and frames in the middle
INDICES = [[0, 23, 24, 47], [1, 22, 25, 46], [5, 12, 30, 40]]
CASES = {  # name: (window, episodes, batches of positions in the dataset)
    "act": ("act", None, INDICES),
    "diffusion": ("diffusion", None, INDICES),
    "act, episode 1 only": ("act", [1], [[0, 23, 1, 22]]),  # absolute indices 24.. at positions 0..
}


@pytest.fixture(scope="module")
def synth_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("synth") / "data"
    write(root, SynthSize(episodes=EPISODES, frames=FRAMES, height=48, width=64))
    return root


def _lerobot_batches(
    root: Path, indices: dict[str, list[int]], episodes: list[int] | None, batches: list[list[int]]
) -> list[dict]:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    timestamps = {key: [i / 30 for i in offsets] for key, offsets in indices.items()}
    dataset = LeRobotDataset(
        REPO_ID, root=root, episodes=episodes, delta_timestamps=timestamps, video_backend="pyav"
    )
    return list(torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=0))


def _policyzoo_batches(
    root: Path, indices: dict[str, list[int]], episodes: list[int] | None, batches: list[list[int]]
) -> tuple[list[dict], list[torch.dtype]]:
    """The batches through a data worker, as `policyzoo train` reads them; and the frames' dtype on arrival."""
    from policyzoo_runtime.datasets import read_meta
    from policyzoo_runtime.lerobot.datasets import open_dataset
    from policyzoo_runtime.lerobot.frames import TrainingFrames, float_frames, training_frames
    from policyzoo_runtime.train.config import TrainConfig
    from policyzoo_runtime.train.prepare import DatasetPlace

    meta = read_meta(root)
    place = DatasetPlace(REPO_ID, root, meta.info, meta.features)
    dataset = training_frames(open_dataset(place, indices, config=TrainConfig(dataset_episodes=episodes)))
    assert isinstance(dataset, TrainingFrames)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=1)
    batches, arrived = [], []
    for batch in loader:
        arrived += [batch[key].dtype for key in dataset.frame_keys]
        batches.append(float_frames(batch, dataset.frame_keys))
    return batches, arrived


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_batches_as_lerobot(synth_root: Path, case: str) -> None:
    window, episodes, batches = CASES[case]
    # the data worker first: LeRobot decodes in this process
    ours, arrived = _policyzoo_batches(synth_root, WINDOWS[window], episodes, batches)
    theirs = _lerobot_batches(synth_root, WINDOWS[window], episodes, batches)
    assert set(arrived) == {torch.uint8}
    pads = 0
    for mine, lerobot in zip(ours, theirs, strict=True):
        assert mine.keys() == lerobot.keys()
        for key, expected in lerobot.items():
            if isinstance(expected, torch.Tensor):
                got = mine[key]
                assert (got.dtype, got.shape) == (expected.dtype, expected.shape), key
                assert torch.equal(got, expected), key
            else:
                assert mine[key] == expected, key
        pads += int(lerobot["action_is_pad"].sum())
    assert pads > 0  # the windows cross the episode ends
    if episodes is not None:
        assert set(theirs[0]["episode_index"].tolist()) == set(episodes)
    if window == "diffusion":
        assert bool(theirs[0]["observation.state_is_pad"][0, 0])  # frame 0 has no frame before it
        assert theirs[0]["observation.images.left_top"].shape == (4, 2, 3, 48, 64)


def test_synth_writes_a_dataset_lerobot_opens(
    run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    root = tmp_path / "synth"
    code, out, err = run_cli(
        "dataset", "synth", f"--output={root}", "--episodes=2", "--frames=6", "--size=32x48", "--cameras=top"
    )
    assert code == 0, err
    assert "wrote 2 episodes, 12 frames, 1 camera(s) at 32x48" in out
    info = json.loads((root / "meta" / "info.json").read_text())
    video = info["features"]["observation.images.top"]
    assert info["codebase_version"] == "v3.0" and info["fps"] == 30 and info["robot_type"] == "so101_bimanual"
    assert video["dtype"] == "video" and video["info"]["video.codec"] == "av1"
    dataset = LeRobotDataset(REPO_ID, root=root, video_backend="pyav")
    item = dataset[11]
    assert len(dataset) == 12 and dataset.num_episodes == 2
    assert item["observation.images.top"].shape == (3, 32, 48) and item["action"].shape == (12,)
    assert int(item["episode_index"]) == 1 and int(item["frame_index"]) == 5


@pytest.mark.parametrize("problem", ["not empty", "file in the way"])
def test_synth_bad_output(run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path, problem: str) -> None:
    if problem == "not empty":
        output = tmp_path / "used"
        output.mkdir()
        (output / "keep.txt").write_text("mine")
        expected = "the folder exists and is not empty"
    else:
        (tmp_path / "file").write_text("")
        output = tmp_path / "file" / "synth"
        expected = "is a file, not a folder"
    code, out, err = run_cli("dataset", "synth", f"--output={output}", "--episodes=1", "--frames=4")
    assert code == 2 and len(err.strip().splitlines()) == 1 and expected in err and "--output" in err
    assert not (tmp_path / "used" / "meta").exists()


def test_data_wait_hint_names_the_remedies_of_the_run() -> None:
    from policyzoo_runtime.train.config import TrainConfig
    from policyzoo_runtime.train.progress import workers_hint

    plain = workers_hint(TrainConfig(num_workers=1))
    assert (
        "--num_workers (now 1" in plain and "video_backend" not in plain and "image_transforms" not in plain
    )
    slow = workers_hint(TrainConfig(video_backend="torchcodec", image_transforms={"enable": "true"}))
    assert "--dataset.video_backend=pyav (now torchcodec)" in slow and "--dataset.image_transforms" in slow


@pytest.mark.slow
def test_bench_data_quick_reports_both_loaders(
    run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run_cli(
        "bench",
        "data",
        "--quick",
        "--workers=0",  # in this process: worker processes would each import LeRobot again (20 s)
        "--policies=act,diffusion,mlp_bc",
        f"--work-dir={tmp_path / 'work'}",
        f"--out-dir={out}",
    )
    assert code == 0, err
    result = json.loads((out / "data.json").read_text())
    assert result["num_workers"] == 0 and result["dataset"]["size"] == "48x64"
    assert result["dataset"]["build_s"] > 0
    for window in ("act", "diffusion"):
        rates = result["samples_per_s"][window]
        assert rates["lerobot"] > 0 and rates["policyzoo"] > 0
        assert result["ratio"][window] == pytest.approx(rates["policyzoo"] / rates["lerobot"])
    assert "mlp_bc: LeRobot has no such policy type; its window is left out" in err
    step = result["step"]
    assert step["policy"] == "act"  # the type whose card sets bench.deploy
    assert 0 <= step["data_share"] < 1 and step["mean_update_s"] > 0 and step["steps_timed"] == 2
    assert "| samples/s, act window (1 obs + 100 actions), batch 8, 0 worker(s) |" in stdout


@pytest.mark.parametrize("episodes", [None, [1]])
def test_sample_positions_drop_the_frames_lerobots_sampler_drops(
    synth_root: Path, episodes: list[int] | None
) -> None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset
    from lerobot.datasets.sampler import EpisodeAwareSampler

    from policyzoo_runtime.lerobot.frames import TrainingFrames, sample_positions

    dataset = LeRobotDataset(REPO_ID, root=synth_root, episodes=episodes, video_backend="pyav")
    frames = TrainingFrames(dataset)
    assert list(sample_positions(frames, 0)) == list(range(len(dataset)))
    kept = sample_positions(frames, 7)
    assert kept == sample_positions(dataset, 7)  # a LeRobotDataset read without TrainingFrames: the same
    index = dataset.hf_dataset.with_format("numpy", columns=["index"])["index"]
    absolute = [int(index[position]) for position in kept]  # read without decoding a video
    if (
        episodes is None
    ):  # LeRobot's sampler draws absolute indices, which are positions only for all episodes
        sampler = EpisodeAwareSampler(
            dataset.meta.episodes["dataset_from_index"],
            dataset.meta.episodes["dataset_to_index"],
            drop_n_last_frames=7,
        )
        assert sorted(sampler) == absolute
    assert absolute == [
        index
        for episode in (episodes or range(EPISODES))
        for index in range(episode * FRAMES, (episode + 1) * FRAMES - 7)
    ]
