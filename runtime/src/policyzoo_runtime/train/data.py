"""The order of the training data: batches sampled reproducibly by position in one stream (the dataset itself is
opened by `policyzoo_runtime.lerobot.datasets.open_dataset`)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch

from policyzoo.errors import BadInput


class StepBatchSampler:
    """An endless stream of batches of `batch_size` dataset positions (from `positions`) that depends only on
    (seed, place in the stream): one seeded permutation of `positions` per epoch, cut into consecutive batches;
    `start` batches are skipped.

    accelerate's prepared loader deals the stream out to the processes in turn, so one optimizer step of
    `processes x accumulation` batches covers the same samples as one process taking them all at once, each
    process reads its own share, and a run resumed at the right `start` sees what an unbroken run sees.
    """

    def __init__(self, positions: Sequence[int], batch_size: int, seed: int, start: int = 0) -> None:
        if not positions:
            raise BadInput("the dataset has no frames to train on; record at least one (longer) episode")
        if batch_size > len(positions):
            raise BadInput(
                f"--batch_size={batch_size}: more than the {len(positions)} frames to train on; use at "
                f"most {len(positions)}"
            )
        self.positions = torch.as_tensor(positions, dtype=torch.int64)
        self.size, self.batch_size, self.seed, self.start = len(positions), batch_size, seed, start

    def _order(self, epoch: int) -> list[int]:
        generator = torch.Generator().manual_seed((self.seed * 1_000_003 + epoch) % 2**63)
        return self.positions[torch.randperm(self.size, generator=generator)].tolist()

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
