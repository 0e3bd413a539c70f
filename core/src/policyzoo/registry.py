"""The registry: plain data about every policy type and robot the installed plugins provide."""

from __future__ import annotations

import builtins
import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from policyzoo._catalogue import FIRST_PARTY
from policyzoo._clashes import Clash, ignored_note
from policyzoo.card import PolicyCard
from policyzoo.errors import BadInput, did_you_mean
from policyzoo.plugins import PluginInfo, PluginProblem, Plugins, clash_problem, get_plugins
from policyzoo.spec import PolicySpec, RobotSpec


@dataclass(frozen=True)
class PolicyEntry:
    type: str
    spec: builtins.type[PolicySpec]  # `type` above is a field here
    card: PolicyCard
    factory: str
    distribution: str
    version: str

    def load_factory(self) -> Any:
        """Import the model code behind this policy type (this is where torch gets imported)."""
        return import_object(self.factory)


@dataclass(frozen=True)
class RobotEntry:
    type: str
    spec: RobotSpec
    backends: dict[str, str]
    distribution: str
    version: str

    def load_backend(self, backend: str) -> Any:
        if backend not in self.backends:
            raise BadInput(
                f"--robot.backend={backend}: robot '{self.type}' has backends: {', '.join(self.backends)}."
                + did_you_mean(backend, self.backends)
            )
        return import_object(self.backends[backend])


@dataclass
class Registry:
    policies: dict[str, PolicyEntry] = field(default_factory=dict)
    robots: dict[str, RobotEntry] = field(default_factory=dict)
    problems: list[PluginProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    policy_clashes: dict[str, Clash] = field(default_factory=dict)
    robot_clashes: dict[str, Clash] = field(default_factory=dict)
    """Types offered by two distributions: unusable until one is uninstalled or preferred."""

    def policy(self, policy_type: str, flag: str = "--policy.type") -> PolicyEntry:
        """The entry for `policy_type`, or a BadInput saying what to install, what was meant or what clashes."""
        if policy_type in self.policies:
            return self.policies[policy_type]
        if policy_type in self.policy_clashes:
            raise BadInput(f"{flag}={policy_type}: {self.policy_clashes[policy_type].error()}")
        if policy_type in FIRST_PARTY:
            dist = FIRST_PARTY[policy_type].distribution
            raise BadInput(f"{flag}={policy_type}: the plugin is not installed; run: pip install {dist}")
        known = sorted(set(self.policies) | set(FIRST_PARTY))
        raise BadInput(
            f"{flag}={policy_type}: unknown policy type; known types: {', '.join(known)}."
            + did_you_mean(policy_type, known)
        )

    def robot(self, robot_type: str, flag: str = "--robot.type") -> RobotEntry:
        if robot_type in self.robots:
            return self.robots[robot_type]
        if robot_type in self.robot_clashes:
            raise BadInput(f"{flag}={robot_type}: {self.robot_clashes[robot_type].error()}")
        known = sorted(self.robots)
        hint = ", ".join(known) if known else "none installed (pip install policyzoo-so101)"
        raise BadInput(
            f"{flag}={robot_type}: unknown robot type; known: {hint}." + did_you_mean(robot_type, known)
        )


def import_object(path: str) -> Any:
    """Import 'package.module:attribute' (or a plain module path)."""
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


Entry = TypeVar("Entry", PolicyEntry, RobotEntry)
Offers = dict[str, dict[str, Entry]]
"""type -> distribution -> what that distribution registered for it"""


def build_registry(plugins: Plugins) -> Registry:
    """Call every plugin's registration hooks, each on its own, and collect the entries."""
    registry = Registry(problems=list(plugins.problems), notes=list(plugins.notes))
    policies: Offers[PolicyEntry] = {}
    robots: Offers[RobotEntry] = {}
    plugins.call_each(
        "register_policies", lambda info: {"register": _policy_registrar(registry, info, policies)}
    )
    plugins.call_each("register_robots", lambda info: {"register": _robot_registrar(registry, info, robots)})
    registry.problems += [problem for problem in plugins.problems if problem not in registry.problems]
    registry.policies, registry.policy_clashes = _resolve(registry, plugins, "policy type", policies)
    registry.robots, registry.robot_clashes = _resolve(registry, plugins, "robot type", robots)
    return registry


def _policy_registrar(
    registry: Registry, info: PluginInfo, offers: Offers[PolicyEntry]
) -> Callable[..., None]:
    def register(spec: type[PolicySpec], card: PolicyCard, factory: str) -> None:
        if not (
            isinstance(spec, type)
            and issubclass(spec, PolicySpec)
            and isinstance(getattr(spec, "type", None), str)
        ):
            raise TypeError("spec must be a PolicySpec subclass with a class attribute `type`")
        if not isinstance(card, PolicyCard):
            raise TypeError(f"card of '{spec.type}' must be a policyzoo.PolicyCard")
        entry = PolicyEntry(spec.type, spec, card, factory, info.distribution, info.version)
        _offer(registry, info, "policy type", offers, entry)

    return register


def _robot_registrar(registry: Registry, info: PluginInfo, offers: Offers[RobotEntry]) -> Callable[..., None]:
    def register(spec: RobotSpec, backends: dict[str, str]) -> None:
        if not isinstance(spec, RobotSpec):
            raise TypeError("spec must be a policyzoo.RobotSpec")
        _offer(
            registry,
            info,
            "robot type",
            offers,
            RobotEntry(spec.type, spec, dict(backends), info.distribution, info.version),
        )

    return register


def _offer(registry: Registry, info: PluginInfo, kind: str, offers: Offers[Entry], entry: Entry) -> None:
    """Record what a distribution registers; the same type twice from one distribution keeps the first."""
    by_distribution = offers.setdefault(entry.type, {})
    if info.distribution in by_distribution:
        registry.problems.append(
            PluginProblem(
                info.name,
                info.distribution,
                f"{kind} '{entry.type}' is registered twice by {info.distribution}; kept the first",
                f"report it to the maintainers of {info.distribution}",
            )
        )
        return
    by_distribution[info.distribution] = entry


def _resolve(
    registry: Registry, plugins: Plugins, kind: str, offers: Offers[Entry]
) -> tuple[dict[str, Entry], dict[str, Clash]]:
    """Each type from its one distribution, or from the preferred one of several; the rest are clashes."""
    chosen: dict[str, Entry] = {}
    clashes: dict[str, Clash] = {}
    for name, by_distribution in offers.items():
        winner = plugins.preferences.pick(name, by_distribution)
        if winner is None:
            clash = Clash(kind, name, tuple(sorted(by_distribution)), plugins.preferences.chosen.get(name))
            clashes[name] = clash
            registry.problems.append(clash_problem(clash))
            continue
        chosen[name] = by_distribution[winner]
        registry.notes += [
            ignored_note(kind, name, d, winner) for d in sorted(by_distribution) if d != winner
        ]
    return chosen, clashes


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _registry
    if _registry is None:
        _registry = build_registry(get_plugins())
    return _registry


def provenance(policy_type: str) -> tuple[str, str]:
    """(distribution, version) of the plugin that registered `policy_type`: what its `policyzoo.json` says."""
    entry = get_registry().policies.get(policy_type)
    return (entry.distribution, entry.version) if entry else ("(unregistered)", "0")


def reset_registry() -> None:
    """Forget the built registry, e.g. after registering a plugin in-process."""
    global _registry
    _registry = None
