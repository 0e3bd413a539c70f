"""Child processes never outlive their command: worker processes call `die_with_parent` and
`leave_interrupts_to_parent` when they start, and the parent ends them with `end_processes` when it stops.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
from collections.abc import Iterable
from typing import Any

PR_SET_PDEATHSIG = 1
"""Linux's prctl option: the signal this process gets when the thread that started it exits."""


def die_with_parent(parent_pid: int | None = None) -> None:
    """Have the kernel kill this process when its parent exits, even when the parent is SIGKILLed (Linux;
    elsewhere nothing). With `parent_pid`, exit at once if that parent has already gone."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(OSError, AttributeError):  # a libc without prctl: the parent ends it as usual
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if parent_pid is not None and os.getppid() != parent_pid:
        os._exit(1)


def leave_interrupts_to_parent() -> None:
    """Ignore Ctrl-C and SIGHUP, which reach the whole process group: the parent decides and ends this
    process (with SIGTERM, which keeps its default action)."""
    for name in ("SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), signal.SIG_IGN)


def end_processes(processes: Iterable[Any], grace_s: float = 5.0) -> None:
    """Terminate `processes` (`multiprocessing.Process`), then kill those still running after `grace_s`; all
    are joined."""
    processes = list(processes)
    for process in processes:
        process.terminate()
    for process in processes:
        process.join(grace_s)
        if process.is_alive():
            process.kill()
            process.join()
