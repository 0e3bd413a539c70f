"""Where and how precisely a run computes: the torch device, mixed precision, the accelerate `Accelerator`,
and the seeds."""

from __future__ import annotations

import random

import numpy as np
import torch
from accelerate import Accelerator

from policyzoo.errors import BadInput
from policyzoo.train.prepare import Plan
from policyzoo.train.progress import say


def accelerator_for(plan: Plan) -> tuple[torch.device, Accelerator]:
    """The device the plan asks for (checked to exist) and an Accelerator with fp16 autocast when AMP is on."""
    config, spec = plan.config, plan.spec
    device = pick_device(spec.device if spec else config.policy.get("device", "auto"))
    use_amp = spec.use_amp if spec else config.policy.get("use_amp", "false").lower() == "true"
    if use_amp and device.type != "cuda":
        say(
            f"warning: --policy.use_amp=true is ignored on {device.type}: mixed precision needs a CUDA GPU",
            err=True,
        )
        use_amp = False
    return device, Accelerator(cpu=device.type == "cpu", mixed_precision="fp16" if use_amp else "no")


def pick_device(name: str) -> torch.device:
    """`--policy.device` as a torch device; a device this machine lacks is bad input."""
    from policyzoo.lerobot.convert import resolve_device

    device = torch.device(resolve_device(name))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadInput(
            f"--policy.device={name}: this machine has no CUDA GPU (torch {torch.__version__}); use "
            f"--policy.device=cpu or auto"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise BadInput(f"--policy.device={name}: MPS is not available here; use --policy.device=cpu or auto")
    return device


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
