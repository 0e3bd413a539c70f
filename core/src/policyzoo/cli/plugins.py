"""`policyzoo plugins list|doctor`."""

from __future__ import annotations

import sys

import click

from policyzoo.cli.base import SuggestingGroup, print_table
from policyzoo.plugins import get_plugins
from policyzoo.registry import get_registry


@click.group(cls=SuggestingGroup)
def plugins() -> None:
    """Installed plugins and their problems."""


@plugins.command("list")
def list_command() -> None:
    """Every loaded plugin with what it provides."""
    registry = get_registry()
    rows = []
    for info in get_plugins().info.values():
        provides = [
            f"policy {e.type}" for e in registry.policies.values() if e.distribution == info.distribution
        ]
        provides += [
            f"robot {e.type}" for e in registry.robots.values() if e.distribution == info.distribution
        ]
        provides += [
            f"policy {c.name} (clash)"
            for c in registry.policy_clashes.values()
            if info.distribution in c.distributions
        ]
        provides += [
            f"robot {c.name} (clash)"
            for c in registry.robot_clashes.values()
            if info.distribution in c.distributions
        ]
        rows.append(
            [
                info.name,
                f"{info.distribution} {info.version}",
                info.contract or "-",
                ", ".join(provides) or "hooks only",
            ]
        )
    print_table(["PLUGIN", "DISTRIBUTION", "CONTRACT", "PROVIDES"], rows)


@plugins.command("doctor")
def doctor_command() -> None:
    """Every plugin problem and its fix; exit code 1 when there is any."""
    registry = get_registry()
    undeclared = [info for info in get_plugins().info.values() if info.contract is None]
    for info in undeclared:
        click.echo(
            f"note: {info.name} ({info.distribution}) declares no POLICYZOO_CONTRACT; "
            f"fix: add POLICYZOO_CONTRACT = 1 to its entry module"
        )
    for note in registry.notes:
        click.echo(f"note: {note}")
    # plus what failed in a hook after the registry was built (a training hook, a model-card section, ...)
    problems = registry.problems + [p for p in get_plugins().problems if p not in registry.problems]
    if not problems:
        click.echo(f"ok: {len(get_plugins().info)} plugin(s) loaded, no problems")
        return
    for problem in problems:
        click.echo(f"problem: {problem.plugin} ({problem.distribution}): {problem.problem}")
        click.echo(f"    fix: {problem.fix}")
    sys.exit(1)
