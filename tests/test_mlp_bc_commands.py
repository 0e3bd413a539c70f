"""The third-party example plugin (examples/mlp_bc, plain PyTorch) through every policyzoo command."""

import json
import shutil
from pathlib import Path

import pytest
import torch

import policyzoo
from policyzoo_runtime.hub import push as push_module

REPO_ID = "someone/mlp-bc-sample"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


class CacheUploader:
    """The push seam: lays the uploaded folder out as huggingface_hub's cache would after a download."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache
        self.uploads: list[list[str]] = []

    def check(self, token):
        """The Hub answers."""

    def upload(self, folder, repo_id, *, token, private, revision, commit_message):
        repo = self.cache / f"models--{repo_id.replace('/', '--')}"
        shutil.copytree(folder, repo / "snapshots" / COMMIT)
        (repo / "refs").mkdir(parents=True, exist_ok=True)
        (repo / "refs" / (revision or "main")).write_text(COMMIT)
        self.uploads.append(sorted(path.name for path in Path(folder).iterdir()))
        return f"https://huggingface.co/{repo_id}/commit/{COMMIT}"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 6-step `policyzoo train` run of mlp_bc on the sample dataset."""
    from policyzoo.cli import main

    output = tmp_path_factory.mktemp("mlp_bc") / "run"
    with pytest.raises(SystemExit) as exit_:
        main(
            [
                "train",
                "--policy.type=mlp_bc",
                "--policy.device=cpu",
                "--policy.hidden_dim=64",
                "--steps=6",
                "--batch_size=4",
                "--log_freq=2",
                "--save_freq=3",
                "--num_workers=0",
                f"--output_dir={output}",
            ]
        )
    assert exit_.value.code == 0
    return output


@pytest.mark.slow
def test_train_writes_a_plain_torch_checkpoint(trained):
    pretrained = trained / "checkpoints" / "last" / "pretrained_model"
    assert sorted(p.name for p in pretrained.iterdir() if p.suffix in (".json", ".safetensors")) == [
        "config.json",
        "model.safetensors",
        "policyzoo.json",
        "policyzoo_train_config.json",
    ]  # no LeRobot config
    config = json.loads((pretrained / "config.json").read_text())
    assert next(iter(config)) == "type" and config["type"] == "mlp_bc" and config["hidden_dim"] == 64
    meta = json.loads((pretrained / "policyzoo.json").read_text())
    assert meta["distribution"] == "policyzoo-mlp-bc" and meta["training"]["steps"] == 6
    assert (trained / "checkpoints" / "000003" / "pretrained_model").is_dir()


@pytest.mark.slow
def test_resume_continues_from_the_last_checkpoint(trained, run_cli, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(trained, copy, symlinks=True)
    code, out, err = run_cli("train", "--resume=true", f"--output_dir={copy}", "--steps=8")
    assert code == 0, err
    meta = json.loads((copy / "checkpoints" / "last" / "pretrained_model" / "policyzoo.json").read_text())
    assert meta["training"]["steps"] == 8 and meta["training"]["start_step"] == 6


@pytest.mark.slow
def test_export_says_lerobot_cannot_load_it(trained, run_cli, tmp_path):
    code, out, err = run_cli("export", str(trained), "--to", str(tmp_path / "exported"))
    assert code == 0, err
    assert "LeRobot reload: skipped, the plugin says LeRobot cannot load this policy type" in out
    card = (tmp_path / "exported" / "README.md").read_text()
    assert "LeRobot cannot load" in card
    assert 'get_policy_class("mlp_bc")' not in card, "the card tells users to load it with LeRobot"
    exported = {p.name for p in (tmp_path / "exported").iterdir()}
    assert {"README.md", "config.json", "model.safetensors", "policyzoo.json"} <= exported
    assert not [name for name in exported if name.startswith("policy_") or "state" in name]


@pytest.mark.slow
def test_push_then_load_by_repo_id_gives_the_same_actions(trained, run_cli, tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    uploader = CacheUploader(cache)
    monkeypatch.setattr(push_module, "uploader", uploader)
    code, out, err = run_cli("push", str(trained), "--repo-id", REPO_ID)
    assert code == 0, err
    assert f"to https://huggingface.co/{REPO_ID}" in out
    [uploaded] = uploader.uploads
    assert {"README.md", "config.json", "model.safetensors", "policyzoo.json"} <= set(uploaded)
    assert not [name for name in uploaded if "state" in name or name.endswith((".bin", ".pt"))]

    pushed = policyzoo.load_policy(REPO_ID, device="cpu")
    local = policyzoo.load_policy(trained, device="cpu")
    assert type(pushed).__module__ == "policyzoo_mlp_bc.policy"
    observation = {
        key: torch.rand(shape) * 10
        for key, shape in {**local.features.state, **local.features.visual}.items()
    }
    torch.testing.assert_close(pushed.predict_chunk(observation), local.predict_chunk(observation))


@pytest.mark.slow
def test_eval_rolls_it_out_in_the_simulator(trained, run_cli, tmp_path):
    code, out, err = run_cli(
        "eval",
        f"--policy.path={trained}",
        "--env=so101_bimanual_sim",
        "--episodes=1",
        "--max_steps=8",
        "--videos=0",
        f"--output_dir={tmp_path}",
    )
    assert code == 0, err
    summary = json.loads((tmp_path / "eval_summary.json").read_text())
    assert summary["policy"]["type"] == "mlp_bc" and summary["episodes"] == 1
    assert 0.0 <= summary["success_rate"] <= 1.0
    assert summary["mean_episode_length"] > 0


@pytest.mark.slow
def test_deploy_drives_the_simulated_robot(trained, run_cli, tmp_path):
    report = tmp_path / "deploy.json"
    code, out, err = run_cli(
        "deploy",
        f"--policy.path={trained}",
        "--robot.type=so101_bimanual",
        "--robot.backend=sim",
        "--duration_s=0.5",
        f"--report={report}",
    )
    assert code == 0, err
    result = json.loads(report.read_text())
    assert result["stop_reason"] == "finished" and result["ticks"] > 0 and result["chunks"] >= 1
