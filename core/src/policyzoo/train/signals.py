"""Ctrl-C and SIGTERM during training: a flag the loop checks between steps, never an exception mid-step."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}
"""The exit code of a run stopped by each signal."""


class StopFlag:
    signum: int = 0


@contextmanager
def stop_signals() -> Iterator[StopFlag]:
    """Turn SIGINT/SIGTERM into a flag the loop checks between steps, so a checkpoint is never half a step."""
    flag = StopFlag()

    def handler(signum: int, _frame: Any) -> None:
        flag.signum = signum

    try:
        previous = {sig: signal.signal(sig, handler) for sig in EXIT_SIGNAL}
    except ValueError:  # not the main thread: leave signals alone
        yield flag
        return
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def exit_code(signum: int) -> int:
    return EXIT_SIGNAL.get(signum, 130)
