"""Every Python block of the plugin docs runs as written, each in a fresh interpreter (so they cannot rot)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[2] / "docs"
PAGES = ("plugins.md", "writing-a-policy-plugin.md")
BLOCK = re.compile(r"^```python\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def python_blocks() -> list:
    blocks = []
    for page in PAGES:
        text = (DOCS / page).read_text()
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            heading = re.findall(r"^#+ (.+)$", text[: match.start()], re.MULTILINE)[-1]
            blocks.append(pytest.param(match.group(1), id=f"{page}:{line} {heading}", marks=pytest.mark.slow))
    return blocks


def test_the_docs_have_python_examples_for_every_hook():
    from policyzoo import hookspecs

    hooks = {name for name in dir(hookspecs) if getattr(getattr(hookspecs, name), "policyzoo_spec", None)}
    assert len(hooks) >= 9
    code = "\n".join(block.values[0] for block in python_blocks())
    missing = [hook for hook in sorted(hooks) if not re.search(rf"def {hook}\(", code)]
    assert not missing, f"docs/plugins.md has no runnable example implementing: {missing}"


@pytest.mark.parametrize("code", python_blocks())
def test_python_block_runs(code, tmp_path):
    script = tmp_path / "example.py"
    script.write_text(code)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # tests run in parallel: one thread each
    result = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
