"""Saving a checkpoint during a run, and what is left to continue from when a save fails."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from accelerate import Accelerator
from safetensors import SafetensorError

from policyzoo_runtime.train import checkpoint_dirs
from policyzoo_runtime.train.config import TrainConfig
from policyzoo_runtime.train.distributed import Prepared
from policyzoo_runtime.train.prepare import DatasetPlace


class SaveFailed(Exception):
    """A checkpoint could not be written (disk full, quota, permissions); the message says how to go on."""


class Saver:
    """Writes `OUTPUT/checkpoints/<step>` for the run and remembers the last good one."""

    def __init__(
        self,
        output_dir: Path,
        config: TrainConfig,
        place: DatasetPlace,
        prepared: Prepared,
        accelerator: Accelerator,
        start_step: int,
        lerobot_config: Any = None,
    ) -> None:
        self.output_dir, self.config, self.place = output_dir, config, place
        self.lerobot_config = lerobot_config
        """The run as LeRobot's `TrainPipelineConfig` (None for a policy that is not LeRobot's)."""
        self.prepared, self.accelerator = prepared, accelerator
        self.saved_step: int | None = start_step if config.resume else None

    def save(self, step: int, summary: dict[str, Any]) -> Path:
        """The checkpoint of `step` with `summary` in its policyzoo.json; SaveFailed when it cannot be written.

        Call on the main process only: it saves the model unwrapped from DDP, as LeRobot loads it."""
        handle = self.accelerator.unwrap_model(self.prepared.model).handle
        try:
            path = checkpoint_dirs.save(
                self.output_dir,
                step,
                handle,
                self.prepared.optimizer,
                self.prepared.scheduler,
                self.accelerator.scaler,
                self.config,
                (self.place.repo_id, self.place.info),
                self.place.robot,
                summary,
                self.lerobot_config,
            )
        except (OSError, SafetensorError) as exc:  # disk full, quota, permissions: the half-written folder is
            # already removed
            raise SaveFailed(
                f"could not save the checkpoint of step {step} in {self.output_dir} ({write_problem(exc)}). "
                f"{self.kept()} Free space (or fix the folder's permissions), then continue with: "
                f"policyzoo train --resume=true --output_dir={self.output_dir}"
            ) from None
        self.saved_step = step
        return path

    def kept(self) -> str:
        """What a stopped run leaves to continue from."""
        if self.saved_step is None:
            return "No checkpoint had been saved yet."
        return (
            f"The last good checkpoint (step {self.saved_step}) is kept in "
            f"{self.output_dir / checkpoint_dirs.CHECKPOINTS / checkpoint_dirs.LAST}."
        )


def write_problem(exc: OSError | SafetensorError) -> str:
    """The cause of a failed write in a few words: safetensors reports the OS error inside its own text."""
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    number = re.search(r"(?:os error |code: )(\d+)", str(exc))
    return os.strerror(int(number.group(1))) if number else " ".join(str(exc).split())[:160]
