"""SmolVLA fine-tuned the way it is used, `train --policy.path=lerobot/smolvla_base`: offline, through a
pre-filled Hugging Face cache holding, under the real repo ids, a tiny checkpoint written by LeRobot alone
(camera1-3, as the published one) and the tiny random SmolVLM its config.json names."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

BASE_REPO = "lerobot/smolvla_base"
VLM_REPO = "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"
CAMERAS = tuple(f"observation.images.camera{index}" for index in (1, 2, 3))
TINY = {
    "num_vlm_layers": 2,
    "chunk_size": 6,
    "n_action_steps": 4,
    "num_steps": 2,
    "tokenizer_max_length": 16,
    "scheduler_warmup_steps": 0,
}
RENAME = {"observation.images.top": CAMERAS[0], "observation.images.wrist": CAMERAS[1]}


def write_lerobot_smolvla(folder: Path) -> Path:
    """A SmolVLA saved by LeRobot's own API (no policyzoo.json): 6 joints, cameras camera1-3."""
    import torch
    from lerobot.configs.types import FeatureType, PolicyFeature
    from lerobot.policies.factory import make_pre_post_processors
    from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy

    inputs = {
        "observation.state": PolicyFeature(FeatureType.STATE, (6,)),
        **{camera: PolicyFeature(FeatureType.VISUAL, (3, 256, 256)) for camera in CAMERAS},
    }
    config = SmolVLAConfig(
        vlm_model_name=VLM_REPO,
        device="cpu",
        input_features=inputs,
        output_features={"action": PolicyFeature(FeatureType.ACTION, (6,))},
        **TINY,
    )
    policy = SmolVLAPolicy(config)
    stats = {
        key: {"mean": torch.zeros(6), "std": torch.ones(6), "min": -torch.ones(6), "max": torch.ones(6)}
        for key in ("observation.state", "action")
    }
    preprocessor, postprocessor = make_pre_post_processors(config, dataset_stats=stats)
    config.load_vlm_weights = True  # as in the published checkpoint: its weights hold the VLM
    policy.save_pretrained(folder)
    preprocessor.save_pretrained(folder)
    postprocessor.save_pretrained(folder)
    return folder


@pytest.fixture
def smolvla_base_in_cache(tiny_vlm: Path, tmp_path: Path) -> None:
    from policyzoo_runtime.testing import fill_hf_cache, folder_files

    hub = Path(os.environ["HF_HOME"]) / "hub"
    fill_hf_cache(hub, VLM_REPO, folder_files(tiny_vlm))
    fill_hf_cache(hub, BASE_REPO, folder_files(write_lerobot_smolvla(tmp_path / "written-by-lerobot")))


@pytest.mark.slow
@pytest.mark.usefixtures("smolvla_base_in_cache")
def test_fine_tunes_smolvla_base_from_the_hub_cache_offline(
    run_cli: Callable[..., tuple[int, str, str]], tiny_dataset: Path, tmp_path: Path
) -> None:
    import policyzoo

    assert os.environ["HF_HUB_OFFLINE"] == "1"
    command = [
        "train",
        f"--policy.path={BASE_REPO}",
        f"--dataset.root={tiny_dataset}",
        "--policy.device=cpu",
        "--steps=2",
        "--batch_size=2",
        "--num_workers=0",
    ]
    code, _, err = run_cli(*command)
    assert code == 2 and f"--rename_map='{json.dumps(RENAME)}'" in err, err

    output = tmp_path / "tuned"
    code, out, err = run_cli(*command, f"--rename_map={json.dumps(RENAME)}", f"--output_dir={output}")
    assert code == 0, err
    assert f"without {CAMERAS[2]} (not in the dataset)" in out
    tuned = output / "checkpoints" / "last" / "pretrained_model"
    config = json.loads((tuned / "config.json").read_text())
    assert sorted(config["input_features"]) == [
        "observation.images.camera1",
        "observation.images.camera2",
        "observation.state",
    ]
    assert config["vlm_model_name"] == VLM_REPO
    handle = policyzoo.load_policy(tuned)
    assert set(handle.features.visual) == set(RENAME)  # the dataset's (and the robot's) camera names
    camera_image = np.full((48, 48, 3), 128, np.uint8)  # as a camera gives it
    action = handle.select_action(
        {
            "observation.state": np.zeros(6, np.float32),
            "task": "follow the wave",
            **{camera: camera_image for camera in RENAME},
        }
    )
    assert tuple(action.shape) == (6,)


def test_recommend_fine_tunes_smolvla_base_with_the_datasets_cameras() -> None:
    from policyzoo.features import Features
    from policyzoo.registry import get_registry
    from policyzoo_runtime.recommend import Candidate, Facts, train_command

    card = get_registry().policy("smolvla").card
    features = Features(
        state={"observation.state": (6,)},
        action={"action": (6,)},
        has_language=True,
        visual={"observation.images.top": (3, 480, 640), "observation.images.wrist": (3, 480, 640)},
    )
    line = train_command(
        Candidate("smolvla", card, True, "policyzoo-smolvla"), Facts(gpu_memory_gb=24, features=features)
    )
    assert f"--policy.path={BASE_REPO} " in line and "--policy.type" not in line
    assert f"--rename_map='{json.dumps(RENAME)}'" in line and line.endswith(" --steps=20000")
