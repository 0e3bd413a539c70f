"""The order of the training data: batches sampled reproducibly by step (the dataset itself is opened by
`policyzoo.lerobot.datasets.open_dataset`)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from policyzoo.errors import BadInput


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
