"""One name offered by two distributions: an error naming both until one is uninstalled or preferred."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PREFER_VARIABLE = "POLICYZOO_PREFER"
"""`NAME=DISTRIBUTION[,NAME=DISTRIBUTION...]`: which distribution provides NAME (a policy or robot type, or an
entry point name) when several do; the others are ignored for that name."""


def canonical(distribution: str) -> str:
    """A distribution name the way pip compares them (PEP 503): `Policyzoo_Act` is `policyzoo-act`."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


@dataclass(frozen=True)
class Preferences:
    chosen: dict[str, str]
    """name -> canonical distribution name"""
    malformed: tuple[str, ...] = ()

    def pick(self, name: str, distributions: Iterable[str]) -> str | None:
        """The distribution that provides `name`: the only one, the preferred one of several, or None (a clash)."""
        offered = sorted(set(distributions))
        if len(offered) == 1:
            return offered[0]
        preferred = self.chosen.get(name)
        return next((d for d in offered if canonical(d) == preferred), None)


def read_preferences(environ: Mapping[str, str] = os.environ) -> Preferences:
    """The `POLICYZOO_PREFER` setting; entries that are not NAME=DISTRIBUTION are kept aside as malformed."""
    chosen: dict[str, str] = {}
    malformed: list[str] = []
    for item in environ.get(PREFER_VARIABLE, "").split(","):
        name, equals, distribution = (part.strip() for part in item.partition("="))
        if name and equals and distribution:
            chosen[name] = canonical(distribution)
        elif item.strip():
            malformed.append(item.strip())
    return Preferences(chosen, tuple(malformed))


@dataclass(frozen=True)
class Clash:
    kind: str
    """"policy type", "robot type" or "entry point"."""
    name: str
    distributions: tuple[str, ...]
    preferred: str | None = None
    """What POLICYZOO_PREFER names for `name` when that is none of `distributions`."""

    def problem(self) -> str:
        *others, last = self.distributions
        text = f"{self.kind} '{self.name}' is provided by both {', '.join(others)} and {last}"
        if self.preferred is not None:
            text += f" ({PREFER_VARIABLE} picks {self.preferred}, which does not provide it)"
        return text

    def fix(self) -> str:
        uninstall = " or ".join(f"pip uninstall {d}" for d in self.distributions)
        prefer = " or ".join(f"{PREFER_VARIABLE}={self.name}={d}" for d in self.distributions)
        return f"uninstall one ({uninstall}) or choose one with {prefer} (comma-separated for several names)"

    def error(self) -> str:
        """One line for a command that needs `name`."""
        return f"{self.problem()}; {self.fix()}"


def ignored_note(kind: str, name: str, ignored: str, winner: str) -> str:
    return f"{kind} '{name}' of {ignored} is ignored by preference ({PREFER_VARIABLE}={name}={winner})"
