"""One training run per output folder: an OS file lock held for the run's lifetime, and who holds it."""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from policyzoo.errors import BadInput
from policyzoo.files import write_atomic

LOCK_FILE = ".train.lock"
OWNER_FILE = ".train.owner.json"


@contextmanager
def output_dir_lock(output_dir: Path, command: str) -> Iterator[None]:
    """Hold the lock of `output_dir` (which must exist); a second run fails with one line naming the holder.

    The operating system releases the lock when its process dies, so a killed run never leaves it stuck.
    """
    output_dir = Path(output_dir)
    lock = FileLock(output_dir / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise BadInput(
            f"--output_dir={output_dir}: another training is writing to it ({holder(output_dir)}); "
            f"wait for it to finish or stop it, or pick another --output_dir"
        ) from None
    try:
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "command": command,
        }
        write_atomic(output_dir / OWNER_FILE, json.dumps(owner) + "\n")
        yield
    finally:
        lock.release()


def holder(output_dir: Path) -> str:
    """Who holds the lock, as far as its owner file says."""
    try:
        owner = json.loads((Path(output_dir) / OWNER_FILE).read_text())
        return f"pid {owner['pid']} on {owner['host']}, started {owner['started']}: {owner['command'] or 'train'}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not said who it is yet"
