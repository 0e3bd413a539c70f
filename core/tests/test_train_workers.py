"""Training's data workers: their number is bounded by the machine, and none outlives its run, even a run killed
with SIGKILL (as the kernel kills a process out of memory)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest

from policyzoo.errors import BadInput
from policyzoo.flags import Flags
from policyzoo_runtime.train.config import max_num_workers, parse_flags

KILLED_RUN = """
import os, sys, torch
from accelerate import Accelerator
from policyzoo_runtime.train.config import TrainConfig
from policyzoo_runtime.train.resume import data_loader

dataset = torch.utils.data.TensorDataset(torch.arange(64.0))
config = TrainConfig(num_workers=2, batch_size=4, persistent_workers=True)
loader = data_loader(dataset, list(range(64)), config, torch.device("cpu"), 0, Accelerator(cpu=True))
next(iter(loader))
print(" ".join(str(child.pid) for child in __import__("psutil").Process().children()), flush=True)
sys.stdin.read()
"""


def test_num_workers_is_bounded_by_the_machine() -> None:
    bound = max_num_workers()
    assert bound == max(4, os.cpu_count() or 1)
    assert parse_flags(Flags([f"--num_workers={bound}"]))["num_workers"] == bound
    with pytest.raises(
        BadInput,
        match=rf"--num_workers=1000: expected an integer from 0 to {bound} \(one data "
        rf"worker per CPU core",
    ):
        parse_flags(Flags(["--num_workers=1000"]))


@pytest.mark.slow
def test_data_workers_die_with_a_killed_run() -> None:
    run = subprocess.Popen(
        [sys.executable, "-c", KILLED_RUN], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        workers = [int(pid) for pid in run.stdout.readline().split()]
        assert len(workers) >= 2, workers  # the two data workers (and perhaps a resource tracker)
        run.send_signal(signal.SIGKILL)
        run.wait()
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in workers if _alive(pid)], "a data worker outlived its killed run"
    finally:
        run.kill()


def _alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_prefetch_and_batch_size_are_bounded() -> None:
    from policyzoo_runtime.train.data import StepBatchSampler

    with pytest.raises(BadInput, match=r"--prefetch_factor=1000000: expected an integer from 1 to 32"):
        parse_flags(Flags(["--prefetch_factor=1000000"]))
    with pytest.raises(
        BadInput,
        match=r"--batch_size=1000000000: more than the 10 frames to train on; use at "
        r"most 10",
    ):
        StepBatchSampler(range(10), 1_000_000_000, seed=0)
    assert len(next(iter(StepBatchSampler(range(10), 10, seed=0)))) == 10
