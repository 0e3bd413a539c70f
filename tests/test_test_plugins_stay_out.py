"""The test plugins (tinyzoo, examples/mlp_bc) are found through real entry points by the tests only: the
user's environment, `policyzoo --help` and `policies list` in .venv, never shows them."""

import json
import subprocess
import sys

import pytest

TEST_NAMES = ("tiny-check", "tiny-hello", "tinybot", "tiny", "mlp_bc")


def policyzoo(*args: str, env: dict[str, str], cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policyzoo", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.slow
def test_test_plugins_stay_out_of_the_venv(plain_env, tmp_path):
    from importlib.metadata import PackageNotFoundError, distribution

    for name in ("tinyzoo", "policyzoo-mlp-bc"):
        try:
            found = distribution(name)
        except PackageNotFoundError:
            continue
        assert "policyzoo-tests-plugins-" in str(found.locate_file("")), (
            f"{name} is installed into the environment; remove it: uv pip uninstall {name}"
        )
    helped = policyzoo("--help", env=plain_env, cwd=tmp_path)
    assert helped.returncode == 0, helped.stderr
    commands = {
        line.split()[0] for line in helped.stdout.splitlines() if line.startswith("  ") and line.split()
    }
    assert not commands & set(TEST_NAMES) and "tiny" not in helped.stdout
    listed = policyzoo("policies", "list", "--json", env=plain_env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    types = {row["type"] for row in json.loads(listed.stdout)}
    assert not types & set(TEST_NAMES), types
    robots = policyzoo("robots", "list", env=plain_env, cwd=tmp_path)
    assert "tinybot" not in robots.stdout


@pytest.mark.slow
def test_the_tests_and_their_subprocesses_see_the_test_plugins(tmp_path):
    import os

    from policyzoo.registry import get_registry

    assert {"tiny", "mlp_bc"} <= set(get_registry().policies)
    listed = policyzoo("policies", "list", "--json", env=dict(os.environ), cwd=tmp_path)
    rows = {row["type"]: row for row in json.loads(listed.stdout)}
    assert rows["tiny"]["distribution"] == "tinyzoo" and rows["mlp_bc"]["distribution"] == "policyzoo-mlp-bc"
    assert policyzoo("tiny-hello", env=dict(os.environ), cwd=tmp_path).stdout.strip() == "hello from tinyzoo"
