"""Optional plugin features are declared (`policyzoo.capabilities`): used where declared, never where not, refused
in one line where a declaration is not backed by its method, and caught where a method takes an argument that
nobody declared (a misspelt declaration)."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from pydantic import Field

from policyzoo import PolicySpec, hookimpl, load_policy
from policyzoo.capabilities import (
    CONFIGURABLE_OPTIMIZER,
    FINE_TUNABLE,
    ChunkingSpec,
    EnsemblingSpec,
    lerobot_loadable,
)
from policyzoo.card import PolicyCard
from policyzoo.errors import BadInput
from policyzoo.handle import FineTune, PolicyFactory

CARD = PolicyCard(title="Probe", summary="a probe", architecture="-")
MODULE = "capability_probes"


class Plain(PolicyFactory):
    """A factory that declares nothing: its `load` records the keyword arguments it was given."""

    lerobot_loadable = False

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def load(self, directory: Path, device: str | None = None) -> str:
        self.calls.append({})
        return "loaded"


class Declared(Plain):
    fine_tunable = True

    def load(self, directory: Path, device: str | None = None, finetune: FineTune | None = None) -> str:
        self.calls.append({"finetune": finetune})
        return "loaded"


class MisspeltArgument(Plain):
    fine_tunable = True

    def load(self, directory: Path, device: str | None = None, fine_tune: FineTune | None = None) -> str:
        return "loaded"


class MisspeltDeclaration(Plain):
    fine_tuneable = True  # not the declaration's name: the feature stays off

    def load(self, directory: Path, device: str | None = None, finetune: FineTune | None = None) -> str:
        return "loaded"


FACTORIES = {"plain": Plain, "declared": Declared, "misspelt_argument": MisspeltArgument}


@pytest.fixture
def factories(register_plugin: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, PolicyFactory]:
    """One registered probe type per factory (`probe_NAME`), its factory importable as capability_probes:NAME."""
    module = types.ModuleType(MODULE)
    for name, factory_class in FACTORIES.items():
        setattr(module, name, factory_class())
    monkeypatch.setitem(sys.modules, MODULE, module)

    class Plugin:
        POLICYZOO_CONTRACT = 1

        @hookimpl
        def register_policies(self, register: Any) -> None:
            for name in FACTORIES:
                spec = type(f"Probe{name}", (PolicySpec,), {"type": f"probe_{name}", "__module__": __name__})
                register(spec, CARD, factory=f"{MODULE}:{name}")

    assert register_plugin(Plugin(), "probes", "probe-dist")
    return {name: getattr(module, name) for name in FACTORIES}


def saved_folder(tmp_path: Path, policy_type: str) -> Path:
    """A folder `load_policy` hands to the factory: config.json and an empty (valid) model.safetensors."""
    folder = tmp_path / policy_type
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"type": policy_type}))
    (folder / "model.safetensors").write_bytes((2).to_bytes(8, "little") + b"{}")
    return folder


ADAPT = FineTune(rename_map={"observation.images.top": "observation.images.front"})


def test_a_factory_declaring_fine_tunable_gets_the_finetune(
    factories: dict[str, Any], tmp_path: Path
) -> None:
    assert load_policy(saved_folder(tmp_path, "probe_declared"), finetune=ADAPT) == "loaded"
    assert factories["declared"].calls == [{"finetune": ADAPT}]


def test_a_plain_factory_never_gets_one(factories: dict[str, Any], tmp_path: Path) -> None:
    folder = saved_folder(tmp_path, "probe_plain")
    load_policy(folder, finetune=FineTune())  # keeping the checkpoint's statistics needs no plugin
    assert factories["plain"].calls == [{}]
    with pytest.raises(
        BadInput,
        match=r"the probe_plain plugin \(probe-dist\) cannot adapt a saved policy .*"
        r"its factory is not fine_tunable",
    ):
        load_policy(folder, finetune=ADAPT)


def test_a_declaration_its_method_does_not_back_is_refused_in_one_line(
    factories: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(BadInput) as refused:
        load_policy(saved_folder(tmp_path, "probe_misspelt_argument"), finetune=ADAPT)
    assert str(refused.value) == (
        f"{__name__}.MisspeltArgument declares fine_tunable = True, but its load takes "
        f"no `finetune` argument; report it to the plugin's maintainers"
    )


def test_a_misspelt_declaration_is_what_the_test_kit_refuses() -> None:
    assert FINE_TUNABLE.undeclared_problem(MisspeltDeclaration()) == (
        f"{__name__}.MisspeltDeclaration.load takes `finetune`, but {__name__}.MisspeltDeclaration does not "
        f"declare fine_tunable = True, so policyzoo never passes it"
    )
    assert FINE_TUNABLE.undeclared_problem(Declared()) is None
    assert FINE_TUNABLE.undeclared_problem(Plain()) is None
    assert FINE_TUNABLE.undeclared_problem(object()) is None  # no load at all: nothing to declare


def test_a_declaration_is_a_bool_and_defaults_to_the_protocols() -> None:
    class Vague(Declared):
        fine_tunable = "yes"  # type: ignore[assignment]

    with pytest.raises(BadInput, match=r"\.Vague\.fine_tunable is 'yes'; a plugin declares it True or False"):
        FINE_TUNABLE.declared_by(Vague())
    assert (FINE_TUNABLE.declared_by(object()), lerobot_loadable(object())) == (False, True)
    assert lerobot_loadable(Plain()) is False


def test_a_handle_declaring_a_configurable_optimizer_must_take_optimizer() -> None:
    class Handle:
        configurable_optimizer = True

        def optimizer_and_scheduler(self, lr: float | None, steps: int, **options: Any) -> tuple[Any, Any]:
            return None, None

    assert CONFIGURABLE_OPTIMIZER.declared_by(Handle())  # **options takes it
    Handle.optimizer_and_scheduler = lambda self, lr, steps: (None, None)  # type: ignore[method-assign]
    with pytest.raises(
        BadInput,
        match=r"declares configurable_optimizer = True, but its optimizer_and_scheduler "
        r"takes no `optimizer` argument",
    ):
        CONFIGURABLE_OPTIMIZER.declared_by(Handle())


class Chunked(PolicySpec):
    type = "chunked_probe"
    n_action_steps: int = Field(5, ge=1)
    temporal_ensemble_coeff: float | None = None


class Tokens(PolicySpec):
    type = "tokens_probe"
    action_chunk_size: int = 3

    @property
    def n_action_steps(self) -> int:
        return self.action_chunk_size


class Single(PolicySpec):
    type = "single_probe"
    n_action_step: int = 5  # misspelt: not a chunking spec


def test_spec_features_are_protocols() -> None:
    assert isinstance(Chunked(), ChunkingSpec) and isinstance(Chunked(), EnsemblingSpec)
    assert isinstance(Tokens(), ChunkingSpec) and not isinstance(Tokens(), EnsemblingSpec)
    assert not isinstance(Single(), ChunkingSpec)


def test_deploy_executes_what_a_chunking_spec_allows() -> None:
    from policyzoo_runtime.deploy.session import check_action_steps

    check_action_steps(Tokens(), 3)
    with pytest.raises(BadInput, match=r"--n_action_steps=4: tokens_probe predicts 3 actions per chunk"):
        check_action_steps(Tokens(), 4)
    check_action_steps(Single(), 40)  # no chunks: nothing to check against


def test_train_passes_optimizer_flags_only_to_a_handle_that_declares_it() -> None:
    from policyzoo_runtime.train.config import TrainConfig
    from policyzoo_runtime.train.loop import optimizer_of

    class Fixed:
        spec = Chunked()

        def optimizer_and_scheduler(
            self, lr: float | None, steps: int, optimizer: dict[str, str] | None = None
        ) -> tuple[Any, Any]:
            return optimizer, None

    class Configurable(Fixed):
        configurable_optimizer = True

    config = TrainConfig(steps=10, optimizer={"weight_decay": "0"})
    assert optimizer_of(Configurable(), config) == ({"weight_decay": "0"}, None)
    with pytest.raises(
        BadInput,
        match=r"^--optimizer.weight_decay: the chunked_probe plugin's optimizer takes "
        r"--optimizer.lr only$",
    ):
        optimizer_of(Fixed(), config)
