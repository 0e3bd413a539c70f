"""Keeps the chatter of LeRobot's helpers off the user's terminal while policyzoo calls into LeRobot.

Three sources, each silenced with its own switch and only inside `quiet_lerobot()`: the `datasets` library's
progress bars (its "Map" bar when an episode with images is saved); the SVT-AV1 encoder's log (its C code
prints to stderr; `SVT_LOG=1` keeps its errors only, and the encoder processes LeRobot starts inherit it); and
FFmpeg's own log, which LeRobot turns back on after each encode (FFmpeg's level is set to errors).
`POLICYZOO_VERBOSE=1` lets all of them through; a user's own `SVT_LOG` or
`HF_DATASETS_DISABLE_PROGRESS_BARS` is left as it is.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

VERBOSE_VARIABLE = "POLICYZOO_VERBOSE"
SVT_LOG_VARIABLE = "SVT_LOG"
SVT_ERRORS_ONLY = "1"
"""SVT-AV1's log levels: 0 fatal, 1 error, 2 warning, 3 info (its default)."""


def verbose() -> bool:
    """Whether the user asked to see the libraries' own output (`POLICYZOO_VERBOSE=1`)."""
    return os.environ.get(VERBOSE_VARIABLE, "").strip().lower() not in ("", "0", "false", "no", "off")


@contextmanager
def quiet_lerobot() -> Iterator[None]:
    """Around a LeRobot call that builds, saves or encodes a dataset; does nothing when `verbose()`."""
    if verbose():
        yield
        return
    with _no_dataset_bars(), _ffmpeg_errors_only(), _environment(SVT_LOG_VARIABLE, SVT_ERRORS_ONLY):
        yield


@contextmanager
def _no_dataset_bars() -> Iterator[None]:
    from datasets import config
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    if config.HF_DATASETS_DISABLE_PROGRESS_BARS is not None or are_progress_bars_disabled():
        yield  # the user's environment decides, or they are off already
        return
    disable_progress_bars()
    try:
        yield
    finally:
        enable_progress_bars()


@contextmanager
def _ffmpeg_errors_only() -> Iterator[None]:
    """FFmpeg's level for its own printing (LeRobot restores FFmpeg's callback after encoding); back to its
    default, INFO, after."""
    import av.logging

    av.logging.set_libav_level(av.logging.ERROR)
    try:
        yield
    finally:
        av.logging.set_libav_level(av.logging.INFO)


@contextmanager
def _environment(name: str, value: str) -> Iterator[None]:
    """`name=value` in this process and the ones it starts, unless the user set `name` already."""
    if name in os.environ:
        yield
        return
    os.environ[name] = value
    try:
        yield
    finally:
        os.environ.pop(name, None)


def launched_rank() -> int | None:
    """This process's rank under `accelerate launch` or torchrun (which set RANK), else None."""
    rank = os.environ.get("RANK", "")
    return int(rank) if rank.isdigit() else None


@contextmanager
def quiet_process_group() -> Iterator[None]:
    """Around the start of a launched run's process group: Gloo prints "[Gloo] Rank N is connected to ..." on
    the C-level stdout of every process; those lines are dropped (`POLICYZOO_VERBOSE=1` keeps them)."""
    if launched_rank() is None or verbose():
        yield
        return
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as nothing:
        os.dup2(nothing.fileno(), 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def warnings_once_per_launch() -> None:
    """In the processes of a launched run other than the first, Python warnings, library log records and
    PyTorch's C++ warnings (such as DDP's reducer's) below errors are dropped, so each warning is shown once (by
    rank 0). Call it before torch is imported: PyTorch reads its C++ log level when it loads."""
    if (launched_rank() or 0) == 0 or verbose():
        return
    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    os.environ.setdefault("TORCH_CPP_LOG_LEVEL", "ERROR")
