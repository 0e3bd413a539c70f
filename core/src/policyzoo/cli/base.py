"""Pieces every command shares: lazy sub-commands, dotted-flag commands, errors and text tables."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

import click

from policyzoo.errors import did_you_mean


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit."""
    click.echo(f"policyzoo: error: {message}", err=True)
    sys.exit(code)


def underscored(name: str) -> str:
    """One flag dialect, LeRobot's: every command's options are spelt with underscores (`--out_dir`), and the
    dashed spelling (`--out-dir`) is accepted too (click normalizes each option name with this)."""
    return name.replace("-", "_")


class SuggestingGroup(click.Group):
    """A group that answers an unknown sub-command with the closest one."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            commands = self.list_commands(ctx)
            raise click.UsageError(
                f"no command '{name}'; commands: {', '.join(commands)}." + did_you_mean(name, commands), ctx
            )
        return super().resolve_command(ctx, args)


class ZooGroup(SuggestingGroup):
    """A group whose sub-commands are imported on use; with `plugin_commands`, plus those plugins add."""

    def __init__(
        self,
        *args: Any,
        lazy_commands: dict[str, tuple[str, str]] | None = None,
        plugin_commands: bool = False,
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.lazy_commands = lazy_commands or {}
        self._plugin_commands_added = not plugin_commands

    def add_lazy_commands(self, commands: dict[str, tuple[str, str]]) -> None:
        """Add sub-commands by name -> (module, attribute), imported only when one runs (plugins call this from
        their `register_commands` hook)."""
        self.lazy_commands.update(commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._add_plugin_commands()
        available = [
            name for name, (module, _) in self.lazy_commands.items() if importlib.util.find_spec(module)
        ]
        return sorted(set(super().list_commands(ctx)) | set(available))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.lazy_commands and name not in self.commands:
            self._add_plugin_commands()
        if name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[name]
            if importlib.util.find_spec(module_name) is None:
                return None
            return getattr(importlib.import_module(module_name), attribute)
        return super().get_command(ctx, name)

    def _add_plugin_commands(self) -> None:
        if self._plugin_commands_added:
            return
        self._plugin_commands_added = True
        from policyzoo.plugins import get_plugins

        get_plugins().call("register_commands", cli=self)


DOTTED = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": ["-h", "--help"]}


def dotted_command(group: click.Group, name: str, **kwargs: Any) -> Callable:
    """Declare a command that takes LeRobot-style `--a.b=value` flags; the function gets `Flags`."""

    def decorate(function: Callable) -> click.Command:
        @group.command(name, context_settings=DOTTED, **kwargs)
        @click.argument("args", nargs=-1, type=click.UNPROCESSED)
        def command(args: tuple[str, ...]) -> Any:
            from policyzoo.flags import Flags

            return function(Flags(args))

        command.__doc__ = function.__doc__
        command.help = function.__doc__
        return command

    return decorate


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """A plain aligned text table."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for index, row in enumerate(cells):
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
        if index == 0:
            click.echo("  ".join("-" * width for width in widths))
