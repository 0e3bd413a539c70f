"""`policyzoo train` in two processes under `accelerate launch` (gloo on the CPU): DDP through accelerate."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psutil
import pytest
from safetensors import safe_open

from policyzoo.flags import Flags
from policyzoo_runtime.train import prepare
from policyzoo_runtime.train.config import parse_flags, resolve

# A tiny ACT without randomness in its forward pass (no CVAE sampling, no dropout), so that the processes'
# different random streams cannot change the loss; on the embedded sample dataset, on the CPU.
TINY_ACT = [
    "--policy.type=act",
    "--policy.device=cpu",
    "--policy.pretrained_backbone_weights=None",
    "--policy.dim_model=32",
    "--policy.n_heads=2",
    "--policy.dim_feedforward=64",
    "--policy.n_encoder_layers=1",
    "--policy.n_vae_encoder_layers=1",
    "--policy.latent_dim=8",
    "--policy.chunk_size=10",
    "--policy.n_action_steps=5",
    "--policy.use_vae=false",
    "--policy.dropout=0",
    "--batch_size=4",
    "--log_freq=1",
    "--num_workers=0",
    "--seed=3",
]
STEPS, SAVE_FREQ = 8, 3
# `accelerate launch --cpu` starts one process unless MPI is set up; `--multi_gpu` starts torchrun's processes,
# which find no GPU and join with gloo. `--tee=3` prefixes every output line with its process, [default0]: ...
LAUNCH = [
    "launch",
    "--multi_gpu",
    "--num_processes=2",
    "--num_machines=1",
    "--mixed_precision=no",
    "--dynamo_backend=no",
    "--tee=3",
    "-m",
    "policyzoo",
    "train",
]
# The reference is one process that accumulates the same two batches of 4 per step (the sampler's stream is
# the same): ACT's ResNet normalizes with the statistics of each batch it sees, so one batch of 8 is another
# computation (0.1-2 % off here). Two processes compute the same losses and, through DDP's average, the same
# gradients; only the order of float32 sums differs (all-reduce against accumulation): measured at most
# 6e-8 relative over 8 steps. One step of training moves the loss by about 0.5 % here, so a gradient left
# out, counted twice or taken from the wrong shard shows up by step 2 as 1e-3 or more: 1e-5 separates both.
LOSS_RTOL = 1e-5


@contextmanager
def launched(log: Path, *args: str) -> Iterator[subprocess.Popen[str]]:
    """`accelerate launch ... policyzoo train ARGS`, its output in `log`; killed with its processes if still
    running at the end, so that a failed test leaves no training behind."""
    command = [str(Path(sys.executable).with_name("accelerate")), *LAUNCH, *TINY_ACT, *args]
    with log.open("w") as sink:
        launcher = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, text=True)
        try:
            yield launcher
        finally:
            if launcher.poll() is None:
                for process in [*psutil.Process(launcher.pid).children(recursive=True), launcher]:
                    process.kill()
            launcher.wait()


def losses(output: Path) -> dict[int, float]:
    text = (output / "metrics.jsonl").read_text() if (output / "metrics.jsonl").is_file() else ""
    rows = [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]
    return {row["step"]: row["loss"] for row in rows}


def checkpoint_step(output: Path) -> int:
    state = output / "checkpoints" / "last" / "training_state" / "training_step.json"
    return json.loads(state.read_text())["step"]


def weight_names(checkpoint: Path) -> set[str]:
    with safe_open(str(checkpoint / "pretrained_model" / "model.safetensors"), "pt") as weights:
        return set(weights.keys())


def one_process_reference(output: Path) -> Path:
    """The same run in this process, accumulating two batches of 4 per step."""
    from policyzoo_runtime.train.loop import train

    config = resolve(
        parse_flags(Flags([*TINY_ACT, f"--steps={STEPS}", f"--save_freq={STEPS}", f"--output_dir={output}"])),
        "policyzoo train (reference)",
    )
    train(prepare.plan(config.replace(gradient_accumulation_steps=2)))
    return output


@pytest.mark.slow
def test_two_processes_train_like_one_stop_on_sigterm_and_resume(tmp_path: Path) -> None:
    output, log, resume_log = tmp_path / "two", tmp_path / "two.log", tmp_path / "resumed.log"
    with launched(log, f"--steps={STEPS}", f"--save_freq={SAVE_FREQ}", f"--output_dir={output}") as launcher:
        deadline = time.monotonic() + 300
        while len(losses(output)) < 4:
            assert launcher.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, "timed out"
            time.sleep(0.05)
        launcher.send_signal(signal.SIGTERM)  # the launcher passes it on to both processes
        launcher.wait(timeout=120)
    text = log.read_text()
    stopped = checkpoint_step(output)
    assert 4 <= stopped < STEPS, text[-3000:]
    for rank in (0, 1):  # both stopped at the same step, between steps, without a traceback
        assert f"[default{rank}]:policyzoo: error: interrupted at step {stopped}; checkpoint saved" in text, (
            text
        )
    assert not re.search(r"^\[default\d\]:.*Traceback", text, re.MULTILINE), text[-3000:]
    assert "[Gloo]" not in text, text[-3000:]  # each process's "connected to 1 peer ranks" line
    assert not re.search(r"^\[default1\]:.*(?i:warning)", text, re.MULTILINE), text[-3000:]  # warnings once

    with launched(resume_log, "--resume=true", f"--output_dir={output}") as resumed:
        resumed.wait(timeout=600)
    resumed_text = resume_log.read_text()
    assert resumed.returncode == 0, resumed_text[-3000:]
    assert f"[default0]:step:{stopped + 1} " in resumed_text and checkpoint_step(output) == STEPS

    # Exactly one checkpoint per save, each written by the main process alone.
    saves = sorted({*range(SAVE_FREQ, STEPS, SAVE_FREQ), stopped, STEPS})
    assert sorted(path.name for path in (output / "checkpoints").iterdir()) == [
        *(f"{s:06d}" for s in saves),
        "last",
    ]
    written = re.findall(r"^\[default(\d)\]:checkpoint of step (\d+):", text + resumed_text, re.MULTILINE)
    assert sorted((rank, int(step)) for rank, step in written) == [("0", step) for step in saves]

    # Only the main process logs; the other's loss is in every row (averaged) and its gradient in every step:
    # from step 1 on, the curve matches only if both processes stepped, each on its own shard.
    assert not re.search(r"^\[default1\]:step:", text + resumed_text, re.MULTILINE)
    reference = one_process_reference(tmp_path / "one")
    expected, measured = losses(reference), losses(output)
    assert sorted(measured) == list(range(1, STEPS + 1))
    for step in range(1, STEPS + 1):
        assert measured[step] == pytest.approx(expected[step], rel=LOSS_RTOL), (step, measured, expected)
    # The model was saved unwrapped from DDP: the same weight names as a one-process checkpoint, LeRobot's.
    last = output / "checkpoints" / "last"
    assert weight_names(last) == weight_names(reference / "checkpoints" / "last")
