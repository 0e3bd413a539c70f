"""`policyzoo train` (LeRobot's `lerobot-train` flags) and `policyzoo demo`."""

from __future__ import annotations

import shlex
import sys
import time
from typing import Any

import click

from policyzoo.cli.base import dotted_command, fail
from policyzoo.flags import Flags

_commands = click.Group()

DEMO_POLICY = {
    # A small ACT that learns visibly in a few hundred CPU steps: short chunks, a narrow transformer and a
    # 10x higher transformer learning rate than LeRobot's 100k-step default (the ResNet keeps 1e-5).
    "device": "cpu",
    "chunk_size": "10",
    "n_action_steps": "10",
    "dim_model": "128",
    "n_heads": "4",
    "dim_feedforward": "512",
    "n_encoder_layers": "2",
    "n_decoder_layers": "1",
    "n_vae_encoder_layers": "2",
    "latent_dim": "16",
    "optimizer_lr": "1e-4",
}
DEMO_RUN = {"steps": 300, "batch_size": 4, "log_freq": 25, "save_freq": 100}


@dotted_command(_commands, "train")
def train(flags: Flags) -> None:
    """Train a policy on a LeRobot dataset; flags as lerobot-train's.

    \b
    policyzoo train --dataset.repo_id=USER/DATA --policy.type=act --policy.device=cuda \\
      --batch_size=8 --policy.use_amp=true --steps=100000
    \b
    Data: --dataset.repo_id (Hub id, read from the HF cache), --dataset.root (a local folder); neither: the
    sample dataset. Policy: --policy.type, or --policy.path to fine-tune; --policy.X sets any spec field
    (policyzoo policies show TYPE). Run: --batch_size --steps --optimizer.lr --output_dir --save_freq
    --log_freq --seed --num_workers --resume --wandb.enable --wandb.project --wandb.mode
    --policy.push_to_hub --policy.repo_id
    """
    from policyzoo.train.config import parse_flags, resolve

    run(resolve(parse_flags(flags), _command_line()))


@dotted_command(_commands, "demo")
def demo(flags: Flags) -> None:
    """Train a small ACT on the embedded sample dataset on the CPU (a few minutes), then show the results.

    Any `policyzoo train` flag changes the demo, e.g. --steps=100.
    """
    from policyzoo.train.config import parse_flags, resolve

    given: dict[str, Any] = {
        **DEMO_RUN,
        "policy_type": "act",
        "output_dir": time.strftime("outputs/demo/%Y-%m-%d_%H-%M-%S"),
    }
    flagged = parse_flags(flags)
    given["policy"] = {**DEMO_POLICY, **flagged.pop("policy", {})}
    run(resolve({**given, **flagged}, _command_line()))


def run(config: Any) -> None:
    """Check the run, train, and print where the results are; a stop on purpose exits with its code."""
    from policyzoo.train.prepare import plan

    checked = plan(config)  # bad input fails here, before torch is imported
    from policyzoo.train.loop import TrainingStopped
    from policyzoo.train.loop import train as train_plan

    try:
        result = train_plan(checked)
    except TrainingStopped as exc:
        fail(str(exc), exc.exit_code)
    if result.checkpoint is not None:
        click.echo(f"checkpoint: {result.checkpoint / 'pretrained_model'}")
    click.echo(f"metrics:    {result.metrics}")
    if result.plot.exists():
        click.echo(f"loss plot:  {result.plot}")


def _command_line() -> str:
    return shlex.join(["policyzoo", *sys.argv[1:]])
