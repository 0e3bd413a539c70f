"""`policyzoo bench success` end to end, at a tiny scale: the third-party example mlp_bc enters the table
with the settings its own card declares, SmolVLA's card says why it is not run on a CPU, and a second run
resumes from what the first left and recomputes nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

TINY = ["--task=lift", "--policies=mlp_bc,smolvla", "--demos=1", "--steps=4", "--episodes=2", "--workers=1"]


def test_bench_success_measures_resumes_and_explains(
    run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    work, out = tmp_path / "work", tmp_path / "out"
    args = ["bench", "success", *TINY, f"--work-dir={work}", f"--out-dir={out}"]
    code, stdout, err = run_cli(*args)
    assert code == 0, err
    result = json.loads((out / "success-lift.json").read_text())
    assert result["task"] == "lift" and result["robot"] == "so101" and result["scale"] == "cpu"
    row, skipped = result["results"]
    assert row["policy"] == "mlp_bc" and row["demos"] == 1 and row["steps"] == 4
    assert skipped["policy"] == "smolvla" and "pretrained SmolVLM backbone" in skipped["not_run"]
    assert "| smolvla | - | - | - | not run: SmolVLA learns from its pretrained" in stdout
    final = row["final"]
    assert final["episodes"] == 2 and 0 <= final["successes"] <= 2
    low, high = final["success_interval_95"]
    assert 0 <= low <= final["success_rate"] <= high <= 1
    assert final["stages"] == 2 and 0 <= final["mean_max_stage"] <= 2
    assert [point["step"] for point in row["curve"]] == [4]
    assert row["chunk_latency_p50_ms"] > 0 and row["peak_train_rss_mb"] > 100 and row["train_wall_s"] > 0
    assert final["env_steps_per_s"] > 0
    assert "| mlp_bc | 1 | 4 |" in stdout and (out / "success-lift.png").stat().st_size > 1000
    evals = sorted((work / "runs").glob("*/evals/*/eval_summary.json"))
    seeds = [episode["seed"] for episode in json.loads(evals[0].read_text())["per_episode"]]
    assert seeds == [100_000, 100_001]  # the demo used seed 0: no evaluated scene was trained on

    stamp = evals[0].stat().st_mtime_ns
    code, again, err = run_cli(*args)
    assert code == 0, err
    assert "] training" not in again and "] recording" not in again and "evaluating" not in again
    assert evals[0].stat().st_mtime_ns == stamp
    assert json.loads((out / "success-lift.json").read_text())["results"][0]["final"] == final


def test_bench_success_bad_input(run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path) -> None:
    code, _, err = run_cli("bench", "success", "--task=juggle", f"--work-dir={tmp_path}")
    assert code == 2 and "--task=juggle: no installed robot simulates it; tasks: lift, transfer" in err
    code, _, err = run_cli("bench", "success", "--task=lift", "--policies=tiny", f"--work-dir={tmp_path}")
    assert code == 2 and "--policies=tiny: its plugin declares no settings for task 'lift'" in err
