"""How much of a training step waits for data: the demo's run (its policy, settings and sample), default
--num_workers."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from policyzoo_bench.report import report

GOAL = 0.10
"""data_s / (data_s + update_s) this machine should stay under."""


@click.command("train")
@click.option(
    "--steps",
    type=click.IntRange(5, 100_000),
    default=40,
    show_default=True,
    help="Training steps to time (the first one, which starts the data workers, is not counted).",
)
@click.option("--out_dir", type=click.Path(path_type=Path), default=Path("bench-results"), show_default=True)
def command(steps: int, out_dir: Path) -> None:
    """Share of each training step spent waiting for data (goal: at most 10%)."""
    from policyzoo_runtime.demo import demo_config
    from policyzoo_runtime.train import prepare
    from policyzoo_runtime.train.config import TrainConfig
    from policyzoo_runtime.train.loop import train

    with tempfile.TemporaryDirectory() as work:
        given = demo_config(
            {"steps": steps, "log_freq": steps, "save_freq": steps, "output_dir": str(Path(work) / "run")}
        )
        config = TrainConfig(**given, command="policyzoo bench train")
        plan = prepare.plan(config)
        summary = train(plan).summary
    share = summary["data_share"]
    met = share <= GOAL
    rows = [
        [
            f"{config.policy_type} (demo settings)",
            plan.place.repo_id,
            config.batch_size,
            config.num_workers,
            steps - 1,
            f"{summary['mean_data_s'] * 1000:.1f}",
            f"{summary['mean_update_s'] * 1000:.0f}",
            f"{share:.1%}",
            f"<= {GOAL:.0%}: {'met' if met else 'MISSED'}",
        ]
    ]
    report(
        "train",
        [
            "policy",
            "dataset",
            "batch",
            "num_workers",
            "steps timed",
            "data ms/step",
            "update ms/step",
            "data share",
            "goal",
        ],
        rows,
        {
            "policy": config.policy_type,
            "dataset": plan.place.repo_id,
            "batch_size": config.batch_size,
            "num_workers": config.num_workers,
            "steps": steps,
            "data_share": share,
            "goal": GOAL,
            "met": met,
            "mean_data_s": summary["mean_data_s"],
            "mean_update_s": summary["mean_update_s"],
        },
        out_dir,
    )
