"""Worker processes never outlive their command (`policyzoo_runtime.children`): a SIGKILLed parent takes its workers
along (Linux), Ctrl-C is left to the parent, and a worker deaf to SIGTERM is killed."""

from __future__ import annotations

import multiprocessing
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policyzoo_runtime.children import end_processes

PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]])
print(child.pid, flush=True)
time.sleep(600)
"""
CHILD = """
import os, sys, time
from policyzoo_runtime.children import die_with_parent
die_with_parent(os.getppid())
open(sys.argv[1] if len(sys.argv) > 1 else "/dev/null", "w").close()
time.sleep(600)
"""


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie waiting for its reaper is not)."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_until(condition, deadline_s: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_sigkilled_parent_takes_its_worker_along(tmp_path: Path) -> None:
    started = tmp_path / "started"
    child_code = CHILD.replace('sys.argv[1] if len(sys.argv) > 1 else "/dev/null"', repr(str(started)))
    parent = subprocess.Popen([sys.executable, "-c", PARENT, child_code], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    wait_until(started.exists)  # die_with_parent has run
    assert running(child)
    parent.kill()
    parent.wait()
    wait_until(lambda: not running(child))


def test_workers_leave_ctrl_c_to_their_parent() -> None:
    code = (
        "import os, signal\nfrom policyzoo_runtime.children import leave_interrupts_to_parent\n"
        "leave_interrupts_to_parent()\nos.kill(os.getpid(), signal.SIGINT)\nos.kill(os.getpid(), signal.SIGHUP)\n"
        "print('still here')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout == "still here\n", done.stderr


def deaf_to_sigterm(ready) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready.set()
    time.sleep(600)


def test_end_processes_kills_a_worker_deaf_to_sigterm() -> None:
    context = multiprocessing.get_context("fork")
    ready = context.Event()
    deaf = context.Process(target=deaf_to_sigterm, args=(ready,))
    deaf.start()
    assert ready.wait(60)
    end_processes([deaf], grace_s=0.2)
    assert not deaf.is_alive() and deaf.exitcode == -signal.SIGKILL and not running(deaf.pid)
