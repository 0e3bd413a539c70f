"""Finding plugins through the `policyzoo` entry-point group, one at a time and never fatally."""

from __future__ import annotations

import contextlib
import difflib
import functools
import os
import reprlib
import sys
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy
from pydantic import ValidationError

from policyzoo import hookspecs
from policyzoo._clashes import PREFER_VARIABLE, Clash, ignored_note, read_preferences

ENTRY_POINT_GROUP = "policyzoo"
CONTRACT_VERSION = 1
"""Plugins declare `POLICYZOO_CONTRACT = 1` in their entry module; another number is not loaded."""
TRACE_VARIABLE = "POLICYZOO_TRACE_PLUGINS"
"""Set to 1 to have every hook call and its result traced to stderr."""


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
        self.problems += [
            PluginProblem(
                PREFER_VARIABLE,
                "environment",
                f"entry '{item}' is not NAME=DISTRIBUTION; it is ignored",
                f"write it as {PREFER_VARIABLE}=NAME=DISTRIBUTION, comma-separated for several",
            )
            for item in self.preferences.malformed
        ]
        if os.environ.get(TRACE_VARIABLE, "") not in ("", "0"):
            self.manager.add_hookcall_monitoring(_trace_call, _trace_result)

    def add(self, plugin: object, name: str, distribution: str = "(in-process)", version: str = "") -> bool:
        """Register one plugin object; on any problem record it, unregister and return False."""
        contract = getattr(plugin, "POLICYZOO_CONTRACT", None)
        if contract is not None and contract != CONTRACT_VERSION:
            newer = contract > CONTRACT_VERSION
            self.problems.append(
                PluginProblem(
                    name,
                    distribution,
                    f"targets plugin contract {contract}, this policyzoo speaks {CONTRACT_VERSION}",
                    "upgrade policyzoo: pip install -U policyzoo"
                    if newer
                    else f"upgrade the plugin: pip install -U {distribution}",
                )
            )
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
        # Sorted, so the order of hook calls does not depend on sys.path order; registered in reverse, since
        # pluggy calls the plugin registered last first: hooks run in the order of distribution names.
        found = sorted(
            entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: (_distribution(ep), ep.name), reverse=True
        )
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
                clash = Clash(
                    "entry point", name, tuple(sorted(offers[name])), self.preferences.chosen.get(name)
                )
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
            self.problems.append(
                PluginProblem(
                    name,
                    distribution,
                    f"failed to import {entry_point.value}: {type(exc).__name__}: {_one_line(exc)}",
                    f"reinstall it (pip install --force-reinstall {distribution}) or uninstall it",
                )
            )
            return
        self.add(module, name, distribution, entry_point.dist.version if entry_point.dist else "")

    def call(self, hook: str, /, *, warn: Callable[[str], None] | None = None, **kwargs: Any) -> list[Any]:
        """Call every implementation of `hook` with `kwargs`, each on its own, and return their answers that are
        not None, in pluggy's order (see `_run`).

        The one policy for a plugin's failure, whatever the hook: an exception (even a `sys.exit`) is recorded
        in `problems` for `policyzoo plugins doctor`, warned about once (through `warn`, stderr by default),
        and the other plugins carry on. What a plugin prints goes to stderr (`plugin_output`).
        """
        return self.call_each(hook, lambda _info: kwargs, warn)

    def call_each(
        self,
        hook: str,
        arguments: Callable[[PluginInfo], dict[str, Any]],
        warn: Callable[[str], None] | None = None,
    ) -> list[Any]:
        """`call`, with arguments made for each plugin by `arguments(plugin info)` (e.g. a `register` callback
        that knows which distribution registers)."""
        return self._run(hook, arguments, warn, firstresult=False)

    def first_result(self, hook: str, /, *, warn: Callable[[str], None] | None = None, **kwargs: Any) -> Any:
        """The first answer that is not None, as pluggy asks for `firstresult` hooks (tryfirst implementations
        first, then the plugin registered last); failures as in `call`."""
        return self._run(hook, lambda _info: kwargs, warn, firstresult=True)

    def _run(
        self,
        hook: str,
        arguments: Callable[[PluginInfo], dict[str, Any]],
        warn: Callable[[str], None] | None,
        firstresult: bool,
    ) -> Any:
        """Run `hook` through pluggy's own call loop (the manager's `_hookexec`), so that its order (tryfirst
        first, trylast last, else the plugin registered last first), its wrappers and `add_hookcall_monitoring`
        all apply. Each implementation takes part as a stand-in (`_stand_in`) that gets its own plugin's
        arguments, not pluggy's shared ones, and keeps its failures to itself."""
        stand_ins = [
            self._stand_in(impl, hook, arguments, warn)
            for impl in getattr(self.manager.hook, hook).get_hookimpls()
        ]
        return self.manager._hookexec(hook, stand_ins, {}, firstresult)

    def _stand_in(
        self,
        impl: pluggy.HookImpl,
        hook: str,
        arguments: Callable[[PluginInfo], dict[str, Any]],
        warn: Callable[[str], None] | None,
    ) -> pluggy.HookImpl:
        """`impl` with its plugin's arguments, its output on stderr and its failures recorded (`_guard`); with the
        same options, so pluggy orders it, and runs it as a wrapper (new or old style), as it would `impl`."""
        info = self.info.get(impl.plugin_name, PluginInfo(impl.plugin_name, "(in-process)", "", None))
        guard = functools.partial(self._guard, info, hook, warn)

        def start() -> Any:
            kwargs = arguments(info)
            return impl.function(
                *(kwargs[name] for name in impl.argnames),
                **{name: kwargs[name] for name in impl.kwargnames if name in kwargs},
            )

        def run() -> Any:
            return _wrapping(start, guard) if impl.wrapper or impl.hookwrapper else guard(start)

        return pluggy.HookImpl(impl.plugin, impl.plugin_name, run, impl.opts)

    def _guard(
        self, info: PluginInfo, hook: str, warn: Callable[[str], None] | None, work: Callable[[], Any]
    ) -> Any:
        """What `work()`, plugin code, returns, printing to stderr; None if it raises (KeyboardInterrupt aside)."""
        try:
            with plugin_output():
                return work()
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # one plugin's bug, even a sys.exit, must not stop the others
            self.record_failure(info, hook, exc, warn)
            return None

    def record_failure(
        self, info: PluginInfo, hook: str, exc: BaseException, warn: Callable[[str], None] | None = None
    ) -> PluginProblem:
        """Record that `info`'s implementation of `hook` raised `exc` (once) and warn about it (once)."""
        problem = PluginProblem(
            info.name,
            info.distribution,
            f"hook {hook} raised {type(exc).__name__}: {_one_line(exc)}",
            f"report it to the maintainers of {info.distribution}, or uninstall it",
        )
        if problem not in self.problems:
            self.problems.append(problem)
        if problem not in self._warned:
            self._warned.add(problem)
            (warn or _warn_stderr)(
                f"warning: plugin '{info.name}' failed in {hook}: {type(exc).__name__}: "
                f"{_one_line(exc)} (carrying on without it; see: policyzoo plugins doctor)"
            )
        return problem


def plugin_output() -> contextlib.AbstractContextManager:
    """Send what plugin code prints to stderr, so that it cannot corrupt a command's `--json` output."""
    return contextlib.redirect_stdout(sys.stderr)


def _wrapping(
    start: Callable[[], Any], guard: Callable[[Callable[[], Any]], Any]
) -> Generator[None, Any, Any]:
    """Run a plugin's wrapper (what `start()` returns) around the rest. Where its own code fails (`guard` records
    that), what the rest returned passes through as if it were not there: unlike in pluggy, a wrapper's exception
    never fails the call, since one plugin's bug must not. A KeyboardInterrupt is not handed to the wrapper: the
    wrapper is closed and the interrupt ends the call."""
    teardown = guard(lambda: _started(start()))
    try:
        received = yield  # new style: the result; old style: pluggy's Result, which the wrapper may change
    except BaseException:  # an interrupt: every plugin's own failures are kept inside its stand-in
        if teardown is not None:
            teardown.close()
        raise
    if teardown is None:
        return received
    finished = guard(lambda: _finished(teardown, received))
    return received if finished is None else finished[0]


def _started(wrapper: Generator[None, Any, Any]) -> Generator[None, Any, Any]:
    try:
        next(wrapper)
    except StopIteration:
        raise RuntimeError("the wrapper did not yield") from None
    return wrapper


def _finished(wrapper: Generator[None, Any, Any], received: Any) -> tuple[Any]:
    """What the wrapper returns once it gets `received`, as a 1-tuple (None may be an answer)."""
    try:
        wrapper.send(received)
    except StopIteration as stop:
        return (stop.value,)
    wrapper.close()
    raise RuntimeError("the wrapper yielded twice")


def _trace_call(hook: str, implementations: Sequence[pluggy.HookImpl], _kwargs: Mapping[str, object]) -> None:
    order = ", ".join(impl.plugin_name for impl in reversed(implementations)) or "no plugin"
    _warn_stderr(f"policyzoo: hook {hook} calls {order}")


def _trace_result(
    outcome: pluggy.Result,
    hook: str,
    _implementations: Sequence[pluggy.HookImpl],
    _kwargs: Mapping[str, object],
) -> None:
    exc = outcome.exception
    told = (
        f"raised {type(exc).__name__}"
        if exc is not None
        else f"returned {reprlib.repr(outcome.get_result())}"
    )
    _warn_stderr(f"policyzoo: hook {hook} {told}")


def _warn_stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def clash_problem(clash: Clash) -> PluginProblem:
    return PluginProblem(clash.name, ", ".join(clash.distributions), clash.problem(), clash.fix())


def _distribution(entry_point: EntryPoint) -> str:
    return entry_point.dist.name if entry_point.dist else "(unknown)"


def _one_line(exc: BaseException) -> str:
    """The message on one line; a pydantic error as 'PolicyCard: title: Field required' (no input dump)."""
    if isinstance(exc, ValidationError):
        problems = []
        for error in exc.errors():
            place = ".".join(str(part) for part in error["loc"])
            problems.append(f"{place}: {error['msg']}" if place else error["msg"])
        return f"{exc.title}: " + "; ".join(problems)
    return " ".join(str(exc).split())


def _signature_fix() -> str:
    return "make the hook's arguments a subset of the spec in policyzoo.hookspecs"


def _misspelt_fix(plugin: object) -> str:
    known = [
        name
        for name in dir(hookspecs)
        if not name.startswith("_") and name not in ("pluggy", "hookspec", "hookimpl")
    ]
    unknown = [
        name
        for name in dir(plugin)
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
