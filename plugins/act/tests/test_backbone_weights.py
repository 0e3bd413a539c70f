"""ACT starts its ResNet from torchvision's ImageNet weights when they are cached, as LeRobot does; else random."""

from pathlib import Path

import pytest
import torch
import torchvision
from torchvision.ops.misc import FrozenBatchNorm2d

import policyzoo
from policyzoo.errors import BadInput
from policyzoo.flags import make_spec
from policyzoo_act import ACTSpec
from policyzoo_act.model import ACTFactory
from policyzoo_runtime.lerobot.backbones import cached_file
from policyzoo_runtime.synthetic import (
    bimanual_so101_features,
    handle_observation,
    random_stats,
    robot_observation,
)

IMAGENET = "ResNet18_Weights.IMAGENET1K_V1"
SMALL = {
    key: value for key, value in ACTFactory.quick_settings.items() if key != "pretrained_backbone_weights"
}


@pytest.fixture
def torch_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    return tmp_path / "torch"


@pytest.fixture
def cached_resnet18(torch_home: Path) -> dict[str, torch.Tensor]:
    """A weights file with torchvision's names and shapes, where torchvision looks for ImageNet's."""
    torch.manual_seed(7)
    weights = torchvision.models.resnet18().state_dict()
    weights["bn1.running_mean"] = torch.linspace(-1, 1, 64)
    path = cached_file(IMAGENET)
    path.parent.mkdir(parents=True)
    torch.save(weights, path)
    return weights


@pytest.fixture
def data():
    features = bimanual_so101_features(cameras=("top",))
    return features, random_stats(features)


def no_download(*args, **kwargs):
    raise AssertionError("tried to download backbone weights")


def test_lerobot_default_is_imagenet_and_none_means_random():
    assert ACTSpec().pretrained_backbone_weights == IMAGENET
    for text in ("None", "null"):
        assert make_spec(ACTSpec, {"pretrained_backbone_weights": text}).pretrained_backbone_weights is None


def test_cached_weights_are_used_and_the_checkpoint_loads_without_them(
    cached_resnet18, data, tmp_path, capsys, monkeypatch
):
    features, stats = data
    policy = policyzoo.build_policy(ACTSpec(device="cpu", **SMALL), features, stats)
    backbone = policy.policy.model.backbone
    assert torch.equal(backbone.conv1.weight, cached_resnet18["conv1.weight"])
    assert isinstance(
        backbone.bn1, FrozenBatchNorm2d
    )  # LeRobot's frozen statistics of the pretrained network
    assert torch.equal(backbone.bn1.running_mean, cached_resnet18["bn1.running_mean"])
    assert policy.spec.pretrained_backbone_weights == IMAGENET
    assert policy.config.pretrained_backbone_weights == IMAGENET
    assert "warning" not in capsys.readouterr().err

    policy.save(tmp_path / "saved")
    cached_file(IMAGENET).unlink()
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", no_download)
    loaded = policyzoo.load_policy(tmp_path / "saved", device="cpu")
    assert isinstance(loaded.policy.model.backbone.bn1, FrozenBatchNorm2d)
    assert loaded.config.pretrained_backbone_weights == IMAGENET
    observation = handle_observation(robot_observation(features, stats, seed=1))
    policy.train_mode(False)
    torch.testing.assert_close(loaded.predict_chunk(observation), policy.predict_chunk(observation))


def test_offline_without_the_file_says_so_once_and_starts_random(torch_home, data, capsys, monkeypatch):
    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", no_download)
    policy = policyzoo.build_policy(ACTSpec(device="cpu", **SMALL), *data)
    err = capsys.readouterr().err
    assert err.count("warning:") == 1 and "random weights" in err and "HF_HUB_OFFLINE" in err
    assert (
        policy.spec.pretrained_backbone_weights is None and policy.config.pretrained_backbone_weights is None
    )
    assert isinstance(
        policy.policy.model.backbone.bn1, torch.nn.BatchNorm2d
    )  # trainable: see policyzoo_act.norm


def test_a_failed_download_starts_random(torch_home, data, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")

    def unreachable(*args, **kwargs):
        raise OSError("Could not resolve host")

    monkeypatch.setattr(torchvision.models._api, "load_state_dict_from_url", unreachable)
    policy = policyzoo.build_policy(ACTSpec(device="cpu", **SMALL), *data)
    assert "the download failed (Could not resolve host)" in capsys.readouterr().err
    assert policy.spec.pretrained_backbone_weights is None


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"pretrained_backbone_weights": "ResNet18_Weights.NOPE"}, "torchvision has no such weights"),
        ({"pretrained_backbone_weights": IMAGENET, "vision_backbone": "resnet34"}, "not weights of resnet34"),
    ],
)
def test_bad_weights_are_named(torch_home, data, settings, message):
    with pytest.raises(BadInput, match=message):
        policyzoo.build_policy(ACTSpec(device="cpu", **{**SMALL, **settings}), *data)
