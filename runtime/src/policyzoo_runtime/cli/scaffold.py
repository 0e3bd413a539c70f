"""`policyzoo plugin new NAME`: start a third-party policy plugin."""

from __future__ import annotations

from pathlib import Path

import click


@click.group()
def plugin() -> None:
    """Write your own policy plugin."""


@plugin.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    help="Folder to create (new or empty); default: ./policyzoo-NAME.",
)
def new_command(name: str, directory: Path | None) -> None:
    """Write a pip-installable plugin package for policy type NAME (e.g. my_policy).

    It has the entry point, POLICYZOO_CONTRACT, a spec, a card, a small PyTorch policy and tests that
    subclass policyzoo_runtime.testing.
    """
    from policyzoo._catalogue import FIRST_PARTY
    from policyzoo.registry import get_registry
    from policyzoo_runtime import scaffold
    from policyzoo_runtime.writable import check_writable

    taken = {key: known.distribution for key, known in FIRST_PARTY.items()}
    taken.update({entry.type: entry.distribution for entry in get_registry().policies.values()})
    values = scaffold.variables(name)
    directory = check_writable(directory or Path(values["distribution"]), "--dir")
    written = scaffold.create(name, directory, taken)
    click.echo(
        f"wrote {len(written)} files of {values['distribution']} (policy type '{name}') to {directory}"
    )
    click.echo("next:")
    for step in (
        f"pip install -e {directory}",
        "policyzoo policies list",
        f"pytest {directory}",
        f"policyzoo train --policy.type={name} --steps=1000",
    ):
        click.echo(f"  {step}")
