"""Where a run starts: its output folder (claimed and locked), the optimizer state and RNG of the checkpoint it
resumes, and a data stream that continues at that step."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator

from policyzoo.errors import BadInput
from policyzoo.files import write_atomic
from policyzoo_runtime.children import die_with_parent
from policyzoo_runtime.train import checkpoint_dirs, state
from policyzoo_runtime.train.config import CONFIG_FILE, TrainConfig
from policyzoo_runtime.train.data import StepBatchSampler
from policyzoo_runtime.train.lock import output_dir_lock
from policyzoo_runtime.train.precision import process_seed


@contextmanager
def claim_output(output_dir: Path, config: TrainConfig, main: bool) -> Iterator[None]:
    """The main process creates the output folder (a new run) and holds its lock for the whole run."""
    if not main:
        yield
        return
    try:
        output_dir.mkdir(parents=True, exist_ok=config.resume)
    except FileExistsError:
        raise BadInput(
            f"--output_dir={output_dir}: another run created it just now; continue that run with "
            f"--resume=true, or pick a new --output_dir"
        ) from None
    except OSError as exc:
        raise BadInput(
            f"--output_dir={output_dir}: cannot create it ({exc.strerror}); pick a folder you can write to"
        ) from None
    with output_dir_lock(output_dir, config.command):
        checkpoint_dirs.remove_leftovers(output_dir)  # only once no other run can be writing here
        write_atomic(output_dir / CONFIG_FILE, config.to_json())
        yield


def restore(
    last: Path | None, optimizer: Any, scheduler: Any, accelerator: Accelerator
) -> tuple[int, dict[str, Any] | None]:
    """(step to start from, RNG state to set once everything is built) of the checkpoint `last`, or (0, None).

    The optimizer, scheduler and AMP scaler get the checkpoint's state in place."""
    if last is None:
        return 0, None
    return state.load(last / checkpoint_dirs.TRAINING_STATE, optimizer, scheduler, accelerator.scaler)


def data_loader(
    dataset: Any,
    positions: Sequence[int],
    config: TrainConfig,
    device: torch.device,
    start_step: int,
    accelerator: Accelerator,
) -> torch.utils.data.DataLoader:
    """Batches of the dataset's `positions` in the order an unbroken run would see them from `start_step` on
    (for `accelerator.prepare`,
    which gives each process its share; the run keeps its number of processes and accumulation).

    Workers stay up for the whole run (`--persistent_workers`) and each keeps `--prefetch_factor` batches
    ready, so a slow sample (a long decode) is absorbed instead of stalling a step."""
    per_step = accelerator.num_processes * config.gradient_accumulation_steps
    sampler = StepBatchSampler(positions, config.batch_size, config.seed, start_step * per_step)
    workers = config.num_workers
    return torch.utils.data.DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        persistent_workers=workers > 0 and config.persistent_workers,
        prefetch_factor=config.prefetch_factor if workers > 0 else None,
        generator=torch.Generator().manual_seed(process_seed(config.seed, accelerator, start_step)),
        worker_init_fn=partial(_data_worker_start, os.getpid()) if workers > 0 else None,
    )


def _data_worker_start(parent_pid: int, _worker_id: int) -> None:
    """A data worker ends with its run, even a run killed with SIGKILL (or by the kernel for memory)."""
    die_with_parent(parent_pid)
