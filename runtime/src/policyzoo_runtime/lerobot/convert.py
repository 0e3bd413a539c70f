"""Conversions between policyzoo's plain data and LeRobot's feature, stats and device types."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from lerobot.configs.policies import PreTrainedConfig
from lerobot.configs.types import FeatureType, PolicyFeature

from policyzoo.features import ACTION_KEY, Features

ENV_STATE_KEY = "observation.environment_state"


def resolve_device(device: str) -> str:
    """A spec's device as LeRobot takes it: `auto` becomes cuda when present, else mps, else cpu."""
    if device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def policy_features(features: Features) -> tuple[dict[str, PolicyFeature], dict[str, PolicyFeature]]:
    """LeRobot's input and output features for `features` (every state, camera and action key)."""
    inputs: dict[str, PolicyFeature] = {}
    for key, shape in features.state.items():
        kind = FeatureType.ENV if key == ENV_STATE_KEY else FeatureType.STATE
        inputs[key] = PolicyFeature(type=kind, shape=tuple(shape))
    for key, shape in features.visual.items():
        inputs[key] = PolicyFeature(type=FeatureType.VISUAL, shape=tuple(shape))
    outputs = {
        key: PolicyFeature(type=FeatureType.ACTION, shape=tuple(shape))
        for key, shape in features.action.items()
    }
    return inputs, outputs


def features_from_config(config: PreTrainedConfig) -> Features:
    """The features a LeRobot config was built for (rewards when the config asks for them)."""
    state: dict[str, tuple[int, ...]] = {}
    visual: dict[str, tuple[int, int, int]] = {}
    for key, feature in (config.input_features or {}).items():
        if feature.type is FeatureType.VISUAL:
            visual[key] = tuple(int(n) for n in feature.shape)  # type: ignore[assignment]
        elif feature.type in (FeatureType.STATE, FeatureType.ENV):
            state[key] = tuple(int(n) for n in feature.shape)
    action = {
        key: tuple(int(n) for n in feature.shape)
        for key, feature in (config.output_features or {}).items()
        if feature.type is FeatureType.ACTION or key == ACTION_KEY
    }
    return Features(
        state=state, visual=visual, action=action, has_reward=config.reward_delta_indices is not None
    )


def tensor_stats(stats: Mapping[str, Mapping[str, Any]] | None) -> dict[str, dict[str, torch.Tensor]] | None:
    """Dataset statistics (lists, numpy arrays or tensors) as float32 tensors; non-numeric entries dropped."""
    if stats is None:
        return None
    converted: dict[str, dict[str, torch.Tensor]] = {}
    for key, entries in stats.items():
        converted[key] = {}
        for name, value in entries.items():
            array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
            if array.dtype.kind in "fiub":
                converted[key][name] = torch.as_tensor(array, dtype=torch.float32)
    return converted
