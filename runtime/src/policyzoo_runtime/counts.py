"""Bounds on the counts a user types: a number past them is refused in one line, before any work starts."""

from __future__ import annotations

import os

from policyzoo.errors import BadInput

MAX_EPISODES = 10_000
"""Episodes one `eval`, `record` or `dataset sample` runs at most (as `bench success` takes)."""
MAX_EPISODE_STEPS = 100_000
"""Steps of one evaluated episode at most (55 minutes at 30 fps)."""
MAX_SEED = 2**32 - 1
"""Seeds are whole numbers from 0 to this (what NumPy's and torch's generators take, with room for episode
indices added)."""


WORKERS_PER_CORE = 2
"""Worker processes a command starts at most per CPU core (each holds its own policy and simulator)."""


def cpu_cores() -> int:
    """The CPU cores of this machine."""
    return os.cpu_count() or 1


def within(flag: str, value: int, least: int, most: int, what: str) -> int:
    """`value`, or BadInput where it is below `least` or above `most` (`what`: what `most` bounds)."""
    if value < least:
        raise BadInput(f"{flag}={value}: must be at least {least}")
    if value > most:
        raise BadInput(f"{flag}={value}: must be at most {most} ({what})")
    return value
