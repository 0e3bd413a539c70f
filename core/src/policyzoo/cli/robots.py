"""`policyzoo robots list|show`."""

from __future__ import annotations

import click

from policyzoo.cli.base import SuggestingGroup, print_table
from policyzoo.registry import get_registry


@click.group(cls=SuggestingGroup)
def robots() -> None:
    """Installed robot types."""


@robots.command("list")
def list_command() -> None:
    """Every robot type with joints, cameras and backends."""
    rows = [
        [
            entry.type,
            len(entry.spec.joints),
            ", ".join(c.name for c in entry.spec.cameras) or "-",
            entry.spec.fps,
            ", ".join(entry.backends),
            entry.distribution,
        ]
        for entry in sorted(get_registry().robots.values(), key=lambda e: e.type)
    ]
    if not rows:
        click.echo("no robots installed; try: pip install 'policyzoo-so101[sim]'")
        return
    print_table(["TYPE", "JOINTS", "CAMERAS", "FPS", "BACKENDS", "PLUGIN"], rows)


@robots.command("show")
@click.argument("robot_type")
def show_command(robot_type: str) -> None:
    """Joints with units and limits, cameras and the dataset features of ROBOT_TYPE."""
    entry = get_registry().robot(robot_type, flag="TYPE")
    spec = entry.spec
    click.echo(
        f"{spec.type}: {spec.description} ({entry.distribution} {entry.version}), {spec.fps} fps, "
        f"backends: {', '.join(entry.backends)}"
    )
    print_table(
        ["JOINT", "UNIT", "LOWER", "UPPER"],
        [[j.feature_name, j.unit, f"{j.lower:g}", f"{j.upper:g}"] for j in spec.joints],
    )
    if spec.cameras:
        click.echo()
        print_table(
            ["CAMERA", "HEIGHT", "WIDTH", "FPS"], [[c.name, c.height, c.width, c.fps] for c in spec.cameras]
        )
    features = spec.features()
    click.echo("\ndataset features:")
    for key, shape in {**features.state, **features.visual, **features.action}.items():
        click.echo(f"  {key}: {list(shape)}")
