"""Saving a checkpoint during a run, and what is left to continue from when a save fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from accelerate import Accelerator

from policyzoo.handle import PolicyHandle
from policyzoo.train import checkpoints
from policyzoo.train.config import TrainConfig
from policyzoo.train.prepare import DatasetPlace


class SaveFailed(Exception):
    """A checkpoint could not be written (disk full, quota, permissions); the message says how to go on."""


class Saver:
    """Writes `OUTPUT/checkpoints/<step>` for the run and remembers the last good one."""

    def __init__(self, output_dir: Path, config: TrainConfig, place: DatasetPlace, handle: PolicyHandle,
                 optimizer: Any, scheduler: Any, accelerator: Accelerator, start_step: int) -> None:
        self.output_dir, self.config, self.place, self.handle = output_dir, config, place, handle
        self.optimizer, self.scheduler, self.accelerator = optimizer, scheduler, accelerator
        self.saved_step: int | None = start_step if config.resume else None

    def save(self, step: int, summary: dict[str, Any]) -> Path:
        """The checkpoint of `step` with `summary` in its policyzoo.json; SaveFailed when it cannot be written."""
        try:
            path = checkpoints.save(
                self.output_dir,
                step,
                self.handle,
                self.optimizer,
                self.scheduler,
                self.accelerator.scaler,
                self.config,
                (self.place.repo_id, self.place.info),
                self.place.robot,
                summary,
            )
        except OSError as exc:  # disk full, quota, permissions: the half-written folder is already removed
            raise SaveFailed(
                f"could not save the checkpoint of step {step} in {self.output_dir} ({exc.strerror or exc}). "
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
            f"{self.output_dir / checkpoints.CHECKPOINTS / checkpoints.LAST}."
        )
