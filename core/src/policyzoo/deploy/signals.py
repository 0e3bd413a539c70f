"""SIGTERM as Ctrl-C: a supervisor's stop gets the same report, hold and disconnect as a key press."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised where Ctrl-C raises KeyboardInterrupt, so every handler of one handles both."""


def interruption(exc: KeyboardInterrupt) -> str:
    """How a run was interrupted, for its report."""
    return "interrupted (SIGTERM)" if isinstance(exc, Terminated) else "interrupted (Ctrl-C)"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Inside the block, SIGTERM raises `Terminated` in the main thread (elsewhere signals are left alone)."""

    def handler(_signum: int, _frame: Any) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
