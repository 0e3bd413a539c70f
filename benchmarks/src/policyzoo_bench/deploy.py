"""`policyzoo bench deploy`: a policy driving the simulated bimanual SO101 at 30 Hz, synchronous and async.

The policy is `--policy=TYPE`, or else the installed one whose card sets `bench.deploy` (ACT's does).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from policyzoo_bench.report import report

ROBOT = "so101_bimanual"
ON_TIME_GOAL_PCT = 99.5


def pick_policy(requested: str | None) -> str:
    """`requested` if it is installed, else the first installed type whose card sets `bench.deploy`."""
    from policyzoo.errors import BadInput
    from policyzoo.registry import get_registry

    registry = get_registry()
    if requested is not None:
        return registry.policy(requested, flag="--policy").type
    marked = sorted(
        entry.type
        for entry in registry.policies.values()
        if entry.card.bench is not None and entry.card.bench.deploy
    )
    if not marked:
        installed = ", ".join(sorted(registry.policies)) or "none"
        raise BadInput(
            f"--policy: no installed policy's card sets bench.deploy; pass --policy=TYPE "
            f"(installed: {installed})"
        )
    return marked[0]


def random_stats(features: Any, samples: int = 256, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Normalization statistics of random data shaped like `features` (images in [0, 1])."""
    import numpy as np

    rng = np.random.default_rng(seed)
    stats: dict[str, dict[str, Any]] = {}
    for key, shape in {**features.state, **features.action}.items():
        values = rng.normal(0.0, 30.0, size=(samples, *shape)).astype(np.float32)
        stats[key] = {
            "mean": values.mean(0),
            "std": values.std(0),
            "min": values.min(0),
            "max": values.max(0),
        }
    for key, (channels, _, _) in features.visual.items():
        pixels = rng.random(size=(samples, channels)).astype(np.float32)
        stats[key] = {
            name: value[:, None, None]
            for name, value in {
                "mean": pixels.mean(0),
                "std": pixels.std(0),
                "min": pixels.min(0),
                "max": pixels.max(0),
            }.items()
        }
    return stats


def run(
    duration_s: float, fps: int, threads: int, out_dir: Path, policy_type: str | None = None
) -> dict[str, Any]:
    from policyzoo.api import build_policy, get_spec
    from policyzoo.capabilities import ChunkingSpec
    from policyzoo_runtime.deploy import DeployConfig, check_policy_fits, make_robot, run_loop

    policy_type = pick_policy(policy_type)
    robot = make_robot(ROBOT, "sim", {})
    features = robot.spec.features()
    policy = build_policy(get_spec(policy_type)(device="cpu"), features, random_stats(features))
    check_policy_fits(policy, robot.spec)
    parameters = sum(p.numel() for p in policy.parameters())
    steps = policy.spec.n_action_steps if isinstance(policy.spec, ChunkingSpec) else None
    executed = f", {steps} actions executed per chunk" if steps else ""
    click.echo(
        f"{policy_type} ({parameters / 1e6:.1f} M parameters{executed}) on the "
        f"simulated {ROBOT}, {duration_s:g} s at {fps} Hz per mode, {threads} inference thread(s)",
        err=True,
    )
    results = {}
    robot.connect()
    try:
        for mode in ("sync", "async"):
            if hasattr(robot, "reset"):
                robot.reset(seed=0)
            config = DeployConfig(
                fps=fps,
                duration_s=duration_s,
                async_inference=mode == "async",
                inference_threads=threads,
                task=getattr(robot, "task", ""),
            )
            results[mode] = run_loop(robot, policy, config)
            click.echo(f"{mode}: " + " | ".join(results[mode].lines()), err=True)
    finally:
        robot.disconnect()
    rows = [
        [
            mode,
            r.ticks,
            r.late_ticks,
            r.missed_deadlines,
            f"{r.on_time_pct:.2f}",
            f"{r.latency_ms(50):.0f}",
            f"{r.latency_ms(99):.0f}",
            r.chunks,
            r.starved_ticks,
            f"{r.largest_jump:.2f}",
        ]
        for mode, r in results.items()
    ]
    on_time = results["async"].on_time_pct
    verdict = {
        "on_time_goal_pct": ON_TIME_GOAL_PCT,
        "async_on_time_ok": on_time >= ON_TIME_GOAL_PCT,
        "all_runs_ok": all(r.ok for r in results.values()),
    }
    report(
        "deploy",
        [
            "mode",
            "ticks",
            "late",
            "missed deadlines",
            "on time %",
            "inference p50 ms",
            "inference p99 ms",
            "chunks",
            "starved ticks",
            "largest jump",
        ],
        rows,
        {
            "robot": ROBOT,
            "policy": policy_type,
            "parameters": parameters,
            "fps": fps,
            "duration_s": duration_s,
            "inference_threads": threads,
            "results": {mode: r.summary() for mode, r in results.items()},
            **verdict,
        },
        out_dir,
    )
    click.echo(
        f"\nasync: {on_time:.2f}% of ticks on time (goal >= {ON_TIME_GOAL_PCT}%: "
        f"{'met' if verdict['async_on_time_ok'] else 'MISSED'}); sync: {results['sync'].on_time_pct:.2f}%"
    )
    return verdict


@click.command("deploy")
@click.option(
    "--duration_s",
    type=click.FloatRange(1, 3600),
    default=20.0,
    show_default=True,
    help="Seconds of control per mode.",
)
@click.option("--fps", type=click.IntRange(1, 1000), default=30, show_default=True)
@click.option(
    "--threads",
    type=click.IntRange(1, 256),
    default=max(1, (os.cpu_count() or 2) - 1),
    show_default=True,
    help="Torch threads for inference, the same in both modes (one core stays "
    "with the control loop and the simulator's rendering).",
)
@click.option(
    "--policy",
    "policy_type",
    default=None,
    metavar="TYPE",
    help="The policy to drive [default: the installed one whose card sets bench.deploy].",
)
@click.option("--out_dir", type=click.Path(path_type=Path), default=Path("bench-results"), show_default=True)
def command(duration_s: float, fps: int, threads: int, policy_type: str | None, out_dir: Path) -> None:
    """A policy (default size, freshly built) on the simulator: sync vs async ticks on time."""
    run(duration_s, fps, threads, out_dir, policy_type)
