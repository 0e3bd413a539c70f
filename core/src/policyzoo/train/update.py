"""One optimizer step of a handle, and what counts as a diverged one (a non-finite loss or gradient norm)."""

from __future__ import annotations

import math
from typing import Any

import torch
from accelerate import Accelerator

from policyzoo.handle import PolicyHandle, after_step_of, clip_norm_of
from policyzoo.train.distributed import average_gradients


class NonFinite(Exception):
    """The loss or the gradient norm of a step became NaN or infinite."""

    def __init__(self, what: str, value: float) -> None:
        super().__init__(f"{what} {value}")
        self.what = what
        self.value = value


class Updater:
    """loss -> backward -> (averaged, clipped) gradients -> optimizer and scheduler step -> the handle's update."""

    def __init__(self, handle: PolicyHandle, optimizer: Any, scheduler: Any, accelerator: Accelerator,
                 parameters: list[torch.nn.Parameter]) -> None:
        self.handle, self.optimizer, self.scheduler, self.accelerator = handle, optimizer, scheduler, accelerator
        self.parameters = parameters
        self.clip = clip_norm_of(handle)
        self.after_step = after_step_of(handle)

    def __call__(self, batch: dict[str, Any]) -> tuple[float, float, dict[str, float]]:
        """(loss, gradient norm before clipping, the policy's other loss terms); NonFinite when diverged."""
        self.handle.train_mode(True)
        with self.accelerator.autocast():
            loss, info = self.handle.loss(batch)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise NonFinite("loss", value)
        self.accelerator.backward(loss)
        average_gradients(self.accelerator, self.parameters)
        grad_norm = float(self.accelerator.clip_grad_norm_(self.parameters, self.clip))
        if not math.isfinite(grad_norm) and self.accelerator.scaler is None:  # AMP's scaler skips such steps
            raise NonFinite("gradient norm", grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.scheduler is not None:
            self.scheduler.step()
        if self.after_step is not None:
            self.after_step()
        return value, grad_norm, info
