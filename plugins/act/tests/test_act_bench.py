"""`policyzoo bench policies` measures ACT beside LeRobot called directly."""

import json

import pytest


@pytest.mark.slow
def test_bench_policies_quick_act(run_cli, tmp_path):
    code, out, err = run_cli(
        "bench", "policies", "--quick", "--policy", "act", "--repeats", "1", "--out-dir", str(tmp_path)
    )
    assert code == 0, err
    assert "| act |" in out
    result = json.loads((tmp_path / "policies.json").read_text())["results"][0]
    assert "error" not in result, result
    assert result["type"] == "act" and result["parameters"] > 1e6
    assert result["features"]["cameras"] == {
        "observation.images.top": [3, 48, 64],
        "observation.images.wrist": [3, 48, 64],
    }
    assert result["train_ratio"] > 0 and result["select_ratio"] > 0 and result["queued_p50_s"] > 0
    assert result["episode_length"] == 5  # quick ACT executes 5 of each 10-action chunk
