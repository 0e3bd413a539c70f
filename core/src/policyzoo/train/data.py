"""The order of the training data: batches sampled reproducibly by position in one stream (the dataset itself is
opened by `policyzoo.lerobot.datasets.open_dataset`)."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from policyzoo.errors import BadInput


class StepBatchSampler:
    """An endless stream of batches of `batch_size` indices that depends only on (seed, position): one seeded
    permutation of the dataset per epoch, cut into consecutive batches; `start` batches are skipped.

    accelerate's prepared loader deals the stream out to the processes in turn, so one optimizer step of
    `processes x accumulation` batches covers the same samples as one process taking them all at once, each
    process reads its own share, and a run resumed at the right `start` sees what an unbroken run sees.
    """

    def __init__(self, size: int, batch_size: int, seed: int, start: int = 0) -> None:
        if size < 1:
            raise BadInput("the dataset has no frames; record at least one episode")
        self.size, self.batch_size, self.seed, self.start = size, batch_size, seed, start

    def _order(self, epoch: int) -> list[int]:
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
        return torch.randperm(self.size, generator=generator).tolist()

    def __iter__(self) -> Iterator[list[int]]:
        epoch, offset = divmod(self.start * self.batch_size, self.size)
        order = self._order(epoch)
        while True:
            batch: list[int] = []
            while len(batch) < self.batch_size:
                taken = order[offset : offset + self.batch_size - len(batch)]
                batch += taken
                offset += len(taken)
                if offset == self.size:
                    epoch, offset = epoch + 1, 0
                    order = self._order(epoch)
            yield batch
