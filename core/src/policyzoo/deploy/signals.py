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
    """Inside the block, SIGTERM raises `Terminated` and Ctrl-C KeyboardInterrupt in the main thread (elsewhere
    signals are left alone)."""

    def handler(_signum: int, _frame: Any) -> None:
        raise Terminated

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    # Ctrl-C raises KeyboardInterrupt here even where an earlier part of the process replaced Python's handler
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
