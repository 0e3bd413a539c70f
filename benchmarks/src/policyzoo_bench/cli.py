"""`policyzoo bench cli|policies|train|deploy|data|claims|success|all`."""

from __future__ import annotations

from pathlib import Path

import click

from policyzoo.cli.base import ZooGroup

OUT_DIR = click.option(
    "--out_dir",
    type=click.Path(path_type=Path),
    default=Path("bench-results"),
    show_default=True,
    help="Where the JSON results go.",
)

# name -> (module, click command); each module imports its heavy code only when run.
BENCHES = {
    "cli": ("policyzoo_bench.startup", "command"),
    "policies": ("policyzoo_bench.policies", "command"),
    "train": ("policyzoo_bench.train", "command"),
    "deploy": ("policyzoo_bench.deploy", "command"),
    "data": ("policyzoo_bench.data", "command"),
    "claims": ("policyzoo_bench.claims", "command"),
    "success": ("policyzoo_bench.success", "command"),
}
LONG = ("success",)
"""Benchmarks `all` leaves out: they train policies for an hour or more (run them on their own)."""


@click.group(cls=ZooGroup, lazy_commands=BENCHES)
def bench() -> None:
    """Measure start-up, policies, training, data loading, deployment and success in the simulator here."""


@bench.command("all")
@OUT_DIR
@click.pass_context
def all_command(ctx: click.Context, out_dir: Path) -> None:
    """Every benchmark this installation can run, then the guide's claims checked against the figures."""
    for name in bench.list_commands(ctx):
        if name not in ("all", "claims", *LONG):
            ctx.invoke(bench.get_command(ctx, name), out_dir=out_dir)
    ctx.invoke(bench.get_command(ctx, "claims"), out_dir=out_dir)
