"""Entry-point discovery in a real subprocess: broken plugins on sys.path, start-up stays light."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BROKEN = {
    "brokenimport": "import policyzoo_module_that_does_not_exist\n",
    "raisinghook": """
        from policyzoo import hookimpl
        POLICYZOO_CONTRACT = 1

        @hookimpl
        def register_policies(register):
            raise RuntimeError("the plugin author's bug")
        """,
    "duplicatetiny": """
        from policyzoo import hookimpl
        from tinyzoo import TINY_CARD, TinySpec
        POLICYZOO_CONTRACT = 1

        @hookimpl
        def register_policies(register):
            register(TinySpec, TINY_CARD, factory="duplicatetiny:nothing")
        """,
    "misspelthook": """
        from policyzoo import hookimpl
        POLICYZOO_CONTRACT = 1

        @hookimpl
        def register_robot(register):
            pass
        """,
}


def install_fake_distribution(site: Path, name: str, source: str) -> None:
    """A module plus a dist-info folder: importlib.metadata finds its entry point on sys.path."""
    (site / f"{name}.py").write_text(textwrap.dedent(source))
    dist_info = site / f"{name}-0.1.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (dist_info / "entry_points.txt").write_text(f"[policyzoo]\n{name} = {name}\n")


@pytest.fixture(scope="module")
def broken_site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("site")
    for name, source in BROKEN.items():
        install_fake_distribution(site, name, source)
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")])),
    }


def policyzoo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "policyzoo", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_doctor_names_each_broken_plugin_and_its_fix(broken_site):
    result = policyzoo("plugins", "doctor", env=broken_site)
    out = result.stdout
    assert result.returncode == 1
    assert "Traceback" not in out + result.stderr
    assert "brokenimport (brokenimport): failed to import brokenimport: ModuleNotFoundError" in out
    assert "fix: reinstall it (pip install --force-reinstall brokenimport) or uninstall it" in out
    assert (
        "raisinghook (raisinghook): hook register_policies raised RuntimeError: the plugin author's bug"
        in out
    )
    assert (
        "tiny (duplicatetiny, tinyzoo): policy type 'tiny' is provided by both duplicatetiny and tinyzoo"
        in out
    )
    assert (
        "fix: uninstall one (pip uninstall duplicatetiny or pip uninstall tinyzoo) or choose one with "
        "POLICYZOO_PREFER=tiny=duplicatetiny or POLICYZOO_PREFER=tiny=tinyzoo"
    ) in out
    assert "misspelthook (misspelthook)" in out and "rename 'register_robot' to 'register_robots'" in out


@pytest.mark.slow
def test_cli_keeps_working_next_to_broken_plugins(broken_site):
    listing = policyzoo("policies", "list", env=broken_site)
    assert listing.returncode == 0
    assert any(line.startswith("tiny ") and "clash" in line for line in listing.stdout.splitlines())
    assert "4 plugin problem(s): run `policyzoo plugins doctor`" in listing.stderr
    assert policyzoo("tiny-hello", env=broken_site).stdout.strip() == "hello from tinyzoo"
    assert policyzoo("--help", env=broken_site).returncode == 0


def test_listing_commands_import_no_model_code():
    probe = textwrap.dedent("""
        import sys
        from policyzoo.cli import main
        for argv in (["--help"], ["policies", "list"], ["plugins", "list"], ["robots", "list"],
                     ["policies", "show", "tiny"]):
            try:
                main(argv)
            except SystemExit as exit_:
                assert exit_.code in (0, None), (argv, exit_.code)
        heavy = [m for m in ("torch", "lerobot", "transformers", "numpy", "tinyzoo.model") if m in sys.modules]
        print("HEAVY:" + ",".join(heavy))
        """)
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "HEAVY:"
