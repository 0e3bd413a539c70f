"""`policyzoo plugin new` end to end: the package it writes installs, is listed, passes its tests and trains.

The plugin is installed into a throwaway virtual environment that sees the shared one's packages through a
`.pth` file, so that the shared environment (and tests running beside this one) never see it.
"""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

NAME = "scaffold_probe"


def run(*args: str | Path, timeout: int = 600, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout, **kwargs)
    assert result.returncode == 0, (
        f"{args}\nstdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-4000:]}"
    )
    return result


@pytest.fixture(scope="module")
def overlay_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv's python that also imports everything installed in the shared venv."""
    venv = tmp_path_factory.mktemp("overlay") / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").stdout.strip())
    shared = sysconfig.get_path("purelib")
    (purelib / "zz_policyzoo_shared.pth").write_text(f"import site; site.addsitedir({shared!r})\n")
    return python


def uv_command() -> list[str]:
    for python in (sys.executable, "python3"):
        if subprocess.run([python, "-m", "uv", "--version"], capture_output=True).returncode == 0:
            return [python, "-m", "uv"]
    return ["uv"]


@pytest.mark.slow
def test_new_plugin_installs_lists_passes_its_tests_and_trains(overlay_python, tmp_path):
    plugin = tmp_path / "plugin"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}  # no thread oversubscription
    run(overlay_python, "-m", "policyzoo", "plugin", "new", NAME, "--dir", plugin, env=env)
    run(*uv_command(), "pip", "install", "--python", overlay_python, "--no-deps", "-e", plugin, env=env)

    listed = json.loads(run(overlay_python, "-m", "policyzoo", "policies", "list", "--json", env=env).stdout)
    [row] = [row for row in listed if row["type"] == NAME]
    assert row["installed"] and row["distribution"] == "policyzoo-scaffold-probe"
    shared = subprocess.run(
        [sys.executable, "-m", "policyzoo", "policies", "list"], capture_output=True, text=True
    )
    assert NAME not in shared.stdout, "the plugin leaked into the shared environment"

    tests = run(overlay_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", plugin, cwd=plugin, env=env)
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    output = tmp_path / "run"
    run(
        overlay_python,
        "-m",
        "policyzoo",
        "train",
        f"--policy.type={NAME}",
        "--policy.device=cpu",
        "--steps=3",
        "--batch_size=2",
        "--log_freq=1",
        "--save_freq=3",
        "--num_workers=0",
        f"--output_dir={output}",
        env=env,
    )
    pretrained = output / "checkpoints" / "last" / "pretrained_model"
    assert json.loads((pretrained / "config.json").read_text())["type"] == NAME
    meta = json.loads((pretrained / "policyzoo.json").read_text())
    assert meta["distribution"] == "policyzoo-scaffold-probe" and meta["training"]["steps"] == 3
    assert meta["dataset"]["repo_id"]
