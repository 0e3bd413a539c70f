"""Checkpoints across LeRobot versions and tools, both ways.

- Runs written before the move to LeRobot 0.6, by policyzoo and by `lerobot-train` on LeRobot 0.4.4 (kept in
  tests/data/lerobot044, with the action chunks they gave there), load here and act as they did; LeRobot 0.6
  loads the policyzoo one strictly; the policyzoo run resumes.
- A `lerobot-train` 0.6 run loads, evaluates in the simulator and deploys in policyzoo.
- The `train_config.json` in a policyzoo checkpoint is LeRobot's: `lerobot-train --config_path` trains from it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

import policyzoo

LEGACY = Path(__file__).parent / "data" / "lerobot044"
EXPECTED = json.loads((LEGACY / "expected_chunks.json").read_text())
PRETRAINED = Path("checkpoints") / "last" / "pretrained_model"
LEGACY_ROOT = "/tmp/make044"
"""Where the kept runs were written: their configs name the dataset under it."""
BIN = Path(sys.executable).parent
TINY_ACT = [
    "--policy.type=act",
    "--policy.device=cpu",
    "--policy.dim_model=16",
    "--policy.n_heads=2",
    "--policy.dim_feedforward=32",
    "--policy.n_encoder_layers=1",
    "--policy.n_decoder_layers=1",
    "--policy.n_vae_encoder_layers=1",
    "--policy.latent_dim=4",
    "--policy.chunk_size=5",
    "--policy.n_action_steps=5",
]


def observations() -> list[dict[str, torch.Tensor]]:
    return [
        {key: torch.tensor(value) for key, value in observation.items()}
        for observation in EXPECTED["observations"]
    ]


def policyzoo_chunks(folder: Path) -> torch.Tensor:
    handle = policyzoo.load_policy(folder, device="cpu")
    chunks = []
    for observation in observations():
        handle.reset()
        chunks.append(handle.predict_chunk(observation).reshape(-1, 12))
    return torch.stack(chunks)


@pytest.fixture
def legacy(tmp_path: Path) -> Path:
    """A writable copy of the kept runs, their dataset paths pointing at the copy's dataset."""
    copy = tmp_path / "lerobot044"
    shutil.copytree(LEGACY, copy, symlinks=True)
    for config in copy.rglob("*train_config.json"):
        config.write_text(config.read_text().replace(LEGACY_ROOT, str(copy)))
    return copy


@pytest.mark.parametrize(
    ("run", "expected"), [("policyzoo_run", "policyzoo_run"), ("lerobot_run", "lerobot_run_in_policyzoo")]
)
def test_a_checkpoint_written_with_lerobot_044_acts_as_it_did(run: str, expected: str) -> None:
    chunks = policyzoo_chunks(LEGACY / run / PRETRAINED)
    torch.testing.assert_close(chunks, torch.tensor(EXPECTED[expected]), rtol=1e-5, atol=1e-5)


def test_lerobot_06_loads_policyzoos_044_checkpoint_strictly_and_acts_the_same() -> None:
    import lerobot
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    assert lerobot.__version__.startswith("0.6.")
    folder = LEGACY / "policyzoo_run" / PRETRAINED
    config = PreTrainedConfig.from_pretrained(folder)
    policy = get_policy_class(config.type).from_pretrained(folder, strict=True).eval()
    preprocessor, postprocessor = make_pre_post_processors(config, pretrained_path=str(folder))
    chunks = []
    for observation in observations():
        policy.reset()
        with torch.no_grad():
            chunk = policy.predict_action_chunk(
                preprocessor({k: v.unsqueeze(0) for k, v in observation.items()})
            )
        chunks.append(postprocessor(chunk).reshape(-1, 12))
    torch.testing.assert_close(
        torch.stack(chunks), torch.tensor(EXPECTED["policyzoo_run"]), rtol=1e-5, atol=1e-5
    )


@pytest.mark.slow
def test_a_policyzoo_run_from_lerobot_044_resumes(legacy: Path, run_cli: Any) -> None:
    run = legacy / "policyzoo_run"
    code, _, err = run_cli("train", "--resume=true", f"--output_dir={run}", "--steps=6")
    assert code == 0, err[-2000:]
    assert (run / "checkpoints" / "last").resolve().name == "000006"
    assert [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()][-1] == 6
    lerobot_config = json.loads((run / PRETRAINED / "train_config.json").read_text())
    assert lerobot_config["policy"]["type"] == "act" and lerobot_config["steps"] == 6


def lerobot_train(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "lerobot-train"), *args], capture_output=True, text=True, timeout=600, cwd=cwd
    )


@pytest.mark.slow
def test_lerobot_train_reads_the_train_config_json_of_a_policyzoo_checkpoint(
    legacy: Path, run_cli: Any, tmp_path: Path
) -> None:
    output = tmp_path / "policyzoo"
    data = legacy / "data"
    code, _, err = run_cli(
        "train",
        "--dataset.repo_id=policyzoo/legacy_env_state",
        f"--dataset.root={data}",
        *TINY_ACT,
        "--steps=2",
        "--save_freq=2",
        "--batch_size=4",
        "--num_workers=0",
        "--optimizer.lr=3e-4",
        f"--output_dir={output}",
    )
    assert code == 0, err[-2000:]
    config_path = output / PRETRAINED / "train_config.json"
    saved = json.loads(config_path.read_text())
    assert saved["policy"]["optimizer_lr"] == 3e-4 and saved["dataset"]["root"] == str(data)

    replay = tmp_path / "replay"
    result = lerobot_train(
        f"--config_path={config_path}", f"--output_dir={replay}", "--steps=3", "--save_freq=3", cwd=tmp_path
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    replayed = json.loads((replay / PRETRAINED / "train_config.json").read_text())
    assert replayed["policy"] == {**saved["policy"], "pretrained_path": None}
    assert replayed["optimizer"]["lr"] == 3e-4 and replayed["batch_size"] == 4
    assert policyzoo_chunks(replay / PRETRAINED).shape == (4, 5, 12)


@pytest.fixture(scope="module")
def lerobot_06_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`lerobot-train` 0.6 (tiny ACT, 2 steps) on the embedded bimanual sample: what a LeRobot user brings."""
    from policyzoo_so101 import sample_dataset

    repo_id, root = sample_dataset(None)
    work = tmp_path_factory.mktemp("lerobot06")
    output = work / "run"
    result = lerobot_train(
        f"--dataset.repo_id={repo_id}",
        f"--dataset.root={root}",
        "--dataset.episodes=[0,1]",
        "--dataset.video_backend=pyav",
        *TINY_ACT,
        "--policy.pretrained_backbone_weights=null",
        "--policy.push_to_hub=false",
        "--steps=2",
        "--save_freq=2",
        "--batch_size=2",
        "--num_workers=0",
        "--env_eval_freq=0",
        "--wandb.enable=false",
        f"--output_dir={output}",
        cwd=work,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert not (output / PRETRAINED / "policyzoo.json").exists()
    return output


@pytest.mark.slow
def test_a_lerobot_06_run_loads_evaluates_and_deploys(
    lerobot_06_run: Path, run_cli: Any, tmp_path: Path
) -> None:
    handle = policyzoo.load_policy(lerobot_06_run / PRETRAINED, device="cpu")
    assert handle.spec.type == "act" and len(handle.features.visual) == 2

    code, out, err = run_cli(
        "eval",
        f"--policy.path={lerobot_06_run}",
        "--env=so101_bimanual_sim",
        "--episodes=1",
        "--max_steps=6",
        f"--output_dir={tmp_path / 'eval'}",
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "eval" / "eval_summary.json").read_text())
    assert summary["episodes"] == 1 and summary["per_episode"][0]["length"] <= 6

    report = tmp_path / "deploy.json"
    code, out, err = run_cli(
        "deploy",
        f"--policy.path={lerobot_06_run}",
        "--robot.type=so101_bimanual",
        "--robot.backend=sim",
        "--fps=30",
        "--duration_s=0.5",
        f"--report={report}",
    )
    assert code == 0, err
    assert json.loads(report.read_text())["ok"]
