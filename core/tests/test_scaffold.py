"""`policyzoo plugin new`: names, folders, what it writes, and examples/mlp_bc staying what it writes."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from policyzoo import CONTRACT_VERSION
from policyzoo.errors import BadInput
from policyzoo_runtime.scaffold import check_name, create, render

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mlp_bc"


def test_examples_mlp_bc_is_exactly_what_plugin_new_writes():
    rendered = render("mlp_bc")
    assert {str(path) for path in rendered} == {
        "pyproject.toml",
        "README.md",
        "src/policyzoo_mlp_bc/__init__.py",
        "src/policyzoo_mlp_bc/spec.py",
        "src/policyzoo_mlp_bc/policy.py",
        "tests/test_mlp_bc.py",
    }
    stale = [str(path) for path, content in rendered.items() if (EXAMPLE / path).read_text() != content]
    assert not stale, (
        f"examples/mlp_bc differs from the templates in {stale}; regenerate it with: "
        f"rm -r examples/mlp_bc && policyzoo plugin new mlp_bc --dir examples/mlp_bc"
    )


def test_written_package_declares_entry_point_contract_and_valid_python(tmp_path):
    written = create("grasp_net", tmp_path / "plugin")
    root = tmp_path / "plugin"
    assert root / "src/policyzoo_grasp_net/policy.py" in written
    pyproject = (root / "pyproject.toml").read_text()
    assert 'name = "policyzoo-grasp-net"' in pyproject
    assert '[project.entry-points.policyzoo]\ngrasp_net = "policyzoo_grasp_net"\n' in pyproject
    assert 'dependencies = ["policyzoo-runtime>=' in pyproject
    entry = ast.parse((root / "src/policyzoo_grasp_net/__init__.py").read_text())
    contract = [
        node.value.value
        for node in entry.body
        if isinstance(node, ast.Assign)
        and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["POLICYZOO_CONTRACT"]
    ]
    assert contract == [CONTRACT_VERSION]
    for path in written:
        if path.suffix == ".py":
            compile(path.read_text(), str(path), "exec")
    spec_source = (root / "src/policyzoo_grasp_net/spec.py").read_text()
    assert 'type = "grasp_net"' in spec_source and "class GraspNetSpec(PolicySpec)" in spec_source
    assert "class TestGraspNet(PolicyContract)" in (root / "tests/test_grasp_net.py").read_text()


def test_entry_module_imports_no_torch():
    entry = render("mlp_bc")[Path("src/policyzoo_mlp_bc/__init__.py")]
    spec = render("mlp_bc")[Path("src/policyzoo_mlp_bc/spec.py")]
    assert "torch" not in entry.replace("no torch", "") and "import torch" not in spec


@pytest.mark.parametrize(
    "name, hint",
    [
        ("My-Policy", "e.g. my_policy"),
        ("2fast", "starting with a letter"),
        ("with space", "e.g. with_space"),
        ("double__underscore", "single underscores"),
        ("trailing_", "e.g. trailing"),
        ("class", "e.g. my_policy"),
        ("a" * 41, "at most 40 characters"),
        ("", "lowercase letters"),
    ],
)
def test_bad_names_are_refused_with_a_fix(name, hint):
    with pytest.raises(BadInput, match=f"NAME={name}: .*{hint}"):
        check_name(name)


def test_taken_name_is_refused():
    with pytest.raises(BadInput, match="policy type 'act' already exists \\(policyzoo-act\\); pick another"):
        check_name("act", {"act": "policyzoo-act"})


def test_cli_refuses_a_non_empty_folder_and_a_bad_name(tmp_path, run_cli):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "notes.txt").write_text("mine")
    code, out, err = run_cli("plugin", "new", "fresh_policy", "--dir", str(tmp_path / "taken"))
    assert code == 2 and "already exists and is not empty; pick a new folder" in err
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["notes.txt"]
    code, out, err = run_cli("plugin", "new", "Fresh-Policy", "--dir", str(tmp_path / "new"))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err and "e.g. fresh_policy" in err
    assert not (tmp_path / "new").exists()
    code, _, err = run_cli("plugin", "new", "act", "--dir", str(tmp_path / "act"))
    assert code == 2 and "'act' already exists" in err


def test_cli_writes_into_an_empty_folder(tmp_path, run_cli):
    (tmp_path / "empty").mkdir()
    code, out, _ = run_cli("plugin", "new", "fresh_policy", "--dir", str(tmp_path / "empty"))
    assert code == 0 and "wrote 6 files of policyzoo-fresh-policy" in out
    assert "pip install -e" in out and "policyzoo train --policy.type=fresh_policy" in out
    assert (tmp_path / "empty" / "src" / "policyzoo_fresh_policy" / "policy.py").is_file()


def test_plugin_new_imports_neither_torch_nor_lerobot(tmp_path):
    code = (
        "import sys\nfrom policyzoo.cli import main\ntry:\n    main(['plugin', 'new', 'light_probe', '--dir', "
        f"{str(tmp_path / 'p')!r}])\nexcept SystemExit as exit_:\n    assert exit_.code == 0\n"
        "print(sorted(name for name in ('torch', 'lerobot') if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def source_lines(text: str) -> int:
    """Lines of Python code: no blank lines, comments or docstrings."""
    tree = ast.parse(text)
    docstrings = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    ]
    strings = {
        line for node in docstrings for line in range(node.lineno, (node.end_lineno or node.lineno) + 1)
    }
    return sum(
        1
        for number, line in enumerate(text.splitlines(), 1)
        if line.strip() and not line.strip().startswith("#") and number not in strings
    )


def test_a_new_plugin_is_about_the_model_itself():
    """The scaffold's plugin (spec, card with its optional guide and bench data, model, entry module) stays
    at most 120 lines of code: `TorchPolicy` holds the rest."""
    rendered = render("mlp_bc")
    code = {path: source_lines(text) for path, text in rendered.items() if path.parts[0] == "src"}
    assert sum(code.values()) <= 120, code
    assert source_lines('"""doc"""\n\nx = 1  # one\n# two\ny = """a\nb"""\n') == 3  # x and y's two lines
