"""ACT passes policyzoo's contract tests on a tiny model, plus ACT's own rules."""

import json
import shutil
from pathlib import Path

import pytest
import torch
import torchvision
from safetensors.torch import load_file, save_file

import policyzoo
from policyzoo.errors import BadInput
from policyzoo_act import ACTSpec
from policyzoo_act.model import ACTFactory
from policyzoo_runtime.testing import PolicyContract, run_episode


class TestACTContract(PolicyContract):
    policy_type = "act"
    spec_overrides = ACTFactory.quick_settings
    bad_settings = [
        {"n_action_steps": 11},
        {"temporal_ensemble_coeff": 0.01},
        {"n_heads": 3},
        {"vision_backbone": "vit_b_16"},
        {"chunk_size": 0},
    ]

    def test_predict_chunk_leaves_the_action_queue(self, policy, observations):
        policy.train_mode(False)
        plain = run_episode(policy, observations[:2])
        policy.reset()
        first = policy.select_action(observations[0])
        chunk = policy.predict_chunk(observations[2])
        second = policy.select_action(observations[1])
        torch.testing.assert_close(torch.stack([first, second]), plain)
        torch.testing.assert_close(chunk[0], run_episode(policy, observations[2:3])[0])
        assert chunk.shape[0] == ACTFactory.quick_settings["chunk_size"]

    def test_saved_config_never_downloads(self, saved):
        config = json.loads((saved / "config.json").read_text())
        assert config["type"] == "act"
        assert config["pretrained_backbone_weights"] is None and config["push_to_hub"] is False

    @pytest.mark.slow
    def test_lerobot_default_backbone_setting_loads_offline(
        self, policy, saved, observations, tmp_path, monkeypatch
    ):
        folder = shutil.copytree(saved, tmp_path / "lerobot-default")
        config = json.loads((folder / "config.json").read_text())
        config["pretrained_backbone_weights"] = "ResNet18_Weights.IMAGENET1K_V1"  # LeRobot's default
        (folder / "config.json").write_text(json.dumps(config))

        def no_download(*args, **kwargs):
            raise AssertionError("tried to download backbone weights")

        monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", no_download)
        loaded = policyzoo.load_policy(folder)
        policy.train_mode(False)
        torch.testing.assert_close(run_episode(loaded, observations), run_episode(policy, observations))

    def test_missing_weight_is_named(self, saved, tmp_path):
        folder = shutil.copytree(saved, tmp_path / "missing-weight")
        weights = load_file(folder / "model.safetensors")
        dropped = "model.action_head.weight"
        del weights[dropped]
        save_file(weights, folder / "model.safetensors")
        with pytest.raises(BadInput, match=dropped):
            policyzoo.load_policy(folder)

    def test_folder_without_processors_is_refused(self, saved, tmp_path):
        folder = shutil.copytree(saved, tmp_path / "no-processors")
        for path in folder.glob("policy_*processor*"):
            path.unlink()
        with pytest.raises(BadInput, match="policy_preprocessor.json"):
            policyzoo.load_policy(folder)


def test_defaults_are_lerobots():
    from lerobot.policies.act.configuration_act import ACTConfig

    lerobot = ACTConfig(device="cpu")
    spec = ACTSpec()
    differing = {
        name: (getattr(spec, name), getattr(lerobot, name))
        for name in ACTSpec.model_fields
        if name != "device" and getattr(spec, name) != getattr(lerobot, name)
    }
    assert differing == {}


def test_dilation_needs_a_backbone_that_can_dilate():
    with pytest.raises(ValueError, match="replace_final_stride_with_dilation needs resnet50 or larger"):
        ACTSpec(replace_final_stride_with_dilation=True)
    assert (
        ACTSpec(replace_final_stride_with_dilation=True, vision_backbone="resnet50").vision_backbone
        == "resnet50"
    )


def test_state_only_data_is_refused_before_building():
    features = policyzoo.Features(state={"observation.state": (12,)}, action={"action": (12,)})
    problems = ACTSpec().check_features(features)
    assert len(problems) == 1 and "camera" in problems[0].problem
    with pytest.raises(BadInput, match="at least one camera"):
        policyzoo.build_policy(ACTSpec(device="cpu"), features)


@pytest.mark.slow
def test_temporal_ensembling_acts(tmp_path: Path):
    from policyzoo_runtime.testing import (
        bimanual_so101_features,
        handle_observation,
        random_stats,
        robot_observation,
    )

    features = bimanual_so101_features(cameras=("top",))
    stats = random_stats(features)
    settings = {**ACTFactory.quick_settings, "n_action_steps": 1, "temporal_ensemble_coeff": 0.01}
    policy = policyzoo.build_policy(ACTSpec(device="cpu", **settings), features, stats)
    assert policy.config.temporal_ensemble_coeff == 0.01
    observations = [handle_observation(robot_observation(features, stats, seed)) for seed in range(3)]
    policy.train_mode(False)
    actions = run_episode(policy, observations)
    assert actions.shape == (3, 12) and torch.isfinite(actions).all()
    # the first action of a new episode is the chunk's first; later ones average overlapping chunks
    torch.testing.assert_close(actions[0], policy.predict_chunk(observations[0])[0])
    assert not torch.allclose(actions[2], policy.predict_chunk(observations[2])[0])
