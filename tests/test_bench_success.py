"""`policyzoo bench success` end to end, at a tiny scale: the third-party example mlp_bc enters the table
with the settings its own card declares, SmolVLA's card says why it is not run on a CPU, and a second run
resumes from what the first left and recomputes nothing."""

from __future__ import annotations

import dataclasses
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
    assert "| smolvla | - | - | - | - | not run: SmolVLA learns from its pretrained" in stdout
    final = row["final"]
    assert final["episodes"] == 2 and 0 <= final["successes"] <= 2
    low, high = final["success_interval_95"]
    assert 0 <= low <= final["success_rate"] <= high <= 1
    assert final["stages"] == 2 and 0 <= final["mean_max_stage"] <= 2
    assert [point["step"] for point in row["curve"]] == [4]
    assert row["chunk_latency_p50_ms"] > 0 and row["peak_train_rss_mb"] > 100 and row["train_wall_s"] > 0
    assert final["env_steps_per_s"] > 0
    assert row["cameras"] == ["front", "wrist"]  # the robot's own: mlp_bc's preset names none
    assert "| mlp_bc | 1 | front, wrist | 4 |" in stdout and (out / "success-lift.png").stat().st_size > 1000
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


def test_a_run_trained_with_other_settings_starts_over(tmp_path: Path) -> None:
    from policyzoo.card import FinishPhase, TrainingPreset
    from policyzoo_bench.success import STATE_FILE, RunState, run_settings, run_state

    preset = TrainingPreset(policy={"chunk_size": 20}, steps=100, batch_size=8, save_freq=50)
    run_dir = tmp_path / "run"
    (run_dir / "checkpoints" / "000050").mkdir(parents=True)
    (run_dir / STATE_FILE).write_text(
        json.dumps(dataclasses.asdict(RunState(train_wall_s=12.0, settings=run_settings(preset))))
    )
    longer = preset.model_copy(
        update={"steps": 200, "note": "more steps", "finish": FinishPhase(steps=10, save_freq=5)}
    )  # trained in its own folder
    assert run_state("x", run_settings(longer), run_dir).train_wall_s == 12.0 and run_dir.is_dir()  # resumes
    wider = preset.model_copy(update={"policy": {"chunk_size": 40}})
    state = run_state("x", run_settings(wider), run_dir)
    assert not run_dir.exists() and state.train_wall_s == 0 and state.settings == run_settings(wider)


def test_a_preset_records_its_own_cameras_and_fine_tunes_in_a_finishing_phase(
    run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyzoo.card import FinishPhase
    from policyzoo.registry import get_registry
    from policyzoo_bench.success import FINISH_DIR
    from policyzoo_runtime.datasets import read_meta

    def declare(finish: FinishPhase) -> None:
        policies = get_registry().policies
        card = policies["mlp_bc"].card
        lift = card.bench.presets["lift"]
        own = lift.model_copy(
            update={"cpu": lift.cpu.model_copy(update={"cameras": ("wrist",), "finish": finish})}
        )
        bench = card.bench.model_copy(update={"presets": {"lift": own}})
        monkeypatch.setitem(
            policies,
            "mlp_bc",
            dataclasses.replace(policies["mlp_bc"], card=card.model_copy(update={"bench": bench})),
        )

    declare(FinishPhase(steps=2, save_freq=1, flags={"seed": 7}))
    work, out = tmp_path / "work", tmp_path / "out"
    args = [
        "bench",
        "success",
        "--task=lift",
        "--policies=mlp_bc",
        "--demos=1",
        "--steps=2",
        "--episodes=1",
        "--workers=1",
        f"--work-dir={work}",
        f"--out-dir={out}",
    ]
    code, stdout, err = run_cli(*args)
    assert code == 0, err
    row = json.loads((out / "success-lift.json").read_text())["results"][0]
    assert read_meta(work / "demos" / "lift-1-wrist").cameras == ["wrist"]
    assert row["cameras"] == ["wrist"] and row["run_dir"].endswith("lift-mlp_bc-cpu-1demos-wrist")
    assert [point["step"] for point in row["curve"]] == [2, 3, 4] and row["steps"] == 4
    assert (
        "finishing: 2 steps from the checkpoint of step 2" in stdout
        and "| mlp_bc | 1 | wrist | 4 |" in stdout
    )
    finish_dir = Path(row["run_dir"]) / FINISH_DIR
    config = json.loads((finish_dir / "train_config.json").read_text())
    assert Path(config["policy_path"]) == Path(row["run_dir"]) / "checkpoints" / "000002" / "pretrained_model"
    assert "--seed=7" in config["command"].split()
    assert row["curve"][-1]["videos"].startswith(str(finish_dir))
    main_checkpoint = Path(row["run_dir"]) / "checkpoints" / "000002"
    stamp = main_checkpoint.stat().st_mtime_ns

    code, again, err = run_cli(*args)
    assert code == 0, err
    assert "] training" not in again and "] finishing:" not in again and "evaluating" not in again

    declare(FinishPhase(steps=2, save_freq=1, flags={"seed": 8}))  # the phase changed: only it reruns
    code, changed, err = run_cli(*args)
    assert code == 0, err
    assert "] training" not in changed and "] finishing: 2 steps" in changed
    assert main_checkpoint.stat().st_mtime_ns == stamp
    assert "--seed=8" in json.loads((finish_dir / "train_config.json").read_text())["command"].split()
