"""Ctrl-C, SIGTERM and SIGHUP are one interruption: a supervisor's stop or a closed terminal gets the same
saving, report and clean-up as a key press. Light (standard library only): the CLI's entry point uses it.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name))
"""The signals that interrupt as Ctrl-C does (SIGHUP where the platform has it)."""


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived; raised where Ctrl-C raises KeyboardInterrupt, so every handler of one handles
    both."""

    def __init__(self, signum: int = signal.SIGTERM) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def interruption(exc: KeyboardInterrupt) -> str:
    """How a run was interrupted, for its report."""
    if isinstance(exc, Terminated):
        return f"interrupted ({signal.Signals(exc.signum).name})"
    return "interrupted (Ctrl-C)"


def exit_code(exc: KeyboardInterrupt) -> int:
    """The exit status of a command stopped by `exc`: 128 + the signal's number, as a shell reports it."""
    return 128 + (exc.signum if isinstance(exc, Terminated) else signal.SIGINT)


def _raise(signum: int, _frame: Any) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGHUP raise `Terminated` and Ctrl-C KeyboardInterrupt in the main thread
    (elsewhere signals are left alone)."""
    with _handled(_raise):
        yield


@contextmanager
def deferred_interrupts() -> Iterator[None]:
    """Inside the block (work that must not be cut in half, such as saving an episode), Ctrl-C, SIGTERM and
    SIGHUP are held; the first one that came is raised when the block ends."""
    held: list[int] = []
    with _handled(lambda signum, _frame: held.append(signum)):
        yield
    if held:
        _raise(held[0], None)


@contextmanager
def _handled(handler: Any) -> Iterator[None]:
    """`handler` for SIGINT and the stop signals inside the block; the previous handlers after it."""
    try:
        previous = {signum: signal.signal(signum, handler) for signum in (signal.SIGINT, *STOP_SIGNALS)}
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, signal.SIG_DFL if old is None else old)  # None: set outside Python
