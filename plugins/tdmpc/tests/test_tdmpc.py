"""TD-MPC: policyzoo's contract on a tiny model (one square camera, rewards), its feature rules, and the
workaround for LeRobot's `observation.image` bug (0.4.4 and 0.6.1)."""

from pathlib import Path
from typing import Any

import pytest
import torch

from policyzoo.api import build_policy, load_policy
from policyzoo.features import Features
from policyzoo.registry import get_registry
from policyzoo.spec import PolicySpec
from policyzoo_runtime.testing import (
    PolicyContract,
    bimanual_so101_features,
    handle_observation,
    lerobot_episode,
    random_stats,
    robot_observation,
    run_episode,
)
from policyzoo_tdmpc.model import TDMPCFactory
from policyzoo_tdmpc.spec import TDMPCSpec

TINY = dict(TDMPCFactory.quick_settings)


class TestTDMPCContract(PolicyContract):
    policy_type = "tdmpc"
    spec_overrides = TINY
    bad_settings = [
        {"n_action_steps": 5},
        {"n_action_repeats": 2},
        {"use_mpc": False},
        {"n_elites": 21},
        {"horizon": 0},
        {"q_ensemble_size": 1},
        {"discount": 1.5},
    ]

    @pytest.fixture(scope="class")
    def features(self) -> Features:
        return bimanual_so101_features(height=48, width=48, has_reward=True)

    @pytest.mark.slow
    def test_lerobot_folder_loads_in_policyzoo(
        self,
        spec: PolicySpec,
        features: Features,
        stats: dict[str, dict[str, Any]],
        robot_observations: list[dict[str, Any]],
        observations: list[dict[str, Any]],
        task: str | None,
        tmp_path: Path,
    ) -> None:
        """A folder `lerobot-train` would write names the camera; LeRobot itself cannot act with it.

        policyzoo loads it with the workaround and acts as LeRobot would without its bug: the same weights
        fed the camera as `observation.image`.
        """
        from lerobot.policies.factory import get_policy_class, make_pre_post_processors

        from policyzoo_runtime.lerobot import tensor_stats

        factory = get_registry().policy("tdmpc").load_factory()
        native = type(factory)()
        native.rename_camera = False
        config = native.make_config(spec, features)
        camera = next(iter(config.image_features))
        assert camera == "observation.images.top"
        lerobot_policy = get_policy_class("tdmpc")(config).eval()
        preprocessor, postprocessor = make_pre_post_processors(config, dataset_stats=tensor_stats(stats))
        for part in (lerobot_policy, preprocessor, postprocessor):
            part.save_pretrained(tmp_path)
        with pytest.raises(KeyError, match=camera):
            lerobot_episode(lerobot_policy, preprocessor, postprocessor, robot_observations[:1])

        loaded = load_policy(tmp_path)
        assert loaded.spec.image_key == camera and list(loaded.features.visual) == [camera]
        actions = run_episode(loaded, observations)

        lerobot_policy.config.input_features = {
            ("observation.image" if key == camera else key): value
            for key, value in config.input_features.items()
        }
        lerobot_policy.reset()
        renamed = [
            {("observation.image" if key == camera else key): value for key, value in observation.items()}
            for observation in robot_observations
        ]
        torch.testing.assert_close(
            actions, lerobot_episode(lerobot_policy, preprocessor, postprocessor, renamed)
        )


def problems(spec: TDMPCSpec, **features) -> list[str]:
    return [str(problem) for problem in spec.check_features(bimanual_so101_features(**features))]


def test_needs_rewards() -> None:
    found = problems(TDMPCSpec(), height=48, width=48)
    assert len(found) == 1 and "next.reward" in found[0] and "act, diffusion" in found[0]


def test_takes_one_square_camera_and_says_which() -> None:
    assert problems(TDMPCSpec(), height=48, width=48, has_reward=True) == []
    found = problems(TDMPCSpec(), height=48, width=64, has_reward=True)
    assert len(found) == 1 and "48x64" in found[0] and "observation.images.top" in found[0]
    assert problems(TDMPCSpec(), height=32, width=32, has_reward=True)[0].count("39x39") == 2


def test_image_key_picks_a_camera_by_name_or_key() -> None:
    assert TDMPCSpec(image_key="wrist").image_key == "observation.images.wrist"
    features = bimanual_so101_features(height=48, width=48, has_reward=True)
    assert TDMPCSpec(image_key="wrist").camera(features) == "observation.images.wrist"
    assert TDMPCSpec().camera(features) == "observation.images.top"
    found = problems(TDMPCSpec(image_key="wirst"), height=48, width=48, has_reward=True)
    assert len(found) == 1 and "observation.images.wrist" in found[0] and "Did you mean" in found[0]


def test_state_only_data_needs_an_environment_state() -> None:
    found = problems(TDMPCSpec(), cameras=(), has_reward=True)
    assert len(found) == 1 and "environment state" in found[0]


@pytest.fixture(scope="module")
def setup():
    features = bimanual_so101_features(height=48, width=48, has_reward=True)
    stats = random_stats(features)
    observation = handle_observation(robot_observation(features, stats, seed=0))
    return features, stats, observation


def test_workaround_makes_select_action_work_with_camera_names(setup) -> None:
    """Without the rename, LeRobot's TD-MPC (0.4.4 and 0.6.1) cannot act on a camera named like a dataset's."""
    features, stats, observation = setup
    spec = TDMPCSpec(device="cpu", image_key="wrist", **TINY)
    policy = build_policy(spec, features, stats)
    assert list(policy.features.visual) == ["observation.images.wrist"]
    assert policy.preprocessor.steps[0].rename_map == {"observation.images.wrist": "observation.image"}
    assert torch.isfinite(policy.select_action(observation)).all()

    factory = type(get_registry().policy("tdmpc").load_factory())()
    factory.rename_camera = False
    unpatched = factory.build(spec, features, stats)
    with pytest.raises(KeyError, match="observation.images.wrist"):
        unpatched.select_action(observation)


def test_chosen_camera_drives_the_model(setup) -> None:
    """The model sees `image_key`'s camera, not the other one (no planning: actions are pi(z))."""
    features, stats, observation = setup
    settings = {**TINY, "use_mpc": False, "n_action_steps": 1}
    policy = build_policy(TDMPCSpec(device="cpu", image_key="top", **settings), features, stats)
    policy.train_mode(False)

    def act(obs):
        policy.reset()
        return policy.select_action(obs)

    base = act(observation)
    assert torch.equal(base, act({**observation, "observation.images.wrist": torch.zeros(3, 48, 48)}))
    assert not torch.equal(base, act({**observation, "observation.images.top": torch.zeros(3, 48, 48)}))
