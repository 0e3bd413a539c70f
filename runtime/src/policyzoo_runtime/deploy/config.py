"""Settings of one deploy run."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass


@dataclass(frozen=True)
class DeployConfig:
    fps: int = 30
    duration_s: float | None = None
    """Run round(duration_s * fps) ticks; None runs until Ctrl-C."""
    async_inference: bool = False
    """Predict the next chunk in a background thread while the current one executes."""
    chunk_threshold: float = 0.5
    """Async: ask for a new chunk when at most this fraction of the last chunk is left to execute."""
    temporal_ensemble: float | None = None
    """ACT temporal ensembling coefficient (0.01 in the ACT paper); None executes chunks as they are."""
    n_action_steps: int | None = None
    """Actions executed from each chunk before predicting again (sync); None: the policy's own setting."""
    max_relative_target: float | None = None
    """Largest change of any joint target per tick, in robot units; None: no limit."""
    inference_threads: int | None = None
    """Torch threads for predicting chunks; None: all cores but one in async mode (one core stays with the
    control loop), torch's default in sync mode."""
    stale_after_s: float = 0.5
    """An observation that takes longer than this to read is stale: hold position and stop."""
    task: str = ""

    def __post_init__(self) -> None:
        if self.fps <= 0:
            raise ValueError("fps must be positive")
        if self.duration_s is not None and not _positive(self.duration_s):
            raise ValueError("duration_s must be a finite positive number of seconds")
        if not 0.0 <= self.chunk_threshold <= 1.0:
            raise ValueError("chunk_threshold must be between 0 and 1")
        if self.temporal_ensemble is not None and not math.isfinite(self.temporal_ensemble):
            raise ValueError("temporal_ensemble must be a finite number")
        if self.n_action_steps is not None and self.n_action_steps < 1:
            raise ValueError("n_action_steps must be at least 1")
        if self.inference_threads is not None and self.inference_threads < 1:
            raise ValueError("inference_threads must be at least 1")
        if self.max_relative_target is not None and not _positive(self.max_relative_target):
            raise ValueError("max_relative_target must be a finite positive number")
        if not _positive(self.stale_after_s):
            raise ValueError("stale_after_s must be a finite positive number of seconds")

    @property
    def n_ticks(self) -> int | None:
        return None if self.duration_s is None else max(1, round(self.duration_s * self.fps))

    @property
    def threads(self) -> int | None:
        """The torch thread count to set for this run (None: leave torch's setting)."""
        if self.inference_threads is None and self.async_inference:
            return max(1, (os.cpu_count() or 2) - 1)
        return self.inference_threads

    @property
    def mode(self) -> str:
        return "async" if self.async_inference else "sync"


def _positive(value: float) -> bool:
    return math.isfinite(value) and value > 0
