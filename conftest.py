"""Test set-up shared by every package: offline Hugging Face, temp homes, in-process plugins."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ["WANDB_MODE"] = "offline"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for _token_variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
    os.environ.pop(_token_variable, None)


@pytest.fixture(autouse=True)
def _isolated_homes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point HF_HOME (cache and token), LeRobot's home and W&B at a temp folder for every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_LEROBOT_HOME", str(home / "lerobot"))
    monkeypatch.setenv("WANDB_DIR", str(home / "wandb"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture
def register_plugin() -> Iterator[Callable[..., bool]]:
    """Register plugin objects in-process for one test; everything is undone afterwards."""
    from policyzoo.plugins import get_plugins
    from policyzoo.registry import reset_registry

    plugins = get_plugins()
    problems_before = list(plugins.problems)
    added: list[str] = []

    def register(plugin: object, name: str, distribution: str = "(in-process)") -> bool:
        added.append(name)
        loaded = plugins.add(plugin, name, distribution, "0.0.0")
        reset_registry()
        return loaded

    yield register
    for name in added:
        if name in plugins.info:
            plugins.remove(name)
    plugins.problems[:] = problems_before
    reset_registry()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run `policyzoo ARGS` in-process: (exit code, stdout, stderr)."""
    from policyzoo.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def python_bin() -> Path:
    return Path(sys.executable)
