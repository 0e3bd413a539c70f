"""Checks of the paths a command will write, before the slow work starts: one line naming what is wrong."""

from __future__ import annotations

import os
from pathlib import Path

from policyzoo.errors import BadInput


def check_writable(path: str | Path, flag: str, *, folder: bool = True) -> Path:
    """Fail fast, before the slow work, where `path` (a folder, or a file with `folder=False`) cannot be
    written: a file in the way, no permission, a read-only file system. Returns `path`, expanded."""
    path = Path(path).expanduser()
    shown = f"{flag}={path}"
    existing = next(p for p in (path, *path.parents) if os.path.lexists(p))
    _check_length(path, existing, shown, flag)
    if existing != path and not existing.is_dir():
        raise BadInput(
            f"{shown}: {existing} is a file, not a folder (a file is in the way); choose another {flag}"
        )
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
            raise BadInput(
                f"{shown[:80]}...: the name '{part[:24]}...' is {len(os.fsencode(part))} bytes, longer "
                f"than the file system allows ({name_max}); choose a shorter {flag}"
            )
    length = len(os.fsencode(str(path.absolute())))
    if length + ROOM_INSIDE > path_max:
        raise BadInput(
            f"{shown[:80]}...: the path is {length} bytes, too long for the files written inside it "
            f"(the file system takes {path_max}); choose a shorter {flag}"
        )
