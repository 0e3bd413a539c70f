"""Installing only what you need: fresh virtual envs with the core alone, and the core, runtime and ACT."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIRST_PARTY = {"act", "diffusion", "tdmpc", "vqbet", "smolvla"}


def uv(*args: str) -> None:
    from uv import find_uv_bin

    subprocess.run([find_uv_bin(), *args], check=True, capture_output=True, timeout=900)


def fresh_venv(folder: Path, *packages: Path, python: str = sys.executable) -> Path:
    uv("venv", "--quiet", "--python", python, str(folder))
    python = folder / "bin" / "python"
    uv("pip", "install", "--quiet", "--python", str(python), *(str(p) for p in packages))
    return python


def importable(python: Path, module: str) -> bool:
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def listing(python: Path, env: dict[str, str]) -> dict[str, dict]:
    result = subprocess.run(
        [python.parent / "policyzoo", "policies", "list", "--json"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return {row["type"]: row for row in json.loads(result.stdout)}


@pytest.mark.slow
@pytest.mark.parametrize("interpreter", [sys.executable, "3.11"], ids=["workspace-python", "python3.11"])
def test_core_alone_installs_no_torch_and_lists_everything_as_installable(tmp_path, plain_env, interpreter):
    """The contract on the workspace's Python and on an older one it supports (uv finds or fetches 3.11)."""
    python = fresh_venv(tmp_path / "venv", ROOT / "core", python=interpreter)
    version = subprocess.run(
        [python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True
    )
    assert version.stdout.strip() == ("(3, 11)" if interpreter == "3.11" else str(sys.version_info[:2]))
    assert importable(python, "policyzoo") and importable(python, "pydantic")
    assert not importable(python, "torch") and not importable(python, "lerobot")
    assert not importable(python, "policyzoo_runtime")
    help_run = subprocess.run(
        [python.parent / "policyzoo", "--help"], capture_output=True, text=True, env=plain_env
    )
    assert help_run.returncode == 0
    commands = {
        line.split()[0] for line in help_run.stdout.split("Commands:")[1].splitlines() if line.strip()
    }
    assert commands == {"plugins", "policies", "robots"}  # train, eval, plugin new, ... come with the runtime
    rows = listing(python, plain_env)
    assert set(rows) == FIRST_PARTY
    assert all(not row["installed"] and row["distribution"] == f"policyzoo-{t}" for t, row in rows.items())


@pytest.mark.slow
def test_core_and_act_alone_bring_no_transformers(tmp_path, plain_env):
    python = fresh_venv(tmp_path / "venv", ROOT / "core", ROOT / "runtime", ROOT / "plugins" / "act")
    assert importable(python, "torch") and importable(python, "policyzoo_act")
    assert not importable(python, "transformers")
    rows = listing(python, plain_env)
    assert rows["act"]["installed"] is True and rows["act"]["distribution"] == "policyzoo-act"
    for policy_type in FIRST_PARTY - {"act"}:
        assert rows[policy_type] == {
            **rows[policy_type],
            "installed": False,
            "distribution": f"policyzoo-{policy_type}",
        }
