"""The packages and their layers point one way (docs/architecture.md): read from the source with `ast`, so an
import inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "core" / "src" / "policyzoo"
RUNTIME = ROOT / "runtime" / "src" / "policyzoo_runtime"
BENCH = ROOT / "benchmarks" / "src" / "policyzoo_bench"
DOCS = ROOT / "docs" / "architecture.md"
PLUGIN_SOURCES = [*ROOT.glob("plugins/*/src"), *ROOT.glob("hardware/*/src"), *ROOT.glob("examples/*/src")]

LEROBOT_OUTSIDE_ADAPTER = {"runtime/hub/verify.py", "runtime/testing.py", "runtime/processor_files.py"}
"""Modules outside `policyzoo_runtime/lerobot/` that import LeRobot on purpose; docs/architecture.md says why."""


def imported_modules(path: Path, package: str) -> set[str]:
    """Every module `path` (of `package`) imports at run time, at any depth, and every `module.name` it imports
    from one (imports under `if TYPE_CHECKING:`, for type hints only, do not count)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def sources(top: Path, *where: str) -> dict[Path, str]:
    """The modules under `top` (all, or those in `where`), each with the package it belongs to."""
    targets = [top / name for name in where] if where else [top]
    paths = [
        path for target in targets for path in (sorted(target.rglob("*.py")) if target.is_dir() else [target])
    ]
    return {path: ".".join((top.name, *path.relative_to(top).parent.parts)) for path in paths}


def offenders(modules: dict[Path, str], forbidden: str) -> dict[str, list[str]]:
    found = {}
    for path, package in modules.items():
        bad = sorted(
            m for m in imported_modules(path, package) if m == forbidden or m.startswith(forbidden + ".")
        )
        if bad:
            found[str(path.relative_to(ROOT))] = bad
    return found


def test_the_helper_sees_imports_inside_functions() -> None:
    assert "policyzoo.cli.base" in imported_modules(CONTRACT / "cli" / "plugins.py", "policyzoo.cli")
    train = RUNTIME / "cli" / "train.py"
    assert "policyzoo_runtime.hub.push" in imported_modules(train, "policyzoo_runtime.cli")  # in a function


@pytest.mark.parametrize("forbidden", ["policyzoo_runtime", "policyzoo_bench", "torch", "numpy", "lerobot"])
def test_the_contract_imports_no_runtime_and_no_torch(forbidden: str) -> None:
    assert offenders(sources(CONTRACT), forbidden) == {}


def test_the_runtime_never_imports_the_benchmarks() -> None:
    assert offenders(sources(RUNTIME), "policyzoo_bench") == {}


@pytest.mark.parametrize(
    ("where", "forbidden"),
    [
        (("train",), "policyzoo_runtime.hub"),
        (("train",), "policyzoo_runtime.cli"),
        (("lerobot",), "policyzoo_runtime.cli"),
        (("lerobot",), "policyzoo_runtime.train"),
        (("hub",), "policyzoo_runtime.cli"),
        (("testing.py",), "policyzoo_runtime.cli"),
    ],
)
def test_the_runtime_layers_point_one_way(where: tuple[str, ...], forbidden: str) -> None:
    assert offenders(sources(RUNTIME, *where), forbidden) == {}


def test_nothing_below_a_cli_reaches_up_into_it() -> None:
    for top, cli in ((CONTRACT, "policyzoo.cli"), (RUNTIME, "policyzoo_runtime.cli")):
        below = {
            path: package
            for path, package in sources(top).items()
            if path.relative_to(top).parts[0] not in ("cli", "__main__.py", "commands.py")
        }
        assert offenders(below, cli) == {}


def private_imports(path: Path, package: str) -> list[str]:
    """What `path` imports from policyzoo or policyzoo_runtime that is private: a `_module` or a `_name`."""
    ours = re.compile(r"^policyzoo(_runtime)?(\.|$)")
    return sorted(
        module
        for module in imported_modules(path, package)
        if ours.match(module)
        and any(part.startswith("_") and not part.startswith("__") for part in module.split(".")[1:])
    )


def test_plugins_hardware_and_examples_use_only_public_names() -> None:
    found = {}
    for src in PLUGIN_SOURCES:
        for path, package in sources(next(src.iterdir())).items():
            if bad := private_imports(path, package):
                found[str(path.relative_to(ROOT))] = bad
    assert found == {}, "plugins import only public modules and names of policyzoo and policyzoo_runtime"


def test_the_private_check_sees_a_private_import(tmp_path: Path) -> None:
    module = tmp_path / "plugin.py"
    module.write_text(
        "from policyzoo._clashes import Clash\nfrom policyzoo.spec import _private\n"
        "import policyzoo_runtime._x\nfrom policyzoo import __version__\n"
    )
    assert private_imports(module, "plugin") == [
        "policyzoo._clashes",
        "policyzoo._clashes.Clash",
        "policyzoo.spec._private",
        "policyzoo_runtime._x",
    ]


def test_lerobot_is_imported_by_the_adapter_or_where_the_docs_say_why() -> None:
    outside = set()
    for label, top in (("contract", CONTRACT), ("runtime", RUNTIME), ("bench", BENCH)):
        for path, package in sources(top).items():
            relative = path.relative_to(top)
            if not (top is RUNTIME and relative.parts[0] == "lerobot") and offenders(
                {path: package}, "lerobot"
            ):
                outside.add(f"{label}/{relative}")
    assert outside <= LEROBOT_OUTSIDE_ADAPTER, (
        f"import LeRobot in policyzoo_runtime/lerobot/, or document why "
        f"not: {sorted(outside - LEROBOT_OUTSIDE_ADAPTER)}"
    )
    notes = DOCS.read_text()
    for name in LEROBOT_OUTSIDE_ADAPTER:
        assert "policyzoo_runtime/" + name.removeprefix("runtime/") in notes


def test_the_architecture_page_names_every_module_there_is() -> None:
    """docs/architecture.md cannot drift: it names each package's modules and folders, and no others."""
    notes = DOCS.read_text()
    for top in (CONTRACT, RUNTIME, BENCH):
        entries = {
            path.name + ("/" if path.is_dir() else "")
            for path in top.iterdir()
            if path.name != "__pycache__" and (path.is_dir() or path.suffix == ".py")
        }
        entries -= {"__init__.py", "__main__.py"}
        named = set(re.findall(rf"`{top.name}/([\w.]+/?)`", notes))
        assert named == entries, (
            f"docs/architecture.md, {top.name}: add {sorted(entries - named)}, drop {sorted(named - entries)}"
        )


def test_the_contract_installs_without_torch_and_stays_small() -> None:
    """`pip install ./core` brings click, pluggy and pydantic only, and the contract stays under 3000 lines."""
    project = tomllib.loads((ROOT / "core" / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0] for requirement in project["dependencies"]}
    assert names == {"click", "pluggy", "pydantic"}
    assert "optional-dependencies" not in project
    lines = sum(len(path.read_text().splitlines()) for path in CONTRACT.rglob("*.py"))
    assert lines < 3000, (
        f"the contract has {lines} lines: move what only the runtime needs to policyzoo_runtime"
    )
