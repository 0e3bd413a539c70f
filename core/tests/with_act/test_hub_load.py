"""Loading by Hub repo id through a pre-filled HF cache (offline), and clear errors for damaged folders."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import policyzoo
from policyzoo.errors import BadInput
from policyzoo_runtime.processor_files import check_processor_files
from policyzoo_runtime.testing import fill_hf_cache as fill_cache

from .conftest import REPO_ID


def _policy_files(folder: Path) -> dict[str, Path | bytes]:
    return {p.name: p for p in folder.iterdir()}


@pytest.mark.slow
def test_load_policy_by_repo_id_from_the_cache_offline(exported, hf_home):
    import torch

    from policyzoo_runtime.hub.verify import sample_observation

    folder, _ = exported
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    files = _policy_files(folder)
    files["pytorch_model.bin"] = b"\x80\x04 garbage: unpickling this would fail"
    snapshot = fill_cache(hf_home / "hub", REPO_ID, files)
    from_hub = policyzoo.load_policy(REPO_ID)
    local = policyzoo.load_policy(folder)
    observation = sample_observation(local.features)
    assert torch.equal(from_hub.select_action(observation), local.select_action(observation))
    assert (snapshot / "pytorch_model.bin").exists()  # there, and never opened


def test_pickle_only_repo_is_refused(hf_home, exported):
    folder, _ = exported
    fill_cache(
        hf_home / "hub",
        "someone/pickled",
        {"config.json": folder / "config.json", "pytorch_model.bin": b"\x80\x04 pickle"},
    )
    with pytest.raises(
        BadInput,
        match=r"no model.safetensors \(pytorch_model.bin found: pickle files are never "
        r"loaded\)",
    ):
        policyzoo.load_policy("someone/pickled")


def test_repo_not_in_cache_offline(hf_home):
    with pytest.raises(BadInput, match="not in the local Hugging Face cache"):
        policyzoo.load_policy("someone/never-downloaded")


@pytest.fixture
def copy_of(exported, tmp_path):
    """A writable copy of the export whose big weights file is a link unless a test replaces it."""
    folder, _ = exported
    copy = tmp_path / "copy"
    copy.mkdir()
    for path in folder.iterdir():
        if path.name == "model.safetensors":
            os.symlink(path, copy / path.name)
        else:
            shutil.copyfile(path, copy / path.name)
    return copy


def test_truncated_safetensors(copy_of, exported):
    folder, _ = exported
    weights = copy_of / "model.safetensors"
    weights.unlink()
    data = (folder / "model.safetensors").read_bytes()
    weights.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        BadInput, match=r"model.safetensors: truncated \(\d+ bytes, the header declares \d+\)"
    ):
        policyzoo.load_policy(copy_of)


def test_garbage_safetensors(copy_of):
    weights = copy_of / "policy_preprocessor_step_3_normalizer_processor.safetensors"
    weights.write_bytes(b"{not safetensors at all}")
    with pytest.raises(BadInput, match="not a valid safetensors file"):
        policyzoo.load_policy(copy_of)


def test_missing_processor_file(copy_of):
    (copy_of / "policy_postprocessor.json").unlink()
    with pytest.raises(BadInput, match="missing policy_postprocessor.json"):
        policyzoo.load_policy(copy_of)
    (copy_of / "policy_postprocessor.json").write_text("{}")
    (copy_of / "policy_preprocessor_step_3_normalizer_processor.safetensors").unlink()
    with pytest.raises(
        BadInput, match="policy_preprocessor.json needs policy_preprocessor_step_3_normalizer"
    ):
        policyzoo.load_policy(copy_of)


def test_config_without_type(copy_of, run_cli):
    config = json.loads((copy_of / "config.json").read_text())
    del config["type"]
    (copy_of / "config.json").write_text(json.dumps(config))
    with pytest.raises(BadInput, match='has no "type" field'):
        policyzoo.load_policy(copy_of)
    code, _, err = run_cli("export", str(copy_of), "--to", str(copy_of.parent / "out"))
    assert code == 2 and 'has no "type" field' in err


def test_config_and_stats_disagree_on_shapes(copy_of):
    config = json.loads((copy_of / "config.json").read_text())
    config["output_features"]["action"]["shape"] = [14]
    (copy_of / "config.json").write_text(json.dumps(config))
    with pytest.raises(
        BadInput, match=r"config.json says action has shape \[14\], the processor says \[12\]"
    ):
        check_processor_files(copy_of)


@pytest.mark.slow
def test_weights_and_config_disagree_on_shapes(copy_of):
    for name in ("config.json", "policyzoo.json"):
        content = json.loads((copy_of / name).read_text())
        target = content if name == "config.json" else content["spec"]
        target["dim_feedforward"] = 48
        (copy_of / name).write_text(json.dumps(content))
    # found in the weights file's header, before the model is built
    with pytest.raises(
        BadInput,
        match=r"config.json gives model\.\S+ the shape \[48(, 16)?\], model.safetensors "
        r"holds \[32(, 16)?\]; the files come from different checkpoints",
    ):
        policyzoo.load_policy(copy_of)


def test_uninstalled_plugin_says_what_to_install(exported, hf_home, monkeypatch):
    from policyzoo.registry import get_registry

    folder, _ = exported
    fill_cache(hf_home / "hub", REPO_ID, _policy_files(folder))
    monkeypatch.delitem(get_registry().policies, "act")  # as if policyzoo-act were not installed
    with pytest.raises(
        BadInput, match="config.json type=act: the plugin is not installed; run: pip install policyzoo-act"
    ):
        policyzoo.load_policy(REPO_ID)
