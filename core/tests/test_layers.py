"""The core's layers point one way (docs/architecture.md): read from the source with `ast`, so an import
inside a function counts as much as one at the top."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import policyzoo

PACKAGE = Path(policyzoo.__file__).parent
DOCS = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"

LEROBOT_OUTSIDE_ADAPTER = {"hub/verify.py", "processor_guard.py", "testing.py"}
"""Modules outside `policyzoo/lerobot/` that import LeRobot on purpose; docs/architecture.md says why."""


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports, at any depth, relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(("policyzoo", *path.relative_to(PACKAGE).with_suffix("").parts[:-1]))
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


def modules(*where: str) -> list[Path]:
    paths: list[Path] = []
    for name in where:
        target = PACKAGE / name
        paths += sorted(target.rglob("*.py")) if target.is_dir() else [target]
    return paths


def offenders(paths: list[Path], forbidden: str) -> dict[str, list[str]]:
    found = {}
    for path in paths:
        bad = sorted(m for m in imported_modules(path) if m == forbidden or m.startswith(forbidden + "."))
        if bad:
            found[str(path.relative_to(PACKAGE))] = bad
    return found


def test_the_helper_sees_imports_inside_functions() -> None:
    assert "policyzoo.cli.base" in imported_modules(PACKAGE / "cli" / "plugins.py")
    assert "policyzoo.hub.push" in imported_modules(PACKAGE / "cli" / "train.py")  # a function-level import


@pytest.mark.parametrize(("where", "forbidden"), [
    (("bench", "testing.py"), "policyzoo.cli"),
    (("train",), "policyzoo.hub"),
    (("train",), "policyzoo.cli"),
    (("lerobot",), "policyzoo.cli"),
    (("lerobot",), "policyzoo.train"),
    (("hub",), "policyzoo.cli"),
])
def test_layers_point_one_way(where: tuple[str, ...], forbidden: str) -> None:
    assert offenders(modules(*where), forbidden) == {}


def test_lerobot_is_imported_by_the_adapter_or_where_the_docs_say_why() -> None:
    outside = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "lerobot" and offenders([path], "lerobot")
    }
    assert outside <= LEROBOT_OUTSIDE_ADAPTER, f"import LeRobot in policyzoo/lerobot/, or document why not: " \
                                               f"{sorted(outside - LEROBOT_OUTSIDE_ADAPTER)}"
    notes = DOCS.read_text()
    assert all(f"policyzoo/{name}" in notes for name in LEROBOT_OUTSIDE_ADAPTER)


def test_the_core_modules_never_reach_up_into_the_cli() -> None:
    below_the_cli = [path for path in PACKAGE.rglob("*.py")
                     if path.relative_to(PACKAGE).parts[0] not in ("cli", "__main__.py")]
    assert offenders(below_the_cli, "policyzoo.cli") == {}
