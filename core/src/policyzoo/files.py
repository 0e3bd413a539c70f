"""Files that must survive a crash (written under a temporary name, flushed, renamed), and one-line messages for
file-system errors."""

from __future__ import annotations

import errno
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


_PROBLEMS = {
    errno.ENOTDIR: "not a directory (a file is in the way); choose another path",
    errno.EISDIR: "is a folder, not a file; choose another path",
    errno.EACCES: "permission denied; choose a path you can write to",
    errno.EPERM: "operation not permitted; choose a path you can write to",
    errno.EROFS: "read-only file system; choose a path on a writable disk",
    errno.ENOSPC: "no space left on the device (disk full); free some space and run again",
    errno.EEXIST: "already exists; choose a new path",
    errno.ENOENT: "no such file or folder",
    errno.ENAMETOOLONG: "file name too long; choose a shorter path",
}


def describe_os_error(exc: OSError) -> str:
    """One line for a file-system error: the path and the problem, with what to do."""
    problem = _PROBLEMS.get(exc.errno or 0, exc.strerror or str(exc))
    names = [str(name) for name in (exc.filename, exc.filename2) if name is not None]
    return f"{' -> '.join(names)}: {problem}" if names else problem
