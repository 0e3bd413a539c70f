"""Diffusion Policy passes policyzoo's contract tests on a tiny model, plus its own rules."""

import pytest
import torch

import policyzoo
from policyzoo.errors import BadInput
from policyzoo_diffusion import DiffusionSpec
from policyzoo_diffusion.model import DiffusionFactory
from policyzoo_runtime.testing import (
    PolicyContract,
    assert_deploy_sends_what_select_action_gives,
    bimanual_so101_features,
    run_episode,
)


class TestDiffusionContract(PolicyContract):
    policy_type = "diffusion"
    spec_overrides = DiffusionFactory.quick_settings  # crop 40x56 of the kit's 48x64 images
    bad_settings = [
        {"horizon": 10},
        {"n_action_steps": 8},
        {"num_inference_steps": 11},
        {"noise_scheduler_type": "Euler"},
        {"crop_shape": (0, 56)},
        {"down_dims": (16, 30)},
        {"beta_start": 0.5},
        {"pretrained_backbone_weights": "ResNet18_Weights.IMAGENET1K_V1"},
    ]  # with group norms

    def test_ddim_with_few_steps_is_what_runs(self, policy):
        from diffusers import DDIMScheduler

        assert isinstance(policy.policy.diffusion.noise_scheduler, DDIMScheduler)
        assert policy.policy.diffusion.num_inference_steps == 4

    def test_training_skips_the_last_frames_as_lerobot_does(self, policy):
        from policyzoo.handle import drop_last_frames_of

        config = (
            policy.policy.config
        )  # LeRobot's rule, 7 at its defaults: horizon - n_action_steps - n_obs_steps + 1
        expected = config.horizon - config.n_action_steps - config.n_obs_steps + 1
        assert drop_last_frames_of(policy) == config.drop_n_last_frames == expected > 0

    def test_predict_chunk_leaves_the_action_queue(self, policy, observations):
        policy.train_mode(False)
        plain = run_episode(policy, observations[:2], seed=5)
        policy.reset()
        torch.manual_seed(5)
        first = policy.select_action(observations[0])
        chunk = policy.predict_chunk(observations[0])
        second = policy.select_action(observations[1])  # queued from the first chunk
        torch.testing.assert_close(torch.stack([first, second]), plain)
        assert chunk.shape == (DiffusionFactory.quick_settings["n_action_steps"], 12)

    def test_deploy_feeds_the_history_select_action_reads(self, policy, features, stats):
        """The deploy loop asks for a chunk only when the last one ran out, yet the policy reads the frames
        before it one tick apart (chunks at ticks 0, 4, 8; before: frames a chunk apart)."""
        assert_deploy_sends_what_select_action_gives(policy, features, stats, ticks=9, seed=4)


def test_defaults_are_lerobots():
    from lerobot.policies.diffusion.configuration_diffusion import DiffusionConfig

    lerobot = DiffusionConfig(device="cpu")
    spec = DiffusionSpec()
    differing = {
        name: (getattr(spec, name), getattr(lerobot, name))
        for name in DiffusionSpec.model_fields
        if name != "device" and getattr(spec, name) != getattr(lerobot, name)
    }
    assert differing == {}


def test_cameras_of_different_shapes_are_refused_before_building():
    features = bimanual_so101_features()
    features.visual["observation.images.wrist"] = (3, 96, 128)
    problems = DiffusionSpec().check_features(features)
    assert (
        len(problems) == 1 and "same shape" in problems[0].problem and "wrist 96x128" in problems[0].problem
    )
    with pytest.raises(BadInput, match="same shape"):
        policyzoo.build_policy(DiffusionSpec(device="cpu"), features)


def test_crop_larger_than_the_images_is_refused():
    problems = DiffusionSpec(crop_shape=(84, 84)).check_features(bimanual_so101_features(height=48, width=64))
    assert [p.what for p in problems] == ["policy.crop_shape", "policy.crop_shape"]
    assert "at most [48,64]" in problems[0].fix
