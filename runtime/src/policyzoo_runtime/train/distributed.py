"""What accelerate wraps for one or several processes (`accelerate launch`): the handle's loss as a module, the
optimizer, the scheduler and the data loader, and the decision to stop that all processes share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from accelerate import Accelerator

from policyzoo.handle import PolicyHandle, module_of


class Objective(torch.nn.Module):
    """`forward(batch)` is `handle.loss(batch)`, over the handle's own module (its `parameters()` when it has
    none), so DDP sees the forward call and every parameter; the handle is reached back through
    `accelerator.unwrap_model(model).handle`."""

    def __init__(self, handle: PolicyHandle) -> None:
        super().__init__()
        module = module_of(handle)
        self.policy = module if module is not None else torch.nn.ParameterList(handle.parameters())
        self.handle = handle

    def forward(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        return self.handle.loss(batch)


@dataclass
class Prepared:
    """The run's objects as `accelerator.prepare` returned them."""

    model: torch.nn.Module
    optimizer: Any
    scheduler: Any
    loader: Any


def prepare(
    accelerator: Accelerator, handle: PolicyHandle, optimizer: Any, scheduler: Any, loader: Any
) -> Prepared:
    """Wrap model (DDP for several processes, which starts every process from the main one's weights),
    optimizer, scheduler and data loader (each process reads its own share of every step's batches)."""
    model = Objective(handle)
    if scheduler is None:
        model, optimizer, loader = accelerator.prepare(model, optimizer, loader)
    else:
        model, optimizer, scheduler, loader = accelerator.prepare(model, optimizer, scheduler, loader)
    return Prepared(model, optimizer, scheduler, loader)


def any_process_stopping(accelerator: Accelerator, signum: int) -> bool:
    """True when this or any other process was asked to stop, on every process at the same step."""
    if signum:
        accelerator.set_trigger()
    return accelerator.check_trigger()
