"""`policyzoo eval` without --output_dir: each run gets a fresh dated folder, so a second evaluation is never
refused for the first one's results."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policyzoo_runtime.cli.eval import fresh_output_dir

pytestmark = pytest.mark.slow


def test_each_eval_writes_to_a_fresh_folder(run_cli, act_run: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    args = [
        "eval",
        f"--policy.path={act_run / 'checkpoints' / 'last' / 'pretrained_model'}",
        "--episodes=1",
        "--max_steps=2",
        "--videos=0",
        "--workers=1",
        "--policy.device=cpu",
    ]
    folders = []
    for _ in range(2):
        code, out, err = run_cli(*args)
        assert code == 0, err
        folder = re.search(r"^wrote (\S+)/eval_summary\.json$", out, re.MULTILINE).group(1)
        assert re.fullmatch(r"outputs/eval/\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d(-\d+)?", folder), folder
        assert (tmp_path / folder / "eval_summary.json").is_file()
        folders.append(folder)
    assert folders[0] != folders[1]


def test_a_taken_name_gets_a_number(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr("time.strftime", lambda _format: "2030-01-02_03-04-05")
    (tmp_path / "2030-01-02_03-04-05").mkdir()
    (tmp_path / "2030-01-02_03-04-05-2").mkdir()
    assert fresh_output_dir(tmp_path) == tmp_path / "2030-01-02_03-04-05-3"
