"""Settings of one deploy run; `policyzoo deploy` binds its flags to the fields (`policyzoo.flags.bind`)."""

from __future__ import annotations

import os
from typing import Annotated

from pydantic import ConfigDict, Field

from policyzoo.flags import Flag
from policyzoo_runtime.settings import Settings

Finite = Field(allow_inf_nan=False)
"""A number field that refuses inf and nan."""


class DeployConfig(Settings):
    model_config = ConfigDict(frozen=True)

    fps: Annotated[int, Field(ge=1), Flag("fps")] = 30
    duration_s: Annotated[
        float | None, Field(gt=0), Finite, Flag("duration_s", "a finite number of seconds > 0")
    ] = None
    """Run round(duration_s * fps) ticks; None runs until Ctrl-C."""
    async_inference: Annotated[bool, Flag("async")] = False
    """Predict the next chunk in a background thread while the current one executes."""
    chunk_threshold: Annotated[float, Field(ge=0, le=1), Flag("chunk_threshold")] = 0.5
    """Async: ask for a new chunk when at most this fraction of the last chunk is left to execute."""
    temporal_ensemble: Annotated[
        float | None, Finite, Flag("temporal_ensemble", "a finite number >= 0 or none", none=True, least=0)
    ] = None
    """ACT temporal ensembling coefficient (0.01 in the ACT paper); None executes chunks as they are."""
    n_action_steps: Annotated[int | None, Field(ge=1), Flag("n_action_steps")] = None
    """Actions executed from each chunk before predicting again (sync); None: the policy's own setting."""
    max_relative_target: Annotated[
        float | None,
        Field(gt=0),
        Finite,
        Flag("max_relative_target", "a finite number > 0 or none", none=True),
    ] = None
    """Largest change of any joint target per tick, in robot units; None: no limit."""
    inference_threads: Annotated[int | None, Field(ge=1), Flag("inference_threads")] = None
    """Torch threads for predicting chunks; None: all cores but one in async mode (one core stays with the
    control loop), torch's default in sync mode."""
    stale_after_s: Annotated[float, Field(gt=0), Finite] = 0.5
    """An observation that takes longer than this to read is stale: hold position and stop."""
    task: Annotated[str, Flag("task")] = ""

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
