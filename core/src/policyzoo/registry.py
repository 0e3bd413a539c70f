"""The registry: plain data about every policy type and robot the installed plugins provide."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from policyzoo.catalogue import FIRST_PARTY
from policyzoo.errors import BadInput, did_you_mean
from policyzoo.plugins import PluginInfo, PluginProblem, Plugins, get_plugins
from policyzoo.specs import PolicyCard, PolicySpec, RobotSpec


@dataclass(frozen=True)
class PolicyEntry:
    type: str
    spec: type[PolicySpec]
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

    def policy(self, policy_type: str, flag: str = "--policy.type") -> PolicyEntry:
        """The entry for `policy_type`, or a BadInput saying what to install or what was meant."""
        if policy_type in self.policies:
            return self.policies[policy_type]
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
        known = sorted(self.robots)
        hint = ", ".join(known) if known else "none installed (pip install policyzoo-so101)"
        raise BadInput(f"{flag}={robot_type}: unknown robot type; known: {hint}." + did_you_mean(robot_type, known))


def import_object(path: str) -> Any:
    """Import 'package.module:attribute' (or a plain module path)."""
    module_name, _, attribute = path.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, attribute) if attribute else module


def build_registry(plugins: Plugins) -> Registry:
    """Call every plugin's registration hooks, each on its own, and collect the entries."""
    registry = Registry(problems=list(plugins.problems))
    for info, register_policies in plugins.hook_callers("register_policies"):
        _call(registry, info, "register_policies", register_policies, _policy_registrar(registry, info))
    for info, register_robots in plugins.hook_callers("register_robots"):
        _call(registry, info, "register_robots", register_robots, _robot_registrar(registry, info))
    return registry


def _call(registry: Registry, info: PluginInfo, hook: str, function: Any, register: Any) -> None:
    try:
        function(register=register)
    except Exception as exc:  # one plugin's bug must not hide the others
        registry.problems.append(PluginProblem(
            info.name, info.distribution, f"hook {hook} raised {type(exc).__name__}: {exc}",
            f"report it to the maintainers of {info.distribution}, or uninstall it",
        ))


def _policy_registrar(registry: Registry, info: PluginInfo):
    def register(spec: type[PolicySpec], card: PolicyCard, factory: str) -> None:
        if not (isinstance(spec, type) and issubclass(spec, PolicySpec) and isinstance(getattr(spec, "type", None),
                                                                                       str)):
            raise TypeError("spec must be a PolicySpec subclass with a class attribute `type`")
        if not isinstance(card, PolicyCard):
            raise TypeError(f"card of '{spec.type}' must be a policyzoo.PolicyCard")
        existing = registry.policies.get(spec.type)
        if existing is not None:
            registry.problems.append(_duplicate("policy type", spec.type, existing.distribution, info))
            return
        registry.policies[spec.type] = PolicyEntry(spec.type, spec, card, factory, info.distribution, info.version)

    return register


def _robot_registrar(registry: Registry, info: PluginInfo):
    def register(spec: RobotSpec, backends: dict[str, str]) -> None:
        if not isinstance(spec, RobotSpec):
            raise TypeError("spec must be a policyzoo.RobotSpec")
        existing = registry.robots.get(spec.type)
        if existing is not None:
            registry.problems.append(_duplicate("robot type", spec.type, existing.distribution, info))
            return
        registry.robots[spec.type] = RobotEntry(spec.type, spec, dict(backends), info.distribution, info.version)

    return register


def _duplicate(kind: str, name: str, first: str, info: PluginInfo) -> PluginProblem:
    return PluginProblem(
        info.name, info.distribution,
        f"{kind} '{name}' is registered by both {first} and {info.distribution}; kept the one from {first}",
        f"uninstall one of them: pip uninstall {first} or pip uninstall {info.distribution}",
    )


_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, built on first use."""
    global _registry
    if _registry is None:
        _registry = build_registry(get_plugins())
    return _registry


def reset_registry() -> None:
    """Forget the built registry, e.g. after registering a plugin in-process."""
    global _registry
    _registry = None
