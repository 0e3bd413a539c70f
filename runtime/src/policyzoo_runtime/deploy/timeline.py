"""Which action runs at which tick: chunks placed on the tick of their observation, optionally ensembled."""

from __future__ import annotations

import math

import numpy as np


class Timeline:
    """Future actions by tick.

    A chunk predicted from the observation of tick `t0` holds the actions for ticks t0, t0+1, ...;
    actions for ticks already past are dropped. Without ensembling a newer chunk replaces what is queued;
    with ACT temporal ensembling (coefficient m) every prediction for a tick is averaged with weights
    exp(-m * k), k = 0 for the oldest prediction of that tick.
    """

    def __init__(self, ensemble_coeff: float | None = None) -> None:
        self.ensemble_coeff = ensemble_coeff
        self._sums: dict[int, np.ndarray] = {}
        self._weights: dict[int, float] = {}
        self._counts: dict[int, int] = {}
        self.last_chunk_length = 0

    def add(self, chunk: np.ndarray, start_tick: int, now_tick: int) -> int:
        """Place `chunk` from `start_tick` on; return how many of its actions are still in the future."""
        chunk = np.asarray(chunk, dtype=np.float64)
        self.last_chunk_length = len(chunk)
        if self.ensemble_coeff is None:
            self._drop(lambda tick: True)
        kept = 0
        for offset, action in enumerate(chunk):
            tick = start_tick + offset
            if tick < now_tick:
                continue
            kept += 1
            count = self._counts.get(tick, 0)
            weight = 1.0 if self.ensemble_coeff is None else math.exp(-self.ensemble_coeff * count)
            self._sums[tick] = self._sums.get(tick, 0.0) + weight * action
            self._weights[tick] = self._weights.get(tick, 0.0) + weight
            self._counts[tick] = count + 1
        return kept

    def pop(self, tick: int) -> np.ndarray | None:
        """The action for `tick` (None when nothing was predicted for it); forgets ticks up to it."""
        action = None
        if tick in self._sums:
            action = self._sums[tick] / self._weights[tick]
        self._drop(lambda t: t <= tick)
        return action

    def remaining(self, tick: int) -> int:
        """How many consecutive ticks from `tick` on have an action."""
        count = 0
        while tick + count in self._sums:
            count += 1
        return count

    def _drop(self, predicate) -> None:
        for tick in [t for t in self._sums if predicate(t)]:
            del self._sums[tick], self._weights[tick], self._counts[tick]
