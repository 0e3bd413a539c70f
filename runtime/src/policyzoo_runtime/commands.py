"""The runtime's entry point: it adds the commands that train, run and share policies to `policyzoo`."""

from __future__ import annotations

import click

from policyzoo import hookimpl

POLICYZOO_CONTRACT = 1

# name -> (module, attribute); each module imports its heavy code only when its command runs.
COMMANDS = {
    "dataset": ("policyzoo_runtime.cli.dataset", "dataset"),
    "train": ("policyzoo_runtime.cli.train", "train"),
    "demo": ("policyzoo_runtime.cli.train", "demo"),
    "record": ("policyzoo_runtime.cli.record", "record"),
    "replay": ("policyzoo_runtime.cli.record", "replay"),
    "calibrate": ("policyzoo_runtime.cli.deploy", "calibrate"),
    "deploy": ("policyzoo_runtime.cli.deploy", "deploy"),
    "eval": ("policyzoo_runtime.cli.eval", "eval_command"),
    "export": ("policyzoo_runtime.cli.hub", "export"),
    "push": ("policyzoo_runtime.cli.hub", "push"),
    "recommend": ("policyzoo_runtime.cli.recommend", "recommend"),
    "plugin": ("policyzoo_runtime.cli.scaffold", "plugin"),
}


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_lazy_commands(COMMANDS)
