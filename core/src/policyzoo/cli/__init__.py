"""The `policyzoo` command. Start-up stays light: heavy commands import their code when run."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from policyzoo import __version__
from policyzoo.cli.base import ZooGroup, fail, underscored
from policyzoo.errors import BadInput
from policyzoo.interrupts import exit_code, interruption, sigterm_as_interrupt

# name -> (module, attribute). The runtime (policyzoo-runtime) and the benchmarks (policyzoo-bench) add their
# commands through the `register_commands` hook, as any plugin can.
LAZY_COMMANDS = {
    "policies": ("policyzoo.cli.policies", "policies"),
    "plugins": ("policyzoo.cli.plugins", "plugins"),
    "robots": ("policyzoo.cli.robots", "robots"),
}


@click.group(
    cls=ZooGroup,
    lazy_commands=LAZY_COMMANDS,
    plugin_commands=True,
    context_settings={"help_option_names": ["-h", "--help"], "token_normalize_func": underscored},
)
@click.version_option(__version__, "--version", prog_name="policyzoo")
def cli() -> None:
    """Train, run and share robot-learning policies; each policy is a plugin.

    Flags follow LeRobot: `policyzoo train --policy.type=act --batch_size=8` works as
    `lerobot-train` does.
    """


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: bad input becomes one line on stderr and exit code 2, never a traceback. SIGTERM and SIGHUP
    interrupt every command as Ctrl-C does (what it finished is kept); the exit code is 128 + the signal."""
    try:
        with sigterm_as_interrupt():
            code = cli.main(
                args=list(argv) if argv is not None else None, prog_name="policyzoo", standalone_mode=False
            )
    except BadInput as exc:
        fail(str(exc))
    except click.UsageError as exc:
        fail(exc.format_message().replace("\n", " ") + _usage_hint(exc))
    except click.ClickException as exc:
        fail(exc.format_message())
    except OSError as exc:  # not a directory, permission denied, read-only, disk full, ...
        from policyzoo.files import describe_os_error

        fail(describe_os_error(exc))
    except (KeyboardInterrupt, click.Abort) as exc:
        stop = _interruption_behind(exc)
        click.echo(interruption(stop), err=True)
        sys.exit(exit_code(stop))
    sys.exit(code if isinstance(code, int) else 0)


def _interruption_behind(exc: BaseException) -> KeyboardInterrupt:
    """The Ctrl-C or signal behind `exc` (click wraps one in Abort)."""
    cause = exc if isinstance(exc, KeyboardInterrupt) else exc.__cause__
    return cause if isinstance(cause, KeyboardInterrupt) else KeyboardInterrupt()


def _usage_hint(exc: click.UsageError) -> str:
    path = exc.ctx.command_path if exc.ctx is not None else "policyzoo"
    return f" (see: {path} --help)"
