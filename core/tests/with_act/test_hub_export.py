"""`policyzoo export`: a self-contained, scrubbed, checked model folder that LeRobot loads as it is."""

from __future__ import annotations

import json
import shutil

import pytest

from policyzoo.errors import BadInput

from .conftest import FAKE_TOKEN, LOCAL_DATA, LOCAL_MODEL, REPO_ID

pytestmark = pytest.mark.slow

EXPECTED = {
    "config.json",
    "model.safetensors",
    "policy_preprocessor.json",
    "policy_postprocessor.json",
    "policy_preprocessor_step_3_normalizer_processor.safetensors",
    "policy_postprocessor_step_0_unnormalizer_processor.safetensors",
    "policyzoo.json",
    "README.md",
    "loss.png",
}


def test_export_writes_only_model_files(exported, act_run):
    folder, report = exported
    assert {p.name for p in folder.iterdir()} == EXPECTED
    assert sorted(report.files) == sorted(EXPECTED)
    assert any("extra_state.pt" in line for line in report.skipped)
    assert not list(folder.parent.glob(".model.partial-*"))
    assert (folder / "loss.png").read_bytes() == (act_run / "loss.png").read_bytes()


def test_export_scrubs_local_paths_and_tokens(exported, act_run):
    folder, report = exported
    text = "\n".join(p.read_text() for p in folder.iterdir() if p.suffix in (".json", ".md"))
    for secret in (FAKE_TOKEN, LOCAL_DATA, LOCAL_MODEL, str(act_run), "/home/someone"):
        assert secret not in text
    config = json.loads((folder / "config.json").read_text())
    assert config["repo_id"] == "act-local"
    training = json.loads((folder / "policyzoo.json").read_text())["training"]
    assert "--dataset.root=so101_data" in training["command"]
    assert training["note"] == "logged in with <redacted>"
    where = {(change.file, change.where) for change in report.scrubbed}
    assert ("config.json", "repo_id") in where
    assert ("policyzoo.json", "training.note") in where


def test_export_checked_itself_with_lerobot_and_policyzoo(exported):
    _, report = exported
    assert report.lerobot_checked
    assert any(line.startswith("LeRobot reload: same action as policyzoo") for line in report.checks)
    assert any(line.startswith("policyzoo reload: action of 12 finite values") for line in report.checks)


def test_lerobot_loads_the_exported_folder_as_it_is(exported):
    import torch
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    import policyzoo
    from policyzoo_runtime.hub.verify import sample_observation

    folder, _ = exported
    config = PreTrainedConfig.from_pretrained(str(folder))
    policy = get_policy_class("act").from_pretrained(str(folder), config=config, strict=True)
    preprocessor, postprocessor = make_pre_post_processors(config, pretrained_path=str(folder))
    ours = policyzoo.load_policy(folder)
    observation = sample_observation(ours.features)
    with torch.no_grad():
        theirs = postprocessor(policy.select_action(preprocessor(dict(observation))))
    assert torch.allclose(theirs.reshape(-1), ours.select_action(observation).reshape(-1), atol=1e-5)


def test_model_card(exported):
    folder, _ = exported
    card = (folder / "README.md").read_text()
    front = card.split("---\n")[1]
    for line in (
        "library_name: lerobot",
        "pipeline_tag: robotics",
        "license: apache-2.0",
        '- "act"',
        '- "so101_bimanual"',
        "datasets:",
        '- "policyzoo/so101_bimanual_sample"',
    ):
        assert line in front
    assert "# Action Chunking Transformer (ACT) policy for so101_bimanual" in card
    assert "policyzoo train --dataset.root=so101_data --policy.type=act --steps=10" in card
    assert "final loss: 0.5" in card
    assert "![training loss](loss.png)" in card
    assert f'policyzoo.load_policy("{REPO_ID}")' in card
    assert f'get_policy_class("act").from_pretrained("{REPO_ID}"' in card
    assert "## From a plugin\n\nTrained for 10 steps (said the hook)." in card
    assert "LeRobot reload: same action as policyzoo" in card


def test_export_refuses_a_folder_lerobot_cannot_load(exported, tmp_path):
    """An extra tensor: policyzoo's loader ignores it, LeRobot's strict load refuses; nothing is written."""
    from safetensors.torch import load_file, save_file

    folder, _ = exported
    broken = tmp_path / "broken"
    shutil.copytree(folder, broken)
    weights = load_file(broken / "model.safetensors")
    weights["model.stray.weight"] = weights[next(iter(weights))].clone()
    save_file(weights, broken / "model.safetensors")
    from policyzoo_runtime.hub.export import export

    with pytest.raises(BadInput, match="export check failed: LeRobot cannot load the folder"):
        export(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.partial-*"))


def test_export_cli_errors(run_cli, tmp_path, act_run):
    code, out, err = run_cli("export", str(tmp_path / "nothing"), "--to", str(tmp_path / "out"))
    assert code == 2 and err.startswith("policyzoo: error: CHECKPOINT=") and err.count("\n") == 1
    (tmp_path / "occupied").mkdir()
    (tmp_path / "occupied" / "notes.txt").write_text("mine")
    code, _, err = run_cli("export", str(act_run), "--to", str(tmp_path / "occupied"))
    assert code == 2 and "exists and is not an exported model folder" in err
    assert (tmp_path / "occupied" / "notes.txt").read_text() == "mine"
    inside = act_run / "checkpoints" / "last" / "pretrained_model" / "sub"
    code, _, err = run_cli("export", str(act_run), "--to", str(inside))
    assert code == 2 and "inside it" in err


def test_export_replaces_an_earlier_export_only_when_asked(run_cli, tmp_path, act_run):
    target = tmp_path / "model"
    target.mkdir()
    (target / "config.json").write_text('{"type": "diffusion"}')
    (target / "model.safetensors").write_bytes(b"an earlier model")
    code, _, err = run_cli("export", str(act_run), "--to", str(target))
    assert code == 2 and err.count("\n") == 1, err
    assert f"--to={target}: holds an earlier export (a diffusion policy written " in err
    assert "pick a new --to, or replace it with --overwrite=true" in err
    assert (target / "model.safetensors").read_bytes() == b"an earlier model"
    code, out, err = run_cli("export", str(act_run), "--to", str(target), "--overwrite=true")
    assert code == 0, err
    assert json.loads((target / "config.json").read_text())["type"] == "act"
