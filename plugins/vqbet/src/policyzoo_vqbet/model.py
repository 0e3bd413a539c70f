"""VQ-BeT's factory: LeRobot's `VQBeTPolicy` through the shared LeRobot adapter.

The model is built with the state and the one chosen camera only: LeRobot's VQ-BeT lays its GPT tokens
out from the number of input features, so any other input would shift them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lerobot.configs.types import PolicyFeature
from lerobot.policies.pretrained import PreTrainedPolicy

from policyzoo.features import STATE_KEY, Features
from policyzoo.spec import PolicySpec
from policyzoo_runtime.lerobot import HistoryHandle, LeRobotFactory, LeRobotHandle, policy_features
from policyzoo_vqbet.spec import VQBeTSpec


class VQBeTFactory(LeRobotFactory):
    policy_type = "vqbet"
    spec_class = VQBeTSpec
    handle_class = HistoryHandle  # VQ-BeT reads its last n_obs_steps frames
    spec_only_fields = frozenset({"image_key"})
    quick_settings = {
        "crop_shape": (40, 40),
        "n_obs_steps": 2,
        "n_action_pred_token": 2,
        "action_chunk_size": 3,
        "vqvae_n_embed": 8,
        "vqvae_embedding_dim": 16,
        "vqvae_enc_hidden_dim": 16,
        "spatial_softmax_num_keypoints": 8,
        "gpt_block_size": 16,
        "gpt_input_dim": 32,
        "gpt_output_dim": 32,
        "gpt_n_layer": 1,
        "gpt_n_head": 2,
        "gpt_hidden_dim": 32,
        "dropout": 0.0,
        "n_vqvae_training_steps": 1000,
    }
    """A small model whose short runs stay in the first phase (training the residual VQ)."""

    def bench_settings(self, quick: bool, workdir: Path) -> dict[str, Any]:
        """The full benchmark times the second phase (the GPT), where almost all of a run's steps go."""
        return dict(self.quick_settings) if quick else {"n_vqvae_training_steps": 1}

    def input_features(self, spec: PolicySpec, features: Features) -> dict[str, PolicyFeature]:
        assert isinstance(spec, VQBeTSpec)
        inputs = policy_features(features)[0]
        keep = (STATE_KEY, spec.camera(features))
        return {key: feature for key, feature in inputs.items() if key in keep}

    def spec_from_config(self, config: Any, **extra: Any) -> PolicySpec:
        return super().spec_from_config(
            config, **{"image_key": next(iter(config.image_features), None), **extra}
        )

    def make_handle(
        self,
        spec: PolicySpec,
        features: Features,
        policy: PreTrainedPolicy,
        preprocessor: Any,
        postprocessor: Any,
    ) -> LeRobotHandle:
        """The handle sees the dataset through the model's inputs: state and the one camera."""
        camera = next(iter(policy.config.image_features))
        features = features.model_copy(
            update={
                "visual": {camera: tuple(policy.config.image_features[camera].shape)},
                "state": {key: shape for key, shape in features.state.items() if key == STATE_KEY},
            }
        )
        spec = spec.model_copy(update={"image_key": camera})
        return super().make_handle(spec, features, policy, preprocessor, postprocessor)


factory = VQBeTFactory()
