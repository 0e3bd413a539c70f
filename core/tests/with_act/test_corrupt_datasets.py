"""A local dataset with a broken or lying file is refused with one line naming the file, before training starts,
and never as a problem with the Hub (copies of the embedded sample datasets, one file edited in each)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from policyzoo.errors import BadInput
from policyzoo_runtime.datasets import read_meta, sample_dataset

RunCli = Callable[..., tuple[int, str, str]]
TOP = "videos/observation.images.left_top/chunk-000/file-000.mp4"
DATA = "data/chunk-000/file-000.parquet"
EPISODES = "meta/episodes/chunk-000/file-000.parquet"
NETWORK_WORDS = ("hub", "huggingface", "offline", "download", "http")


def sample_copy(tmp_path: Path, task: str | None = None) -> Path:
    """A writable copy of an embedded sample dataset (without --task: 2 cameras, 10 episodes of 150 frames)."""
    found = sample_dataset(task)
    assert found, "the policyzoo-so101 plugin provides the sample datasets"
    return Path(shutil.copytree(found[1], tmp_path / "data"))


def edit_json(path: Path, edit: Callable[[Any], None]) -> None:
    content = json.loads(path.read_text())
    edit(content)
    path.write_text(json.dumps(content))


def info(edit: Callable[[dict], None]) -> Callable[[Path], None]:
    return lambda root: edit_json(root / "meta" / "info.json", edit)


def feature(key: str, **values: Any) -> Callable[[Path], None]:
    return info(lambda content: content["features"][key].update(values))


def stat(key: str, name: str, dim: int, value: float) -> Callable[[Path], None]:
    return lambda root: edit_json(
        root / "meta" / "stats.json", lambda content: content[key][name].__setitem__(dim, value)
    )


def cut(relative: str, keep: float = 0.6) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        data = (root / relative).read_bytes()
        (root / relative).write_bytes(data[: int(len(data) * keep)])

    return edit


def delete(relative: str) -> Callable[[Path], None]:
    return lambda root: (root / relative).unlink()


def assert_one_line(code: int, err: str, folder: Path, *expected: str) -> None:
    """Exit code 2, one line with the `expected` texts, and no word of the network (outside the `folder` named)."""
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    assert not any(word in err.replace(str(folder), "").lower() for word in NETWORK_WORDS), err


CASES = {
    # the cases of issue 37
    "cut-video": (cut(TOP), [TOP, "cut short"]),
    "fps-0": (info(lambda c: c.update(fps=0)), ["meta/info.json", '"fps" is 0']),
    "dtype-string": (feature("next.reward", dtype="string"), [DATA, "'next.reward'", "text values"]),
    "huge-camera": (
        feature("observation.images.left_top", shape=[100000, 100000, 3]),
        ["meta/info.json", "100000x100000"],
    ),
    "std-0": (stat("action", "std", 3, 0.0), ["meta/stats.json", "'action' dimension 3", "std is 0"]),
    "missing-video": (delete(TOP), [TOP, "missing"]),
    "episodes-lie": (info(lambda c: c.update(total_episodes=13)), ["meta/episodes", '"total_episodes": 13']),
    "cut-data": (cut(DATA), [DATA, "not a readable Parquet file"]),
    "action-shape": (feature("action", shape=[13]), [DATA, "'action'", "shape [12]", "shape [13]"]),
    # their relatives
    "camera-size": (
        feature("observation.images.right_front", shape=[64, 80, 3]),
        ["observation.images.right_front/chunk-000/file-000.mp4", "96x96", "64x80"],
    ),
    "fps-nan": (
        lambda root: (root / "meta" / "info.json").write_text(
            (root / "meta" / "info.json").read_text().replace('"fps": 30', '"fps": NaN')
        ),
        ['"fps" is NaN'],
    ),
    "fps-fraction": (info(lambda c: c.update(fps=12.5)), ['"fps" is 12.5']),
    "negative-shape": (feature("observation.state", shape=[-12]), ["meta/info.json", "'observation.state'"]),
    "fraction-shape": (feature("observation.state", shape=[12.5]), ["meta/info.json", "[12.5]"]),
    "unknown-dtype": (feature("action", dtype="float33"), ["meta/info.json", '"float33"']),
    "frames-lie": (info(lambda c: c.update(total_frames=1499)), ["meta/episodes", '"total_frames": 1499']),
    "tasks-lie": (info(lambda c: c.update(total_tasks=2)), ["meta/tasks.parquet", '"total_tasks": 2']),
    "path-outside": (
        info(lambda c: c.update(data_path="../{chunk_index}/{file_index}.parquet")),
        ["meta/info.json", '"data_path"'],
    ),
    "cut-episodes": (cut(EPISODES), [EPISODES, "not a readable Parquet file"]),
    "cut-tasks": (cut("meta/tasks.parquet"), ["meta/tasks.parquet", "not a readable Parquet file"]),
    "missing-data": (delete(DATA), [DATA, "missing"]),
    "garbage-video": (
        lambda root: (root / TOP).write_bytes(b"not a video" * 100),
        [TOP, "not a readable video"],
    ),
    "std-negative": (
        stat("observation.state", "std", 2, -1.0),
        ["'observation.state' dimension 2", "below 0"],
    ),
    "std-tiny": (stat("action", "std", 1, 1e-9), ["'action' dimension 1", "std 1e-09 is smaller"]),
    "mean-nan": (stat("action", "mean", 5, float("nan")), ["'action' dimension 5", "mean is nan"]),
    "max-infinite": (stat("observation.state", "max", 0, float("inf")), ["dimension 0", "max is inf"]),
    "stats-short": (
        lambda root: edit_json(root / "meta" / "stats.json", lambda c: c["action"]["min"].pop()),
        ["meta/stats.json", "'action' min has 11 values", "has 12"],
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_train_refuses_a_broken_dataset_in_one_line(run_cli: RunCli, tmp_path: Path, case: str) -> None:
    edit, expected = CASES[case]
    root = sample_copy(tmp_path)
    edit(root)
    code, _, err = run_cli(
        "train",
        f"--dataset.root={root}",
        "--policy.type=act",
        "--steps=1",
        f"--output_dir={tmp_path / 'out'}",
    )
    assert_one_line(code, err, tmp_path, *expected)
    assert not (tmp_path / "out").exists()


def test_every_command_that_reads_a_dataset_checks_it(run_cli: RunCli, tmp_path: Path) -> None:
    root = sample_copy(tmp_path, "lift")
    cut("videos/observation.images.wrist/chunk-000/file-000.mp4")(root)
    for args in (
        ["dataset", "info", f"--dataset.root={root}"],
        ["replay", f"--dataset.root={root}", "--robot.backend=sim"],
        ["train", f"--dataset.root={root}", "--policy.type=act"],
    ):
        code, _, err = run_cli(*args)
        assert_one_line(code, err, tmp_path, "observation.images.wrist/chunk-000/file-000.mp4", "cut short")


def test_the_samples_and_a_constant_dimension_pass(tmp_path: Path) -> None:
    for task in (None, "lift"):
        assert read_meta(Path(sample_dataset(task)[1])).episodes > 0
    root = sample_copy(tmp_path)

    def constant(content: dict) -> None:  # a joint that never moved: std 0 is right
        for name in ("min", "max", "mean", "q01", "q50", "q99"):
            content["action"][name][4] = 7.0
        content["action"]["std"][4] = 0.0

    edit_json(root / "meta" / "stats.json", constant)
    assert read_meta(root).episodes == 10


def test_image_features_are_compared_with_the_stored_images(tmp_path: Path, tiny_dataset: Path) -> None:
    root = Path(shutil.copytree(tiny_dataset, tmp_path / "data"))
    read_meta(root)
    feature("observation.images.top", shape=[64, 64, 3])(root)
    with pytest.raises(
        BadInput,
        match=r"data/chunk-000/file-000.parquet: 'observation.images.top' holds image "
        r"values of shape \[48, 48, 3\], meta/info.json declares .*\[64, 64, 3\]",
    ):
        read_meta(root)


def test_a_hub_copy_may_lack_files_but_not_hold_broken_ones(
    run_cli: RunCli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = tmp_path / "lerobot"
    monkeypatch.setenv("HF_LEROBOT_HOME", str(home))
    root = sample_copy(tmp_path)
    shutil.move(root, home / "someone" / "sample")
    delete(TOP)(home / "someone" / "sample")  # LeRobot downloads what is missing when it opens the dataset
    code, out, err = run_cli("dataset", "info", "--dataset.repo_id=someone/sample")
    assert code == 0 and "episodes: 10" in out, err
    cut(DATA)(home / "someone" / "sample")
    code, _, err = run_cli("dataset", "info", "--dataset.repo_id=someone/sample")
    assert_one_line(code, err, tmp_path, DATA)


@pytest.mark.parametrize("broken", ["missing-video", "episodes-lie"])
def test_lerobot_failing_on_a_local_folder_never_blames_the_network(tmp_path: Path, broken: str) -> None:
    """What `open_dataset` says when the dataset changed after it was checked (or was never checked)."""
    from policyzoo_runtime.lerobot.datasets import open_dataset
    from policyzoo_runtime.train.prepare import DatasetPlace

    root = sample_copy(tmp_path)
    meta = read_meta(root)
    CASES[broken][0](root)
    place = DatasetPlace(
        "local/data", root, json.loads((root / "meta" / "info.json").read_text()), meta.features
    )
    with pytest.raises(BadInput) as raised:
        open_dataset(place, {})
    message = str(raised.value)
    assert "\n" not in message and str(root) in message
    assert not any(word in message.replace(str(tmp_path), "").lower() for word in NETWORK_WORDS), message


@pytest.mark.slow
def test_a_video_broken_while_training_is_one_line_from_a_data_worker(tmp_path: Path) -> None:
    import torch

    from policyzoo_runtime.lerobot.datasets import open_dataset
    from policyzoo_runtime.lerobot.frames import TrainingFrames, training_frames
    from policyzoo_runtime.train.prepare import DatasetPlace

    root = sample_copy(tmp_path, "lift")
    meta = read_meta(root)
    frames = training_frames(open_dataset(DatasetPlace("local/data", root, meta.info, meta.features), {}))
    assert isinstance(frames, TrainingFrames)
    cut("videos/observation.images.wrist/chunk-000/file-000.mp4", keep=0.3)(root)
    loader = torch.utils.data.DataLoader(frames, batch_sampler=[[len(frames) - 1]], num_workers=1)
    with pytest.raises(BadInput) as raised:
        next(iter(loader))
    message = str(raised.value)
    assert "\n" not in message and message.startswith(str(root / "videos" / "observation.images.wrist")), (
        message
    )
    assert "copy the dataset again" in message
