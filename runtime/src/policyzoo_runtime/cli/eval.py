"""`policyzoo eval`: rollouts of a saved policy in a simulator."""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from policyzoo.cli.base import dotted_command
from policyzoo.errors import BadInput
from policyzoo.flags import Flags, bind
from policyzoo_runtime.counts import cpu_cores
from policyzoo_runtime.lerobot_flags import EVAL_REASONS, reason


@click.group()
def _group() -> None:
    """Holder for the command below (the top-level CLI lists it as `eval`)."""


@contextmanager
def episode_bar(episodes: int) -> Iterator[Callable[[Any], None]]:
    """A bar over the episodes (rate, ETA, successes so far) and the callback `evaluate` reports each episode to:
    its line goes above the bar (or alone, where the output is no terminal)."""
    from tqdm import tqdm  # with the train extra, as the evaluation itself

    successes = 0
    with tqdm(total=episodes, unit="episode", dynamic_ncols=True, disable=None) as bar:

        def progress(episode: Any) -> None:
            nonlocal successes
            successes += bool(episode.success)
            tqdm.write(
                f"episode {episode.index}: {'success' if episode.success else 'failure'}"
                + (f" ({episode.failure})" if episode.failure else "")
                + ", "
                f"{episode.length} steps, reward sum {episode.sum_reward:.2f}, max {episode.max_reward:.2f}"
                + (f", {episode.video}" if episode.video else "")
            )
            sys.stdout.flush()
            bar.set_postfix_str(f"{successes}/{bar.n + 1} successful", refresh=False)
            bar.update()

        yield progress


def fresh_output_dir(parent: Path = Path("outputs/eval")) -> Path:
    """`parent/DATE_TIME` (as training names its runs), with `-2`, `-3`, ... where that name is taken."""
    stamp = time.strftime("%Y-%m-%d_%H-%M-%S")
    candidates = (parent / (stamp if number == 1 else f"{stamp}-{number}") for number in itertools.count(1))
    return next(path for path in candidates if not path.exists())


@dotted_command(_group, "eval")
def eval_command(flags: Flags) -> None:
    """Roll out --policy.path in a simulator: success rate, mean reward, episode length, videos.

    policyzoo eval --policy.path=DIR_OR_USER/NAME --env=so101_bimanual_sim --episodes=10 --seed=0
    [--output_dir=DIR (default: outputs/eval/DATE_TIME)] [--max_steps=N] [--videos=4] [--workers=N]
    [--task=TEXT] [--policy.device=cpu] [--overwrite=true (replace an earlier evaluation in --output_dir)]

    lerobot-eval's --eval.n_episodes, --eval.batch_size and --env.type are taken as --episodes, --workers and
    --env. Episodes run in --workers processes at once (default: one per CPU core, at most one per episode);
    --max_steps defaults to the simulator's episode length (300 where it has none). At most 10000 episodes
    (and videos), 100000 steps per episode and two workers per CPU core. Ctrl-C, SIGTERM or SIGHUP stop it
    with the finished episodes' summary written, marked partial.
    """
    from policyzoo_runtime.devices import check_device
    from policyzoo_runtime.evaluation.sim import SUMMARY_FILE, EvalConfig, check_output, evaluate

    given = bind(flags, EvalConfig)
    unknown = sorted(flags.section("policy"))
    if unknown:
        raise BadInput(f"--policy.{unknown[0]}: eval takes --policy.path and --policy.device only")
    if not given.get("policy_path"):
        raise BadInput("--policy.path: required; a saved policy folder, training output dir or Hub repo id")
    flags.reasons = lambda name: reason(name, EVAL_REASONS)
    flags.finish()
    given.setdefault("output_dir", fresh_output_dir())
    episodes = given.get("episodes", EvalConfig.model_fields["episodes"].default)
    config = EvalConfig(**{"workers": min(cpu_cores(), episodes), **given})
    check_device(config.device)
    check_output(config.output_dir, config.overwrite)  # before the policy loads
    start = time.perf_counter()
    workers = min(config.workers, config.episodes)
    click.echo(f"loading {config.policy_path} and starting {config.env} in {workers} process(es) ...")
    try:
        with episode_bar(config.episodes) as progress:
            summary = evaluate(config, progress=progress)
    except KeyboardInterrupt:
        _report_partial(config.output_dir / SUMMARY_FILE)
        raise
    click.echo(
        f"\n{summary['episodes']} episodes of {summary['policy']['type']} on {summary['env']} "
        f"(seed {summary['seed']}): success rate {summary['success_rate']:.0%} (95% interval "
        f"{summary['success_interval_95'][0]:.0%}-{summary['success_interval_95'][1]:.0%}), mean reward sum "
        f"{summary['mean_sum_reward']:.3f}, mean episode length {summary['mean_episode_length']:.1f} "
        f"steps ({time.perf_counter() - start:.1f} s, {summary['timing']['env_steps_per_s']:.1f} env steps/s "
        f"on {summary['timing']['workers']} worker(s))"
    )
    click.echo(f"wrote {config.output_dir / SUMMARY_FILE}")


def _report_partial(path: Path) -> None:
    """Say where an interrupted evaluation's summary of its finished episodes went, if it wrote one."""
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    if "partial" in summary:
        click.echo(
            f"wrote {path}: {summary['episodes']} of {summary['partial']['episodes_planned']} episodes "
            "finished",
            err=True,
        )
