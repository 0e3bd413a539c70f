"""TD-MPC's factory: LeRobot's `TDMPCPolicy` through the shared LeRobot adapter.

LeRobot's TD-MPC (0.4.4, still in 0.6.1) acts only when its image feature is named exactly `observation.image`
(its planner looks the configured camera key up in a dict that holds only `observation.image`). policyzoo therefore
builds the model with its one camera under that name and puts a rename step into the saved preprocessor,
so users, policyzoo and LeRobot itself all keep feeding the camera under its own name.
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from lerobot.configs.types import FeatureType, PolicyFeature
from lerobot.policies.pretrained import PreTrainedPolicy
from lerobot.policies.utils import populate_queues
from lerobot.processor import RenameObservationsProcessorStep
from lerobot.utils.constants import ACTION, OBS_IMAGE

from policyzoo.features import Features
from policyzoo.spec import PolicySpec
from policyzoo_runtime.lerobot import LeRobotFactory, LeRobotHandle, policy_features, tensor_stats
from policyzoo_tdmpc.spec import TDMPCSpec


class TDMPCHandle(LeRobotHandle):
    """TD-MPC plans from its observation queue; chunk predictions leave the queues and warm start alone."""

    def model_chunk(self, observation: dict[str, Any]) -> torch.Tensor:
        policy = self.policy
        queues, warm_start = policy._queues, policy._prev_mean
        observation = {key: value for key, value in observation.items() if key != ACTION}
        policy._queues = populate_queues(
            {key: copy.copy(queue) for key, queue in queues.items()}, observation, exclude_keys=[ACTION]
        )
        try:
            plan = policy.predict_action_chunk(observation)  # (horizon, batch, action)
        finally:
            policy._queues, policy._prev_mean = queues, warm_start
        return plan.transpose(0, 1)


class TDMPCFactory(LeRobotFactory):
    policy_type = "tdmpc"
    spec_class = TDMPCSpec
    handle_class = TDMPCHandle
    spec_only_fields = frozenset({"image_key"})
    quick_settings = {
        "latent_dim": 16,
        "mlp_dim": 32,
        "state_encoder_hidden_dim": 32,
        "image_encoder_hidden_dim": 8,
        "q_ensemble_size": 2,
        "n_gaussian_samples": 16,
        "n_pi_samples": 4,
        "n_elites": 4,
        "cem_iterations": 2,
        "horizon": 4,
        "n_action_steps": 2,
        "n_action_repeats": 1,
    }
    rename_camera = True
    """The workaround for LeRobot's `observation.image` bug (tests turn it off to show the bug)."""

    def model_image_key(self, camera: str) -> str:
        return OBS_IMAGE if self.rename_camera else camera

    def input_features(self, spec: PolicySpec, features: Features) -> dict[str, PolicyFeature]:
        assert isinstance(spec, TDMPCSpec)
        inputs = {
            key: feature
            for key, feature in policy_features(features)[0].items()
            if feature.type is not FeatureType.VISUAL
        }
        camera = spec.camera(features)
        if camera is not None:
            inputs[self.model_image_key(camera)] = PolicyFeature(
                FeatureType.VISUAL, tuple(features.visual[camera])
            )
        return inputs

    def processor_stats(
        self, spec: PolicySpec, features: Features, stats: dict[str, dict[str, Any]] | None
    ) -> dict[str, dict[str, Any]] | None:
        assert isinstance(spec, TDMPCSpec)
        converted = tensor_stats(stats)
        camera = spec.camera(features)
        if converted is None or camera is None or camera not in converted:
            return converted
        renamed = {key: value for key, value in converted.items() if key not in features.visual}
        renamed[self.model_image_key(camera)] = converted[camera]
        return renamed

    def make_handle(
        self,
        spec: PolicySpec,
        features: Features,
        policy: PreTrainedPolicy,
        preprocessor: Any,
        postprocessor: Any,
    ) -> LeRobotHandle:
        """Name the camera: build (dataset features) and load (config features) both end here."""
        assert isinstance(spec, TDMPCSpec)
        config = policy.config
        rename = next(
            step for step in preprocessor.steps if isinstance(step, RenameObservationsProcessorStep)
        )
        model_key = next(iter(config.image_features), None)
        if model_key is not None and model_key != OBS_IMAGE and self.rename_camera:
            # A folder LeRobot wrote with the camera's own name: apply the workaround now.
            config.input_features = {
                (OBS_IMAGE if key == model_key else key): feature
                for key, feature in config.input_features.items()
            }
            rename.rename_map = {**rename.rename_map, model_key: OBS_IMAGE}
            policy.reset()
        restored = {new: old for old, new in rename.rename_map.items()}
        camera = spec.image_key or restored.get(OBS_IMAGE) or spec.camera(features)
        if camera is not None and self.rename_camera and camera != OBS_IMAGE:
            rename.rename_map = {**rename.rename_map, camera: OBS_IMAGE}
        if camera is not None:
            shape = tuple(next(iter(config.image_features.values())).shape)
            features = features.model_copy(update={"visual": {camera: shape}})
            spec = spec.model_copy(update={"image_key": camera})
        return super().make_handle(spec, features, policy, preprocessor, postprocessor)


factory = TDMPCFactory()
