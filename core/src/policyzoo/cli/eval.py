"""`policyzoo eval`: rollouts of a saved policy in a simulator."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from policyzoo.cli.base import dotted_command
from policyzoo.errors import BadInput
from policyzoo.flags import Flags, whole_positive


@click.group()
def _group() -> None:
    """Holder for the command below (the top-level CLI lists it as `eval`)."""


def _count(text: str) -> int:
    value = int(text)
    if value < 0:
        raise ValueError("must be >= 0")
    return value


@dotted_command(_group, "eval")
def eval_command(flags: Flags) -> None:
    """Roll out --policy.path in a simulator: success rate, mean reward, episode length, videos.

    policyzoo eval --policy.path=DIR_OR_USER/NAME --env=so101_bimanual_sim --episodes=10 --seed=0
    --output_dir=outputs/eval [--max_steps=N] [--videos=4] [--workers=N] [--task=TEXT] [--policy.device=cpu]

    Episodes run in --workers processes at once (default: one per CPU core, at most one per episode);
    --max_steps defaults to the simulator's episode length (300 where it has none).
    """
    from policyzoo.evaluate import SUMMARY_FILE, EvalConfig, evaluate

    policy = flags.section("policy", known=("path", "device"))
    unknown = sorted(set(policy) - {"path", "device"})
    if unknown:
        raise BadInput(f"--policy.{unknown[0]}: eval takes --policy.path and --policy.device only")
    if not policy.get("path"):
        raise BadInput("--policy.path: required; a saved policy folder, training output dir or Hub repo id")
    episodes = flags.take("episodes", whole_positive, default=10, help_value="a whole number >= 1")
    config = EvalConfig(
        policy_path=policy["path"],
        env=flags.take("env", default="so101_bimanual_sim"),
        episodes=episodes,
        seed=flags.take("seed", int, default=0, help_value="a whole number"),
        output_dir=Path(flags.take("output_dir", default="outputs/eval")),
        max_steps=flags.take("max_steps", whole_positive, default=None, help_value="a whole number >= 1"),
        videos=flags.take("videos", _count, default=4, help_value="a whole number >= 0"),
        task=flags.take("task", default=None),
        device=policy.get("device"),
        workers=flags.take("workers", whole_positive, default=min(os.cpu_count() or 1, episodes),
                           help_value="a whole number >= 1"),
    )
    flags.finish()
    start = time.perf_counter()

    def progress(episode) -> None:
        click.echo(f"episode {episode.index}: {'success' if episode.success else 'failure'}"
                   + (f" ({episode.failure})" if episode.failure else "") + ", "
                   f"{episode.length} steps, reward sum {episode.sum_reward:.2f}, max {episode.max_reward:.2f}"
                   + (f", {episode.video}" if episode.video else ""))

    summary = evaluate(config, progress=progress)
    click.echo(f"\n{summary['episodes']} episodes of {summary['policy']['type']} on {summary['env']} "
               f"(seed {summary['seed']}): success rate {summary['success_rate']:.0%} (95% interval "
               f"{summary['success_interval_95'][0]:.0%}-{summary['success_interval_95'][1]:.0%}), mean reward sum "
               f"{summary['mean_sum_reward']:.3f}, mean episode length {summary['mean_episode_length']:.1f} "
               f"steps ({time.perf_counter() - start:.1f} s, {summary['timing']['env_steps_per_s']:.1f} env steps/s "
               f"on {summary['timing']['workers']} worker(s))")
    click.echo(f"wrote {config.output_dir / SUMMARY_FILE}")
