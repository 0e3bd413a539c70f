"""Ctrl-C, SIGTERM and SIGHUP (a closed terminal) during training: a flag the loop checks between steps, never
an exception mid-step."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STOPPING = (signal.SIGINT, signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))
"""The signals that stop a run with a checkpoint; its exit code is 128 + the signal's number, as a shell's."""


class StopFlag:
    signum: int = 0


@contextmanager
def stop_signals() -> Iterator[StopFlag]:
    """Turn the `STOPPING` signals into a flag the loop checks between steps, so a checkpoint is never half a
    step."""
    flag = StopFlag()

    def handler(signum: int, _frame: Any) -> None:
        flag.signum = signum

    try:
        previous = {sig: signal.signal(sig, handler) for sig in STOPPING}
    except ValueError:  # not the main thread: leave signals alone
        yield flag
        return
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def exit_code(signum: int) -> int:
    return 128 + (signum if signum in STOPPING else signal.SIGINT)
