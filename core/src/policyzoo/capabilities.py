"""Optional features of a plugin, declared rather than guessed from a method's signature or an attribute.

A spec has a feature when it satisfies one of the protocols here (`isinstance`). A factory or a handle
declares one with a boolean class attribute (`fine_tunable = True`) that promises one more keyword argument of
one of its methods; policyzoo passes that argument only where it is declared, and refuses in one line a
declaration the method does not back. The plugin test kit (`policyzoo_runtime.testing`) also refuses the
argument undeclared, so that a misspelt declaration cannot turn a feature off unnoticed.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from policyzoo.errors import BadInput
from policyzoo.handle import PolicyFactory, TrainingExtras


@runtime_checkable
class ChunkingSpec(Protocol):
    """The settings of a policy that predicts a chunk of actions and executes the first `n_action_steps` of it
    before predicting again (ACT, Diffusion, VQ-BeT, SmolVLA, ...)."""

    @property
    def n_action_steps(self) -> int: ...


@runtime_checkable
class EnsemblingSpec(Protocol):
    """The settings of a policy that can blend the overlapping chunks of every tick instead (ACT's temporal
    ensembling): `deploy` takes its coefficient from here unless told otherwise (None: off)."""

    @property
    def temporal_ensemble_coeff(self) -> float | None: ...


@dataclass(frozen=True)
class Declaration:
    """An optional feature that a factory or handle declares by setting the class attribute `flag` to True:
    its `method` then takes the keyword argument `argument`. The default is the attribute of `protocol`."""

    protocol: type
    flag: str
    method: str
    argument: str

    def declared_by(self, owner: object) -> bool:
        """True when `owner` declares the feature; a BadInput when its declaration is not a bool, or when its
        `method` does not take `argument`."""
        declared = _flag(owner, self.flag, getattr(self.protocol, self.flag))
        if declared and not self.backed_by(owner):
            raise BadInput(
                f"{_named(owner)} declares {self.flag} = True, but its {self.method} takes no "
                f"`{self.argument}` argument; report it to the plugin's maintainers"
            )
        return declared

    def backed_by(self, owner: object) -> bool:
        """True when `owner`'s `method` takes `argument` (by name, or as one of its `**kwargs`)."""
        method = getattr(owner, self.method, None)
        if not callable(method):
            return False
        parameters = inspect.signature(method).parameters.values()
        return any(
            p.kind is p.VAR_KEYWORD or (p.name == self.argument and p.kind is not p.POSITIONAL_ONLY)
            for p in parameters
        )

    def undeclared_problem(self, owner: object) -> str | None:
        """What is wrong when `owner`'s `method` takes `argument` by name but `owner` does not declare the
        feature, which policyzoo then never uses; None when nothing is."""
        method = getattr(owner, self.method, None)
        named = callable(method) and self.argument in inspect.signature(method).parameters
        if named and not self.declared_by(owner):
            return (
                f"{_named(owner)}.{self.method} takes `{self.argument}`, but {_named(owner)} does not "
                f"declare {self.flag} = True, so policyzoo never passes it"
            )
        return None


FINE_TUNABLE = Declaration(PolicyFactory, "fine_tunable", "load", "finetune")
"""A factory whose `load` also takes `finetune: FineTune | None` (`policyzoo train --policy.path`)."""
CONFIGURABLE_OPTIMIZER = Declaration(
    TrainingExtras, "configurable_optimizer", "optimizer_and_scheduler", "optimizer"
)
"""A handle whose `optimizer_and_scheduler` also takes `optimizer` (the `--optimizer.X` flags as strings)."""
FACTORY_DECLARATIONS = (FINE_TUNABLE,)
HANDLE_DECLARATIONS = (CONFIGURABLE_OPTIMIZER,)


def lerobot_loadable(factory: object) -> bool:
    """The factory's `PolicyFactory.lerobot_loadable` (the protocol's default where it does not say)."""
    return _flag(factory, "lerobot_loadable", PolicyFactory.lerobot_loadable)


def _flag(owner: object, name: str, default: bool) -> bool:
    value = getattr(owner, name, default)
    if not isinstance(value, bool):
        raise BadInput(f"{_named(owner)}.{name} is {value!r}; a plugin declares it True or False")
    return value


def _named(owner: object) -> str:
    kind = owner if isinstance(owner, type) else type(owner)
    return f"{kind.__module__}.{kind.__qualname__}"
