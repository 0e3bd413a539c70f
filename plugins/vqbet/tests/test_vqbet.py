"""VQ-BeT: policyzoo's contract on a tiny model (one of two cameras), its feature rules and its two phases."""

from typing import Any

import pytest
import torch

from policyzoo.api import build_policy
from policyzoo.errors import BadInput
from policyzoo.features import Features
from policyzoo.flags import make_spec
from policyzoo.handle import PolicyHandle
from policyzoo.spec import PolicySpec
from policyzoo_runtime.testing import (
    PolicyContract,
    assert_deploy_sends_what_select_action_gives,
    bimanual_so101_features,
    random_batch,
    random_stats,
)
from policyzoo_vqbet.model import VQBeTFactory
from policyzoo_vqbet.spec import VQBeTSpec

TINY = {
    **{key: value for key, value in VQBeTFactory.quick_settings.items() if key != "n_vqvae_training_steps"},
    "image_key": "top",
    "crop_shape": (32, 32),
}


VQ_STEPS = 50


class TestVQBeTContract(PolicyContract):
    policy_type = "vqbet"
    batch_size = 2
    spec_overrides = {**TINY, "n_vqvae_training_steps": VQ_STEPS}
    bad_settings = [
        {"gpt_n_head": 3},
        {"gpt_block_size": 5},
        {"vqvae_n_embed": 1},
        {"crop_shape": (0, 8)},
        {"vision_backbone": "vit_b_16"},
        {"n_vqvae_training_steps": 0},
        {"action_chunk_size": 0},
        {"pretrained_backbone_weights": "ResNet18_Weights.IMAGENET1K_V1"},
    ]  # with group norms

    @pytest.fixture(scope="class")
    def policy(self, spec: PolicySpec, features: Features, stats: dict[str, dict[str, Any]]) -> PolicyHandle:
        """A policy past its first phase (the residual VQ), as a run is after `n_vqvae_training_steps`.

        The inherited tests then train and run the GPT; `test_first_phase_...` covers the first phase.
        """
        policy = build_policy(spec, features, stats)
        train(
            policy, random_batch(features, stats, policy.delta_indices(), self.batch_size, seed=1), VQ_STEPS
        )
        assert bool(policy.policy.vqbet.action_head.vqvae_model.discretized)
        return policy

    def test_deploy_feeds_the_history_select_action_reads(self, policy, features, stats):
        """The deploy loop asks for a chunk only when the last one ran out, yet the policy reads the frames
        before it one tick apart (chunks at ticks 0, 3, 6; before: the current frame twice)."""
        assert_deploy_sends_what_select_action_gives(policy, features, stats, ticks=7, seed=4)


def train(policy: PolicyHandle, batch: dict[str, Any], steps: int) -> list[float]:
    optimizer, _ = policy.optimizer_and_scheduler(None, steps)
    policy.train_mode(True)
    losses = []
    for _ in range(steps):
        loss, _ = policy.loss(batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    policy.train_mode(False)
    return losses


def problems(spec: VQBeTSpec, **features) -> list[str]:
    return [str(problem) for problem in spec.check_features(bimanual_so101_features(**features))]


def test_takes_exactly_one_camera_the_first_unless_image_key_picks_one() -> None:
    features = bimanual_so101_features()
    assert VQBeTSpec().camera(features) == "observation.images.top"
    assert VQBeTSpec(image_key="wrist").camera(features) == "observation.images.wrist"
    assert problems(VQBeTSpec(crop_shape=None)) == []
    assert problems(VQBeTSpec(crop_shape=None), cameras=("top",)) == []
    assert problems(VQBeTSpec(crop_shape=None, image_key="wrist")) == []
    assert "none" in problems(VQBeTSpec(crop_shape=None), cameras=())[0]
    found = problems(VQBeTSpec(crop_shape=None, image_key="side"))
    assert len(found) == 1 and "observation.images.top, observation.images.wrist" in found[0]


def test_crop_must_fit_the_images() -> None:
    found = problems(VQBeTSpec(image_key="top"))  # LeRobot's default crop is 84x84, the images 48x64
    assert len(found) == 1 and "--policy.crop_shape=[84, 84]" in found[0] and "[48, 64]" in found[0]
    assert problems(VQBeTSpec(image_key="top", crop_shape=(48, 64))) == []


def test_crop_shape_from_the_command_line() -> None:
    assert make_spec(VQBeTSpec, {"crop_shape": "[40, 56]"}).crop_shape == (40, 56)
    assert make_spec(VQBeTSpec, {"crop_shape": "null"}).crop_shape is None
    with pytest.raises(BadInput, match="--policy.crop_shape"):
        make_spec(VQBeTSpec, {"crop_shape": "big"})


def test_model_sees_only_the_chosen_camera() -> None:
    features = bimanual_so101_features()
    policy = build_policy(
        VQBeTSpec(device="cpu", **{**TINY, "image_key": "wrist"}), features, random_stats(features)
    )
    assert list(policy.config.image_features) == ["observation.images.wrist"]
    assert list(policy.features.visual) == ["observation.images.wrist"]
    assert set(policy.delta_indices()) == {"observation.state", "observation.images.wrist", "action"}


def test_first_phase_trains_the_residual_vq_then_freezes_it() -> None:
    features = bimanual_so101_features()
    stats = random_stats(features)
    policy = build_policy(VQBeTSpec(device="cpu", **TINY, n_vqvae_training_steps=VQ_STEPS), features, stats)
    batch = random_batch(features, stats, policy.delta_indices(), batch_size=4)
    vqvae = policy.policy.vqbet.action_head.vqvae_model
    gpt = [p.detach().clone() for p in policy.policy.vqbet.policy.parameters()]
    losses = train(policy, batch, VQ_STEPS - 1)
    assert not bool(vqvae.discretized) and losses[-1] < losses[0]
    assert all(torch.equal(a, b) for a, b in zip(gpt, policy.policy.vqbet.policy.parameters(), strict=True))
    train(policy, batch, 1)
    assert bool(vqvae.discretized)
    codebook = [b.detach().clone() for b in vqvae.vq_layer.buffers()]
    train(policy, batch, 2)
    assert all(torch.equal(a, b) for a, b in zip(codebook, vqvae.vq_layer.buffers(), strict=True))
