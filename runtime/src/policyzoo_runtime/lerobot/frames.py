"""The samples of a LeRobotDataset as its `__getitem__` gives them, read faster, camera frames kept as uint8.

`TrainingFrames` wraps an opened `LeRobotDataset` (its metadata, episodes, delta indices, tolerance) and
replaces what is slow in 0.4.4's item: the parquet columns are read once into tensors instead of through the
`datasets` formatter for every sample and window, episode bounds and video files are looked up in arrays, and
videos are decoded by `policyzoo_runtime.lerobot.video.OpenVideos`. The frames leave the data workers as uint8 (a
quarter of the bytes); `float_frames` makes them the float32 in [0, 1] LeRobot yields, with the same
arithmetic, on the trainer's side (after the move to the device). With image transforms the frames become
float in the worker, as in LeRobot, because the transforms work on float images.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from policyzoo_runtime.lerobot.video import OpenVideos


def training_frames(dataset: Any, video_backend: str = "pyav") -> Any:
    """`TrainingFrames(dataset)` where it applies (every camera a video, the pyav backend, the one `dataset` was
    opened with); else `dataset`."""
    meta = dataset.meta
    if video_backend != "pyav" or set(meta.camera_keys) != set(meta.video_keys):
        return dataset
    return TrainingFrames(dataset)


def sample_positions(dataset: Any, drop_last: int) -> range | list[int]:
    """The positions of `dataset` (a LeRobotDataset or its `TrainingFrames`) a training sample may start at:
    all, or with `drop_last` > 0 those more than `drop_last` frames before their episode's end, the frames
    LeRobot's `EpisodeAwareSampler(drop_n_last_frames=...)` draws from."""
    if drop_last <= 0:
        return range(len(dataset))
    if isinstance(dataset, TrainingFrames):
        absolute, episode = dataset.columns["index"].numpy(), dataset.columns["episode_index"].numpy()
        end = {number: int(dataset.bounds[row, 1]) for number, row in dataset.episode_row.items()}
    else:
        table = dataset.hf_dataset.with_format("numpy", columns=["index", "episode_index"])
        absolute, episode = np.asarray(table["index"]), np.asarray(table["episode_index"])
        episodes = dataset.meta.episodes.with_format("numpy", columns=["episode_index", "dataset_to_index"])
        end = dict(
            zip(
                np.asarray(episodes["episode_index"]).tolist(),
                np.asarray(episodes["dataset_to_index"]).tolist(),
                strict=True,
            )
        )
    ends = np.array([end[int(number)] for number in episode.tolist()], dtype=np.int64)
    return np.flatnonzero(absolute < ends - drop_last).tolist()


def float_frames(batch: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """`batch` with the uint8 frames of cameras `keys` as float32 in [0, 1]: LeRobot's decoder computes
    `frames.type(float32) / 255`; dividing the converted copy in place gives the same numbers with one
    allocation fewer."""
    for key in keys:
        if batch[key].dtype == torch.uint8:
            batch[key] = batch[key].to(torch.float32).div_(255)
    return batch


def float_batches(batches: Iterable[dict[str, Any]], keys: tuple[str, ...]) -> Iterator[dict[str, Any]]:
    """The `batches` of a loader over `TrainingFrames`, through `float_frames`."""
    for batch in batches:
        yield float_frames(batch, keys)


def _as_lerobot_tensor(values: np.ndarray) -> torch.Tensor:
    """A column as LeRobot's `hf_transform_to_torch` types it (python numbers through `torch.tensor`)."""
    tensor = torch.from_numpy(np.ascontiguousarray(values))
    if tensor.is_floating_point():
        return tensor.to(torch.get_default_dtype())
    return tensor if tensor.dtype == torch.bool else tensor.to(torch.int64)


class TrainingFrames(torch.utils.data.Dataset):
    """`dataset[i]`'s keys, values and padding masks, with camera frames as uint8 (see `float_frames`)."""

    def __init__(self, dataset: Any) -> None:
        meta = dataset.meta
        table = dataset.hf_dataset.with_format("numpy")
        self.columns = {name: _as_lerobot_tensor(np.asarray(table[name])) for name in table.column_names}
        absolute = self.columns["index"].numpy()
        self.relative = np.full(int(absolute.max()) + 1, -1, dtype=np.int64)
        self.relative[absolute] = np.arange(len(absolute))
        episodes = meta.episodes.with_format("numpy")
        self.episode_row = {int(e): row for row, e in enumerate(np.asarray(episodes["episode_index"]))}
        self.bounds = np.stack(
            [np.asarray(episodes["dataset_from_index"]), np.asarray(episodes["dataset_to_index"])], axis=1
        ).astype(np.int64)
        self.videos = {key: self._video_places(meta, episodes, key) for key in meta.video_keys}
        self.frame_keys = tuple(self.videos)
        self.delta = {
            key: np.asarray(indices, dtype=np.int64)
            for key, indices in (dataset.reader.delta_indices or {}).items()
        }
        self.tasks = list(meta.tasks.index)
        self.subtasks = (
            list(meta.subtasks.index)
            if "subtask_index" in meta.features and meta.subtasks is not None
            else None
        )
        self.root, self.tolerance_s = Path(dataset.root), dataset.tolerance_s
        self.transforms = dataset.image_transforms
        self.decoder: OpenVideos | None = None

    @staticmethod
    def _video_places(meta: Any, episodes: Any, key: str) -> list[tuple[str, float]]:
        """(file, start time in it) of each episode's video of camera `key`, by episode row."""
        chunks, files = episodes[f"videos/{key}/chunk_index"], episodes[f"videos/{key}/file_index"]
        starts = episodes[f"videos/{key}/from_timestamp"]
        return [
            (meta.video_path.format(video_key=key, chunk_index=int(c), file_index=int(f)), float(s))
            for c, f, s in zip(chunks, files, starts, strict=True)
        ]

    def __len__(self) -> int:
        return len(self.columns["index"])

    def __getitem__(self, idx: int) -> dict[str, Any]:
        item: dict[str, Any] = {name: column[idx] for name, column in self.columns.items()}
        absolute, row = int(item["index"]), self.episode_row[int(item["episode_index"])]
        start, end = self.bounds[row]
        window: dict[str, np.ndarray] = {}
        for key, delta in self.delta.items():
            wanted = absolute + delta
            window[key] = np.clip(wanted, start, end - 1)
            item[f"{key}_is_pad"] = torch.from_numpy((wanted < start) | (wanted >= end))
            if key in self.columns:
                item[key] = self.columns[key][self._rows(window[key])]
        timestamps = self.columns["timestamp"]
        for key, places in self.videos.items():
            if key in window:
                times = timestamps[self._rows(window[key])].tolist()
            else:
                times = [float(item["timestamp"])]
            path, offset = places[row]
            frames = self._decoder().frames(self.root / path, [offset + t for t in times], self.tolerance_s)
            frames = frames.squeeze(0)
            item[key] = (
                frames if self.transforms is None else self.transforms(frames.type(torch.float32) / 255)
            )
        item["task"] = self.tasks[int(item["task_index"])]
        if self.subtasks is not None:
            item["subtask"] = self.subtasks[int(item["subtask_index"])]
        return item

    def _rows(self, absolute: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(self.relative[absolute])

    def _decoder(self) -> OpenVideos:
        if self.decoder is None:  # data workers share the cores: one decoder thread each
            in_worker = torch.utils.data.get_worker_info() is not None
            self.decoder = OpenVideos(threads=1 if in_worker else 0)
        return self.decoder
