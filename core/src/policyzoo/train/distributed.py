"""What several training processes (`accelerate launch`) must agree on: the starting weights, the averaged
gradients and whether to stop. Hand-written because a handle is not a module accelerate can wrap."""

from __future__ import annotations

import torch
from accelerate import Accelerator


def broadcast_parameters(accelerator: Accelerator, parameters: list[torch.nn.Parameter]) -> None:
    """Every process starts from the main process's weights."""
    if accelerator.num_processes > 1:
        for parameter in parameters:
            torch.distributed.broadcast(parameter.data, src=0)


def average_gradients(accelerator: Accelerator, parameters: list[torch.nn.Parameter]) -> None:
    """All-reduce gradients across processes (the handle is not a module accelerate can wrap)."""
    if accelerator.num_processes == 1:
        return
    trainable = [p for p in parameters if p.requires_grad]
    for parameter in trainable:
        if parameter.grad is None:
            parameter.grad = torch.zeros_like(parameter)
    flat = accelerator.reduce(torch.cat([p.grad.reshape(-1) for p in trainable]), reduction="mean")
    offset = 0
    for parameter in trainable:
        count = parameter.grad.numel()
        parameter.grad.copy_(flat[offset : offset + count].view_as(parameter.grad))
        offset += count


def any_process_stopping(accelerator: Accelerator, signum: int) -> bool:
    """True when this or any other process was asked to stop (all stop at the same step)."""
    if accelerator.num_processes == 1:
        return bool(signum)
    flag = torch.tensor([1.0 if signum else 0.0], device=accelerator.device)
    return bool(accelerator.reduce(flag, reduction="sum").item() > 0)
