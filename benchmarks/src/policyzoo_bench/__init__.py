"""Benchmarks behind `policyzoo bench`: each prints a markdown table and writes JSON.

This package is a policyzoo plugin: its entry point adds the `bench` command.
"""

from __future__ import annotations

import click

from policyzoo import hookimpl

POLICYZOO_CONTRACT = 1


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_lazy_commands({"bench": ("policyzoo_bench.cli", "bench")})
