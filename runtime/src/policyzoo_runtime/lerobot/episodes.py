"""A LeRobot v3.0 dataset that episodes are recorded into, one frame at a time: new, or resumed to append."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from policyzoo.errors import BadInput
from policyzoo.interrupts import deferred_interrupts
from policyzoo_runtime.quiet import quiet_lerobot

IMAGE_WRITER_THREADS = 4
"""Threads writing each camera's frames to disk, as lerobot-record uses, so the control loop never waits."""
IMAGE_TYPES = ("image", "video")
LEROBOT_KEYS = {"timestamp", "frame_index", "episode_index", "index", "task_index"}
"""Columns LeRobot adds to every dataset."""


class EpisodeWriter:
    """Frames go into the episode being recorded; `save()` keeps it, `discard()` drops it, `close()` finalizes
    the dataset (without it the parquet files have no footers).

    The newest frame is held back until the next one comes (or the episode is saved), so that `set_last` can
    still change it through LeRobot's public `add_frame`. Saving and finalizing are never cut in half: Ctrl-C,
    SIGTERM and SIGHUP wait for them to end."""

    def __init__(self, dataset: Any) -> None:
        self.dataset = dataset
        self.held: dict[str, Any] | None = None
        self.frames = 0
        """Frames in the episode being recorded."""

    @property
    def episodes(self) -> int:
        """Episodes in the dataset, saved ones only."""
        return int(self.dataset.meta.total_episodes)

    @property
    def root(self) -> Path:
        return Path(self.dataset.root)

    def add(self, frame: dict[str, Any]) -> None:
        self._release()
        self.held = dict(frame)
        self.frames += 1

    def set_last(self, key: str, value: Any) -> None:
        """Change `key` of the last frame added (e.g. a success mark given once the episode is over)."""
        if self.held is None:
            raise ValueError("no frame added since the last save")
        self.held[key] = np.asarray(value)

    def save(self) -> int:
        """Keep the episode recorded so far; returns its index in the dataset."""
        self._release()
        index = self.episodes
        with deferred_interrupts(), quiet_lerobot():  # the encoder's log and the datasets bars
            self.dataset.save_episode()
        self.frames = 0
        return index

    def discard(self) -> None:
        self.held = None
        if self.frames:
            self.dataset.clear_episode_buffer()
        self.frames = 0

    def close(self) -> None:
        with deferred_interrupts():
            self.discard()
            with quiet_lerobot():  # the encoder's log and the datasets bars
                self.dataset.finalize()

    def _release(self) -> None:
        if self.held is not None:
            self.dataset.add_frame(self.held)
            self.held = None


def create_writer(
    repo_id: str, root: Path, fps: int, features: dict[str, dict[str, Any]], robot_type: str, use_videos: bool
) -> EpisodeWriter:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    dataset = LeRobotDataset.create(
        repo_id=repo_id,
        fps=fps,
        features=features,
        root=root,
        robot_type=robot_type,
        use_videos=use_videos,
        image_writer_threads=_writer_threads(features),
    )
    return EpisodeWriter(dataset)


def resume_writer(
    repo_id: str, root: Path, fps: int, features: dict[str, dict[str, Any]], flag: str = "--dataset.root"
) -> EpisodeWriter:
    """The dataset at `root`, to append episodes to; BadInput unless it was recorded with these features and fps."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    try:
        dataset = LeRobotDataset.resume(repo_id, root=root, image_writer_threads=_writer_threads(features))
    except Exception as exc:  # LeRobot raises many types for a broken or partial dataset
        raise BadInput(
            f"{flag}={root}: LeRobot cannot open the dataset to resume it "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})"
        ) from None
    problems = _differences(dataset.meta.features, dataset.fps, features, fps)
    if problems:
        raise BadInput(
            f"{flag}={root}: cannot append, the dataset was recorded differently: {'; '.join(problems)}"
        )
    return EpisodeWriter(dataset)


def _differences(have: dict[str, Any], have_fps: int, want: dict[str, dict[str, Any]], fps: int) -> list[str]:
    problems = [f"fps {have_fps}, now {fps}"] if have_fps != fps else []
    for key, feature in want.items():
        if key not in have:
            problems.append(f"it has no {key}")
        elif tuple(have[key]["shape"]) != tuple(feature["shape"]) or have[key]["dtype"] != feature["dtype"]:
            problems.append(
                f"{key} is {have[key]['dtype']} {tuple(have[key]['shape'])}, now "
                f"{feature['dtype']} {tuple(feature['shape'])}"
            )
        elif feature["dtype"] not in IMAGE_TYPES and list(have[key].get("names") or []) != list(
            feature["names"]
        ):
            problems.append(
                f"{key} names {', '.join(have[key].get('names') or [])}, now {', '.join(feature['names'])}"
            )
    problems += [
        f"it has {key}, which is not recorded now" for key in sorted(set(have) - set(want) - LEROBOT_KEYS)
    ]
    return problems


def _writer_threads(features: dict[str, dict[str, Any]]) -> int:
    return IMAGE_WRITER_THREADS * sum(feature["dtype"] in IMAGE_TYPES for feature in features.values())
