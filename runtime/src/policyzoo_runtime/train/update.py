"""One batch through the prepared model, the optimizer step that ends each accumulation, and what counts as a
diverged step (a non-finite loss or gradient norm)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
from accelerate import Accelerator

from policyzoo.handle import PolicyHandle, after_step_of, clip_norm_of
from policyzoo_runtime.train.distributed import Prepared


class NonFinite(Exception):
    """The loss or the gradient norm of a step became NaN or infinite."""

    def __init__(self, what: str, value: float) -> None:
        super().__init__(f"{what} {value}")
        self.what = what
        self.value = value


@dataclass
class Outcome:
    """One batch: its loss and the policy's other loss terms, averaged over the processes, and the gradient
    norm before clipping when the batch ended an accumulation (None otherwise)."""

    values: dict[str, float]
    grad_norm: float | None


class Updater:
    """loss -> backward (DDP averages the gradients) -> at the end of each accumulation: clipped gradients, the
    optimizer and scheduler steps, the handle's update."""

    def __init__(self, handle: PolicyHandle, prepared: Prepared, accelerator: Accelerator) -> None:
        self.handle, self.prepared, self.accelerator = handle, prepared, accelerator
        self.clip = clip_norm_of(handle)
        self.after_step = after_step_of(handle)

    def __call__(self, batch: dict[str, Any]) -> Outcome:
        """Raises NonFinite on every process together when the loss or gradient norm diverged."""
        model, optimizer, scheduler = self.prepared.model, self.prepared.optimizer, self.prepared.scheduler
        self.handle.train_mode(True)
        with self.accelerator.accumulate(model):
            loss, info = model(batch)
            values = self._mean({"loss": loss.detach(), **info})
            if not math.isfinite(values["loss"]):
                raise NonFinite("loss", values["loss"])
            self.accelerator.backward(loss)
            if not self.accelerator.sync_gradients:
                return Outcome(values, None)
            grad_norm = float(self.accelerator.clip_grad_norm_(model.parameters(), self.clip))
            if (
                not math.isfinite(grad_norm) and self.accelerator.scaler is None
            ):  # fp16's scaler skips such steps
                raise NonFinite("gradient norm", grad_norm)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            if scheduler is not None:
                scheduler.step()
        if self.after_step is not None:
            self.after_step()
        return Outcome(values, grad_norm)

    def _mean(self, values: dict[str, Any]) -> dict[str, float]:
        """`values` averaged over the processes (for the log; the gradients are DDP's)."""
        stacked = torch.tensor([float(value) for value in values.values()], device=self.accelerator.device)
        return dict(zip(values, self.accelerator.reduce(stacked, reduction="mean").tolist(), strict=True))
