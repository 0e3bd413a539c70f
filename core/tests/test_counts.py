"""The counts a user types are bounded: a number past the bound is one line before any work, never a list that
size (`policyzoo_runtime.counts`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyzoo_runtime.counts import cpu_cores


@pytest.mark.parametrize(
    ("flag", "line"),
    [
        ("--episodes=1e12", "--episodes=1e12: expected a whole number >= 1, at most 10000"),
        ("--eval.n_episodes=10001", "--eval.n_episodes=10001: expected a whole number >= 1, at most 10000"),
        ("--videos=1e9", "--videos=1e9: expected a whole number >= 0, at most 10000"),
        ("--max_steps=1e12", "--max_steps=1e12: expected a whole number >= 1, at most 100000"),
        ("--seed=-1", "--seed=-1: expected a whole number >= 0, at most 4294967295"),
        (
            "--workers=100000",
            f"--workers=100000: expected a whole number >= 1, at most {2 * cpu_cores()} (2 per CPU "
            "core of this machine)",
        ),
        ("--eval.batch_size=50000", "--eval.batch_size=50000: expected a whole number >= 1, at most"),
    ],
)
def test_eval_bounds(run_cli, tmp_path: Path, flag: str, line: str) -> None:
    code, out, err = run_cli("eval", f"--policy.path={tmp_path}", flag)
    assert code == 2 and err.startswith(f"policyzoo: error: {line}") and len(err.splitlines()) == 1, err
    assert out == ""


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("record", "--episodes=1000000000000"),
            "--episodes=1000000000000: must be at most 10000 (episodes of one recording)",
        ),
        (
            ("record", "--dataset.num_episodes=10001"),
            "--dataset.num_episodes=10001: must be at most 10000 (episodes of one recording)",
        ),
        (("record", "--seed=-1"), "--seed=-1: must be at least 0"),
        (
            ("dataset", "sample", "--episodes=10001"),
            "--episodes=10001: must be at most 10000 (episodes of one recording)",
        ),
        (("dataset", "sample", "--seed=4294967296"), "--seed=4294967296: must be at most 4294967295"),
    ],
)
def test_recording_bounds(run_cli, tmp_path: Path, args: tuple[str, ...], line: str) -> None:
    where = "--output" if args[0] == "dataset" else "--dataset.root"
    code, _, err = run_cli(*args, f"{where}={tmp_path / 'data'}")
    assert code == 2 and err.startswith(f"policyzoo: error: {line}") and len(err.splitlines()) == 1, err
    assert not (tmp_path / "data").exists()
