"""The training data: a LeRobot dataset with each policy's frame offsets, sampled reproducibly by step."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import torch

from policyzoo.errors import BadInput
from policyzoo.train.prepare import DatasetPlace


def delta_timestamps(delta_indices: dict[str, list[int]], fps: int, keys: set[str]) -> dict[str, list[float]]:
    """Frame offsets as seconds, for the keys the dataset has."""
    return {key: [index / fps for index in indices] for key, indices in delta_indices.items() if key in keys}


def open_dataset(place: DatasetPlace, delta_indices: dict[str, list[int]]) -> Any:
    """The LeRobotDataset at `place`, yielding the past/future frames the policy asks for."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    # LeRobot decodes videos with PyAV through torchvision, which warns about its own future on every run.
    warnings.filterwarnings("ignore", message="The video decoding and encoding capabilities of torchvision")
    fps = int(place.info["fps"])
    timestamps = delta_timestamps(delta_indices, fps, set(place.info.get("features", {})))
    try:
        return LeRobotDataset(
            place.repo_id, root=place.root, delta_timestamps=timestamps or None, video_backend="pyav"
        )
    except Exception as exc:  # LeRobot raises many types for a broken or partial dataset
        raise BadInput(
            f"dataset {place.repo_id} at {place.root}: LeRobot cannot read it "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]})"
        ) from None


class StepBatchSampler:
    """Batches of indices that depend only on (seed, step): a resumed run sees the data an unbroken run sees.

    The stream is one seeded permutation of the dataset per epoch, cut into global batches of
    `batch_size * world` indices; process `rank` takes its own `batch_size` slice of each.
    """

    def __init__(
        self, size: int, batch_size: int, seed: int, start_step: int = 0, rank: int = 0, world: int = 1
    ) -> None:
        if size < 1:
            raise BadInput("the dataset has no frames; record at least one episode")
        self.size, self.batch_size, self.seed = size, batch_size, seed
        self.start_step, self.rank, self.world = start_step, rank, world

    def _order(self, epoch: int) -> list[int]:
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
        return torch.randperm(self.size, generator=generator).tolist()

    def __iter__(self) -> Iterator[list[int]]:
        per_step = self.batch_size * self.world
        epoch, offset = divmod(self.start_step * per_step, self.size)
        order = self._order(epoch)
        while True:
            batch: list[int] = []
            while len(batch) < per_step:
                taken = order[offset : offset + per_step - len(batch)]
                batch += taken
                offset += len(taken)
                if offset == self.size:
                    epoch, offset = epoch + 1, 0
                    order = self._order(epoch)
            yield batch[self.rank * self.batch_size : (self.rank + 1) * self.batch_size]
