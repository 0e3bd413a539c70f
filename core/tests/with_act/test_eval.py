"""`policyzoo eval`: rollouts in the SO101 simulator, summary and videos; the same seed, the same summary."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def act_folder(act_run):
    return act_run / "checkpoints" / "last" / "pretrained_model"


def test_same_seed_same_summary(run_cli, act_folder, tmp_path):
    import av

    args = [
        "eval",
        f"--policy.path={act_folder}",
        "--env=so101_bimanual_sim",
        "--episodes=2",
        "--max_steps=8",
        "--videos=1",
        "--policy.device=cpu",
        "--workers=1",
    ]
    code, out, err = run_cli(*args, "--seed=5", f"--output_dir={tmp_path / 'a'}")
    assert code == 0, err
    assert "2 episodes of act on so101_bimanual_sim (seed 5): success rate" in out
    first = json.loads((tmp_path / "a" / "eval_summary.json").read_text())
    assert first.pop("timing")["env_steps_per_s"] > 0
    assert first["episodes"] == 2 and first["seed"] == 5
    assert [e["seed"] for e in first["per_episode"]] == [5, 6]
    assert all(e["length"] == 8 or e["success"] for e in first["per_episode"])
    for key in ("success_rate", "mean_sum_reward", "mean_max_reward", "mean_episode_length"):
        assert isinstance(first[key], float)
    low, high = first["success_interval_95"]
    assert 0 <= low <= first["success_rate"] <= high <= 1 and first["stages"] == 4
    assert all(0 <= e["max_stage"] <= 4 for e in first["per_episode"])
    assert first["per_episode"][0]["video"] == "episode_000.mp4" and first["per_episode"][1]["video"] is None
    with av.open(str(tmp_path / "a" / "episode_000.mp4")) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == first["per_episode"][0]["length"] + 1
    assert (frames[0].height, frames[0].width) == (24, 24)

    code, _, err = run_cli(*args[:-1], "--workers=2", "--seed=5", f"--output_dir={tmp_path / 'b'}")
    assert code == 0, err
    in_workers = json.loads((tmp_path / "b" / "eval_summary.json").read_text())
    assert in_workers.pop("timing")["workers"] == 2
    assert in_workers == first  # the same episodes, whether in this process or in two workers

    code, _, err = run_cli(*args, "--seed=6", f"--output_dir={tmp_path / 'c'}")
    assert code == 0, err
    other = json.loads((tmp_path / "c" / "eval_summary.json").read_text())
    assert other["per_episode"][0]["final_state"] == first["per_episode"][1]["final_state"]  # both seed 6
    assert other["per_episode"][0]["final_state"] != first["per_episode"][0]["final_state"]


def test_eval_bad_input(run_cli, act_folder, tmp_path):
    code, _, err = run_cli("eval", f"--policy.path={act_folder}", "--env=so101_bimanual_real")
    assert code == 2 and "--env=so101_bimanual_real" in err
    code, _, err = run_cli("eval", f"--policy.path={act_folder}", "--env=nothing_sim")
    assert code == 2 and "unknown simulator environment; available:" in err and "so101_bimanual_sim" in err
    code, _, err = run_cli("eval", "--env=so101_bimanual_sim")
    assert code == 2 and "--policy.path: required" in err
    code, _, err = run_cli("eval", f"--policy.path={act_folder}", "--episodes=0")
    assert code == 2 and "--episodes=0: expected a whole number >= 1" in err
