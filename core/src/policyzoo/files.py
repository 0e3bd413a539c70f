"""Files that must survive a crash (written under a temporary name, flushed, renamed), and checks and messages
for paths a command writes."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from policyzoo.errors import BadInput


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


def check_writable(path: str | Path, flag: str, *, folder: bool = True) -> Path:
    """Fail fast, before the slow work, where `path` (a folder, or a file with `folder=False`) cannot be
    written: a file in the way, no permission, a read-only file system. Returns `path`, expanded."""
    path = Path(path).expanduser()
    shown = f"{flag}={path}"
    existing = next(p for p in (path, *path.parents) if os.path.lexists(p))
    _check_length(path, existing, shown, flag)
    if existing != path and not existing.is_dir():
        raise BadInput(f"{shown}: {existing} is a file, not a folder (a file is in the way); choose another {flag}")
    if existing == path and path.is_dir() != folder:
        what = "a file, not a folder" if folder else "a folder, not a file"
        raise BadInput(f"{shown}: is {what}; choose another {flag}")
    writes_in = existing if existing != path else path if folder else path.parent  # where new entries go
    if os.statvfs(writes_in).f_flag & os.ST_RDONLY:
        raise BadInput(f"{shown}: {writes_in} is on a read-only file system; choose another {flag}")
    if not os.access(writes_in, os.W_OK | os.X_OK):
        raise BadInput(f"{shown}: no permission to write in {writes_in}; choose another {flag}")
    return path


ROOM_INSIDE = 128
"""Bytes of path a command may add inside the folder it is given (checkpoints/000100/pretrained_model/...)."""


def _check_length(path: Path, existing: Path, shown: str, flag: str) -> None:
    """A name or a whole path longer than the file system takes is refused before anything is written."""
    name_max = os.pathconf(existing, "PC_NAME_MAX")
    path_max = os.pathconf(existing, "PC_PATH_MAX")
    for part in path.parts:
        if len(os.fsencode(part)) > name_max:
            raise BadInput(f"{shown[:80]}...: the name '{part[:24]}...' is {len(os.fsencode(part))} bytes, longer "
                           f"than the file system allows ({name_max}); choose a shorter {flag}")
    length = len(os.fsencode(str(path.absolute())))
    if length + ROOM_INSIDE > path_max:
        raise BadInput(f"{shown[:80]}...: the path is {length} bytes, too long for the files written inside it "
                       f"(the file system takes {path_max}); choose a shorter {flag}")


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
