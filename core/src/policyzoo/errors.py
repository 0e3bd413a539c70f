"""Errors that the CLI turns into one line on stderr and exit code 2."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BadInput(ValueError):
    """The user asked for something that cannot work; the message says what and how to fix it."""


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' Did you mean X?' for the closest choice, or '' when nothing is close."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" Did you mean '{close[0]}'?" if close else ""
