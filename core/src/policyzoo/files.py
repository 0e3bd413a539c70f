"""Files that must survive a crash: written under a temporary name, flushed to disk, then renamed."""

from __future__ import annotations

import os
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename: a crash leaves the old content or the new, never a torn file."""
    path = Path(path)
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with temporary.open("w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def append_durable(path: Path, line: str) -> None:
    """Append one line and flush it to disk (a crash can tear only the line being written)."""
    with Path(path).open("a") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())
