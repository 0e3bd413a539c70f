"""A third-party plugin cannot take over a first-party type, kill a command or corrupt `--json` output."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

POLICY_PLUGIN = """
    from policyzoo import PolicyCard, PolicySpec, hookimpl
    POLICYZOO_CONTRACT = 1

    class Spec(PolicySpec):
        type = "{policy_type}"

    CARD = PolicyCard(title="Fake", summary="a fake {policy_type}", architecture="-")

    @hookimpl
    def register_policies(register):
        {before_register}
        register(Spec, CARD, factory="{module}:nothing")
    """


def policy_plugin(module: str, policy_type: str, before_register: str = "pass") -> str:
    return textwrap.dedent(POLICY_PLUGIN).format(
        module=module, policy_type=policy_type, before_register=before_register
    )


def install_fake(site: Path, distribution: str, entry_point: str, source: str) -> None:
    """A module plus a dist-info folder on PYTHONPATH: importlib.metadata finds it, nothing touches the venv."""
    module = distribution.replace("-", "_")
    (site / f"{module}.py").write_text(source)
    dist_info = site / f"{module}-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(f"[policyzoo]\n{entry_point} = {module}\n")


def site_env(tmp_path_factory: pytest.TempPathFactory, *fakes: tuple[str, str, str]) -> dict[str, str]:
    site = tmp_path_factory.mktemp("site")
    for fake in fakes:
        install_fake(site, *fake)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("POLICYZOO_PREFER", None)
    return env


@pytest.fixture(scope="module")
def same_name(tmp_path_factory) -> dict[str, str]:
    """`evil-zoo` has an entry point named `act`, as policyzoo-act does, and registers type `act`."""
    return site_env(tmp_path_factory, ("evil-zoo", "act", policy_plugin("evil_zoo", "act")))


@pytest.fixture(scope="module")
def other_name(tmp_path_factory) -> dict[str, str]:
    """`act-clone` registers type `act` from an entry point of its own name."""
    return site_env(tmp_path_factory, ("act-clone", "act_clone", policy_plugin("act_clone", "act")))


@pytest.fixture(scope="module")
def rude(tmp_path_factory) -> dict[str, str]:
    """One plugin exits at import; another prints at import and in its hook."""
    noisy = "print('noisy at import')\n" + policy_plugin("noisy_zoo", "noisy", "print('noisy in the hook')")
    return site_env(
        tmp_path_factory,
        ("exit-zoo", "exit_zoo", "import sys\nsys.exit(3)\n"),
        ("noisy-zoo", "noisy_zoo", noisy),
    )


def policyzoo(env: dict[str, str], *args: str, prefer: str | None = None) -> subprocess.CompletedProcess:
    env = env if prefer is None else {**env, "POLICYZOO_PREFER": prefer}
    return subprocess.run(
        [sys.executable, "-m", "policyzoo", *args], capture_output=True, text=True, env=env, timeout=120
    )


def listing(env: dict[str, str], prefer: str | None = None) -> dict[str, dict]:
    result = policyzoo(env, "policies", "list", "--json", prefer=prefer)
    assert result.returncode == 0, result.stderr
    return {row["type"]: row for row in json.loads(result.stdout)}


def schema_fields(env: dict[str, str], prefer: str | None = None) -> set[str]:
    result = policyzoo(env, "policies", "schema", "act", prefer=prefer)
    assert result.returncode == 0, result.stderr
    return set(json.loads(result.stdout).get("properties", {}))


def assert_clash_error(result: subprocess.CompletedProcess, other: str) -> None:
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("policyzoo: error: TYPE=act: policy type 'act' is provided by both")
    assert other in line and "policyzoo-act" in line
    assert f"pip uninstall {other}" in line and "POLICYZOO_PREFER=act=policyzoo-act" in line


@pytest.mark.slow
def test_same_entry_point_name_is_a_clash_both_are_named_in(same_name):
    assert_clash_error(policyzoo(same_name, "policies", "show", "act"), "evil-zoo")
    rows = listing(same_name)
    assert rows["act"]["status"] == "clash" and rows["act"]["distribution"] == "evil-zoo, policyzoo-act"
    assert rows["diffusion"]["status"] == "installed"  # other types keep working
    assert policyzoo(same_name, "policies", "show", "diffusion").returncode == 0

    doctor = policyzoo(same_name, "plugins", "doctor")
    assert doctor.returncode == 1
    assert "entry point 'act' is provided by both evil-zoo and policyzoo-act" in doctor.stdout
    assert "policy type 'act' is provided by both evil-zoo and policyzoo-act" in doctor.stdout
    assert (
        "fix: uninstall one (pip uninstall evil-zoo or pip uninstall policyzoo-act) or choose one with "
        "POLICYZOO_PREFER=act=evil-zoo or POLICYZOO_PREFER=act=policyzoo-act"
    ) in doctor.stdout


@pytest.mark.parametrize(
    ("prefer", "winner", "loser"),
    [("policyzoo-act", "policyzoo-act", "evil-zoo"), ("Evil_Zoo", "evil-zoo", "policyzoo-act")],
)
@pytest.mark.slow
def test_prefer_picks_either_distribution(same_name, prefer, winner, loser):
    prefer = f"act={prefer}"  # compared as pip compares names
    assert listing(same_name, prefer)["act"]["distribution"] == winner
    assert ("chunk_size" in schema_fields(same_name, prefer)) == (winner == "policyzoo-act")
    doctor = policyzoo(same_name, "plugins", "doctor", prefer=prefer)
    assert doctor.returncode == 0, doctor.stdout
    assert (
        f"note: entry point 'act' of {loser} is ignored by preference (POLICYZOO_PREFER=act={winner})"
        in doctor.stdout
    )


@pytest.mark.slow
def test_differently_named_entry_point_providing_the_same_type_is_a_clash(other_name):
    assert_clash_error(policyzoo(other_name, "policies", "show", "act"), "act-clone")
    doctor = policyzoo(other_name, "plugins", "doctor")
    assert doctor.returncode == 1
    assert "problem: act (act-clone, policyzoo-act): policy type 'act' is provided by both" in doctor.stdout

    prefer = "diffusion=policyzoo-diffusion, act=policyzoo-act"  # comma-separated, one per type
    assert "chunk_size" in schema_fields(other_name, prefer=prefer)
    doctor = policyzoo(other_name, "plugins", "doctor", prefer=prefer)
    assert doctor.returncode == 0, doctor.stdout
    assert "policy type 'act' of act-clone is ignored by preference" in doctor.stdout


@pytest.mark.slow
def test_a_preference_naming_neither_distribution_leaves_the_clash(other_name):
    result = policyzoo(other_name, "policies", "show", "act", prefer="act=policyzoo-actt")
    assert_clash_error(result, "act-clone")
    assert "POLICYZOO_PREFER picks policyzoo-actt, which does not provide it" in result.stderr
    doctor = policyzoo(other_name, "plugins", "doctor", prefer="act")
    assert "entry 'act' is not NAME=DISTRIBUTION" in doctor.stdout


@pytest.mark.slow
def test_plugin_exiting_or_printing_at_import_breaks_nothing(rude):
    rows = listing(rude)  # stdout is exactly the JSON
    assert rows["noisy"]["status"] == "installed" and rows["act"]["status"] == "installed"
    result = policyzoo(rude, "policies", "list", "--json")
    assert "noisy at import" in result.stderr and "noisy in the hook" in result.stderr
    doctor = policyzoo(rude, "plugins", "doctor")
    assert doctor.returncode == 1
    assert "exit_zoo (exit-zoo): failed to import exit_zoo: SystemExit: 3" in doctor.stdout
