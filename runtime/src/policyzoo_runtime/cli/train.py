"""`policyzoo train` (LeRobot's `lerobot-train` flags) and `policyzoo demo`."""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from policyzoo.cli.base import dotted_command, fail
from policyzoo.errors import BadInput
from policyzoo.flags import Flags

_commands = click.Group()


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
    --log_freq --seed --num_workers --resume (or --config_path) --wandb.enable --wandb.project --wandb.mode
    --dataset.episodes --dataset.video_backend --dataset.image_transforms.* --dataset.use_imagenet_stats
    --scheduler.* --save_checkpoint --tolerance_s --gradient_accumulation_steps; --policy.repo_id pushes at the end, as in LeRobot
    (--policy.push_to_hub=false keeps it local). LeRobot flags policyzoo does not take are refused with why.
    """
    from policyzoo_runtime.train.config import parse_flags, resolve

    run(resolve(parse_flags(flags), _command_line()))


@dotted_command(_commands, "demo")
def demo(flags: Flags) -> None:
    """Train a small ACT on the embedded lift-cube sample on the CPU (a few minutes), then evaluate it in the
    simulator on scenes it has never seen and print its success rate.

    Any `policyzoo train` flag changes the run, e.g. --steps=100; --eval_episodes=N (default 10, 0: none).
    """
    from policyzoo_runtime.demo import DEMO_EPISODES, DEMO_TASK, demo_config
    from policyzoo_runtime.train.config import parse_flags, resolve

    episodes = flags.take("eval_episodes", int, default=DEMO_EPISODES, help_value="a whole number >= 0")
    if episodes < 0:
        fail(f"--eval_episodes={episodes}: expected a whole number >= 0")
    result = run(resolve(demo_config(parse_flags(flags)), _command_line()))
    if episodes and result.checkpoint is not None:
        _evaluate_demo(
            result.checkpoint / "pretrained_model", result.output_dir / "eval", DEMO_TASK, episodes
        )


def run(config: Any) -> Any:
    """Check the run, train, push it with `--policy.push_to_hub=true`, and print where the results are; a stop
    on purpose exits with its code."""
    from policyzoo_runtime.quiet import warnings_once_per_launch
    from policyzoo_runtime.train.prepare import plan

    warnings_once_per_launch()
    checked = plan(config)  # bad input fails here, before torch is imported
    if config.push_to_hub:
        _check_push(config)
        click.echo(
            f"at the end, the last checkpoint is pushed to the Hub as {config.repo_id} "
            f"(--policy.push_to_hub=false keeps it local)"
        )
    from policyzoo_runtime.train.progress import starting

    starting("loading torch and LeRobot")  # the imports below take seconds
    from policyzoo_runtime.train.loop import TrainingStopped
    from policyzoo_runtime.train.loop import train as train_plan

    try:
        result = train_plan(checked)
    except TrainingStopped as exc:
        fail(str(exc), exc.exit_code)
    if checked.config.push_to_hub and result.main and result.checkpoint is not None:
        # training knows nothing of the Hub: the command pushes what it trained
        from policyzoo_runtime.hub.push import push

        push(result.checkpoint / "pretrained_model", checked.config.repo_id)
    if not result.main:  # one process of several: the main one says where the results are
        return result
    if result.checkpoint is not None:
        click.echo(f"checkpoint: {result.checkpoint / 'pretrained_model'}")
    click.echo(f"metrics:    {result.metrics}")
    if result.plot.exists():
        click.echo(f"loss plot:  {result.plot}")
    return result


def _check_push(config: Any) -> None:
    """`--policy.push_to_hub=true` needs the Hub module, a valid repo id and a token before hours of training."""
    import importlib.util

    if importlib.util.find_spec("policyzoo_runtime.hub") is None:
        raise BadInput(
            "--policy.push_to_hub=true: this policyzoo has no Hub support (policyzoo_runtime.hub is missing)"
        )
    from policyzoo_runtime.hub.push import check_repo_id, find_token

    check_repo_id(config.repo_id or "", flag="--policy.repo_id")
    find_token()


def _evaluate_demo(policy: Path, output_dir: Path, task: str, episodes: int) -> None:
    """Roll the demo's policy out in the task's simulator on unseen scenes; print the success rate and videos."""
    from policyzoo_runtime.evaluation.sim import UNSEEN_SEED, EvalConfig, evaluate, sim_env_for_task

    config = EvalConfig(
        policy_path=str(policy),
        env=sim_env_for_task(task),
        episodes=episodes,
        seed=UNSEEN_SEED,
        output_dir=output_dir,
        videos=3,
        device="cpu",
        workers=min(os.cpu_count() or 1, episodes),
    )
    click.echo(f"\nevaluating in {config.env}: {episodes} episodes on scenes no demo was recorded in ...")
    summary = evaluate(config)
    low, high = summary["success_interval_95"]
    successes = sum(episode["success"] for episode in summary["per_episode"])
    click.echo(
        f"success rate: {successes}/{episodes} ({summary['success_rate']:.0%}, 95% interval "
        f"{low:.0%}-{high:.0%}); mean stage reached {summary['mean_max_stage']:.2f} of {summary['stages']}"
    )
    click.echo(f"videos:     {output_dir}/episode_000.mp4 ... (summary: {output_dir / 'eval_summary.json'})")


def _command_line() -> str:
    return shlex.join(["policyzoo", *sys.argv[1:]])
