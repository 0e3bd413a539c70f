"""Where and how precisely a run computes: the torch device, mixed precision, the accelerate `Accelerator`,
and the seeds."""

from __future__ import annotations

import random

import numpy as np
import torch
from accelerate import Accelerator, DistributedDataParallelKwargs

from policyzoo.errors import BadInput
from policyzoo_runtime.quiet import quiet_process_group
from policyzoo_runtime.train.prepare import Plan
from policyzoo_runtime.train.progress import say


def accelerator_for(plan: Plan) -> tuple[torch.device, Accelerator]:
    """The device the plan asks for (checked to exist; this process's GPU under `accelerate launch`) and the
    run's Accelerator: bf16 autocast with AMP on a GPU that has it (else fp16 with a grad scaler), the plan's
    gradient accumulation, and DDP for several processes."""
    config, spec = plan.config, plan.spec
    device = pick_device(spec.device if spec else config.policy.get("device", "auto"))
    use_amp = spec.use_amp if spec else config.policy.get("use_amp", "false").lower() == "true"
    with quiet_process_group():
        accelerator = _accelerator(device, use_amp, config.gradient_accumulation_steps)
    if use_amp and device.type != "cuda" and accelerator.is_main_process:
        say(
            f"warning: --policy.use_amp=true is ignored on {device.type}: mixed precision needs a CUDA GPU",
            err=True,
        )
    several_gpus = accelerator.num_processes > 1 and device.type != "cpu"
    return (accelerator.device if several_gpus else device), accelerator


def _accelerator(device: torch.device, use_amp: bool, accumulation: int) -> Accelerator:
    return Accelerator(
        cpu=device.type == "cpu",
        # The handle is built on its device and its preprocessor moves each batch there.
        device_placement=False,
        mixed_precision=mixed_precision(device) if use_amp else "no",
        gradient_accumulation_steps=accumulation,
        # `--steps` counts optimizer steps whatever the number of processes: one scheduler step each.
        step_scheduler_with_optimizer=False,
        # Some policies leave parameters out of some steps (VQ-BeT's first phase, TD-MPC's heads).
        kwargs_handlers=[DistributedDataParallelKwargs(find_unused_parameters=True)],
    )


def mixed_precision(device: torch.device) -> str:
    """accelerate's mixed precision for `--policy.use_amp=true` on `device`: bf16 where the GPU supports it."""
    if device.type != "cuda":
        return "no"
    return "bf16" if torch.cuda.is_bf16_supported() else "fp16"


def pick_device(name: str) -> torch.device:
    """`--policy.device` as a torch device; a device this machine lacks is bad input."""
    from policyzoo_runtime.lerobot.convert import resolve_device

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


def process_seed(seed: int, accelerator: Accelerator, step: int = 0) -> int:
    """The seed of this process for a run (re)started at `step`: `seed` itself for the main process of a new
    run, another one per process (dropout, augmentation and noise differ across processes) and per restart."""
    return seed + accelerator.process_index + step * accelerator.num_processes
