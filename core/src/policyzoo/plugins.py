"""Finding plugins through the `policyzoo` entry-point group, one at a time and never fatally."""

from __future__ import annotations

import contextlib
import difflib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from policyzoo import hookspecs
from policyzoo._clashes import PREFER_VARIABLE, Clash, ignored_note, read_preferences

ENTRY_POINT_GROUP = "policyzoo"
CONTRACT_VERSION = 1
"""Plugins declare `POLICYZOO_CONTRACT = 1` in their entry module; another number is not loaded."""


@dataclass(frozen=True)
class PluginInfo:
    name: str
    distribution: str
    version: str
    contract: int | None


@dataclass(frozen=True)
class PluginProblem:
    plugin: str
    distribution: str
    problem: str
    fix: str


class Plugins:
    """A pluggy manager plus what was loaded and what failed to load."""

    def __init__(self) -> None:
        self.manager = pluggy.PluginManager("policyzoo")
        self.manager.add_hookspecs(hookspecs)
        self.info: dict[str, PluginInfo] = {}
        self.problems: list[PluginProblem] = []
        self.notes: list[str] = []
        self._warned: set[PluginProblem] = set()
        self.preferences = read_preferences()
        self.problems += [PluginProblem(
            PREFER_VARIABLE, "environment", f"entry '{item}' is not NAME=DISTRIBUTION; it is ignored",
            f"write it as {PREFER_VARIABLE}=NAME=DISTRIBUTION, comma-separated for several",
        ) for item in self.preferences.malformed]

    def add(self, plugin: object, name: str, distribution: str = "(in-process)", version: str = "") -> bool:
        """Register one plugin object; on any problem record it, unregister and return False."""
        contract = getattr(plugin, "POLICYZOO_CONTRACT", None)
        if contract is not None and contract != CONTRACT_VERSION:
            newer = contract > CONTRACT_VERSION
            self.problems.append(PluginProblem(
                name, distribution,
                f"targets plugin contract {contract}, this policyzoo speaks {CONTRACT_VERSION}",
                "upgrade policyzoo: pip install -U policyzoo" if newer
                else f"upgrade the plugin: pip install -U {distribution}",
            ))
            return False
        try:
            self.manager.register(plugin, name=name)
        except (pluggy.PluginValidationError, ValueError) as exc:
            self.problems.append(PluginProblem(name, distribution, _one_line(exc), _signature_fix()))
            return False
        try:
            self.manager.check_pending()
        except pluggy.PluginValidationError as exc:
            self.manager.unregister(name=name)
            self.problems.append(PluginProblem(name, distribution, _one_line(exc), _misspelt_fix(plugin)))
            return False
        self.info[name] = PluginInfo(name, distribution, version, contract)
        return True

    def remove(self, name: str) -> None:
        self.manager.unregister(name=name)
        self.info.pop(name, None)

    def load_entry_points(self) -> None:
        """Load every entry point; a name two distributions offer loads from both (a clash) or the preferred one."""
        # Sorted, so the order of hook calls does not depend on sys.path order.
        found = sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (_distribution(ep), ep.name))
        offers: dict[str, set[str]] = {}
        for entry_point in found:
            offers.setdefault(entry_point.name, set()).add(_distribution(entry_point))
        for entry_point in found:
            name, distribution = entry_point.name, _distribution(entry_point)
            winner = self.preferences.pick(name, offers[name])
            if winner == distribution:
                self._load(entry_point, name)
            elif winner is not None:
                self.notes.append(ignored_note("entry point", name, distribution, winner))
            else:
                clash = Clash("entry point", name, tuple(sorted(offers[name])), self.preferences.chosen.get(name))
                if distribution == clash.distributions[0]:
                    self.problems.append(clash_problem(clash))
                self._load(entry_point, f"{name}@{distribution}")

    def _load(self, entry_point: EntryPoint, name: str) -> None:
        distribution = _distribution(entry_point)
        try:
            with plugin_output():
                module = entry_point.load()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a broken plugin, even one calling sys.exit, must not break the others
            self.problems.append(PluginProblem(
                name, distribution,
                f"failed to import {entry_point.value}: {type(exc).__name__}: {_one_line(exc)}",
                f"reinstall it (pip install --force-reinstall {distribution}) or uninstall it",
            ))
            return
        self.add(module, name, distribution, entry_point.dist.version if entry_point.dist else "")

    def call(self, hook: str, /, *, warn: Callable[[str], None] | None = None, **kwargs: Any) -> list[Any]:
        """Call every implementation of `hook` with `kwargs`, each on its own, and return their results.

        The one policy for a plugin's failure, whatever the hook: an exception (even a `sys.exit`) is recorded
        in `problems` for `policyzoo plugins doctor`, warned about once (through `warn`, stderr by default),
        and the other plugins carry on. What a plugin prints goes to stderr (`plugin_output`).
        """
        return self.call_each(hook, lambda _info: kwargs, warn)

    def call_each(self, hook: str, arguments: Callable[[PluginInfo], dict[str, Any]],
                  warn: Callable[[str], None] | None = None) -> list[Any]:
        """`call`, with arguments made for each plugin by `arguments(plugin info)` (e.g. a `register` callback
        that knows which distribution registers)."""
        return [result for _info, result in self._results(hook, arguments, warn, reverse=False)]

    def first_result(self, hook: str, /, *, warn: Callable[[str], None] | None = None, **kwargs: Any) -> Any:
        """The first answer that is not None, in pluggy's order for `firstresult` hooks (the plugin registered
        last asks first); failures as in `call`."""
        for _info, result in self._results(hook, lambda _info: kwargs, warn, reverse=True):
            if result is not None:
                return result
        return None

    def _results(self, hook: str, arguments: Callable[[PluginInfo], dict[str, Any]],
                 warn: Callable[[str], None] | None, reverse: bool) -> Iterator[tuple[PluginInfo, Any]]:
        implementations = getattr(self.manager.hook, hook).get_hookimpls()
        for impl in reversed(implementations) if reverse else implementations:
            info = self.info.get(impl.plugin_name, PluginInfo(impl.plugin_name, "(in-process)", "", None))
            try:
                kwargs = arguments(info)
                with plugin_output():
                    result = impl.function(**{name: kwargs[name] for name in impl.argnames})
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # one plugin's bug, even a sys.exit, must not stop the others
                self.record_failure(info, hook, exc, warn)
                continue
            yield info, result

    def record_failure(self, info: PluginInfo, hook: str, exc: BaseException,
                       warn: Callable[[str], None] | None = None) -> PluginProblem:
        """Record that `info`'s implementation of `hook` raised `exc` (once) and warn about it (once)."""
        problem = PluginProblem(info.name, info.distribution,
                                f"hook {hook} raised {type(exc).__name__}: {_one_line(exc)}",
                                f"report it to the maintainers of {info.distribution}, or uninstall it")
        if problem not in self.problems:
            self.problems.append(problem)
        if problem not in self._warned:
            self._warned.add(problem)
            (warn or _warn_stderr)(f"warning: plugin '{info.name}' failed in {hook}: {type(exc).__name__}: "
                                   f"{_one_line(exc)} (carrying on without it; see: policyzoo plugins doctor)")
        return problem


def plugin_output() -> contextlib.AbstractContextManager:
    """Send what plugin code prints to stderr, so that it cannot corrupt a command's `--json` output."""
    return contextlib.redirect_stdout(sys.stderr)


def _warn_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def clash_problem(clash: Clash) -> PluginProblem:
    return PluginProblem(clash.name, ", ".join(clash.distributions), clash.problem(), clash.fix())


def _distribution(entry_point: EntryPoint) -> str:
    return entry_point.dist.name if entry_point.dist else "(unknown)"


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _signature_fix() -> str:
    return "make the hook's arguments a subset of the spec in policyzoo.hookspecs"


def _misspelt_fix(plugin: object) -> str:
    known = [name for name in dir(hookspecs) if not name.startswith("_") and name not in ("pluggy", "hookspec",
                                                                                          "hookimpl")]
    unknown = [
        name for name in dir(plugin)
        if getattr(getattr(plugin, name, None), "policyzoo_impl", None) is not None and name not in known
    ]
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, known, n=1)
        hints.append(f"rename '{name}' to '{close[0]}'" if close else f"'{name}' is not a policyzoo hook")
    return "; ".join(hints) or "use only hooks defined in policyzoo.hookspecs"


_plugins: Plugins | None = None


def get_plugins() -> Plugins:
    """The process-wide plugin set, loading entry points on first use."""
    global _plugins
    if _plugins is None:
        _plugins = Plugins()
        _plugins.load_entry_points()
    return _plugins
