"""Synthetic robot data for tests and benchmarks: a bimanual SO101's features, stats, observations, batches.

Needs numpy and torch (the `train` extra), not pytest.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from policyzoo.features import ACTION_KEY, REWARD_KEY, STATE_KEY, Features

SO101_MOTORS = ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
BIMANUAL_JOINTS = [f"{side}_{motor}.pos" for side in ("left", "right") for motor in SO101_MOTORS]
TASK = "pick up the cube and hand it over"


def bimanual_so101_features(
    cameras: tuple[str, ...] = ("top", "wrist"),
    height: int = 48,
    width: int = 64,
    has_reward: bool = False,
    has_language: bool = False,
) -> Features:
    """A bimanual SO101 dataset's features: 12 joints (degrees, gripper 0-100) and small cameras."""
    return Features(
        state={STATE_KEY: (12,)},
        visual={f"observation.images.{name}": (3, height, width) for name in cameras},
        action={ACTION_KEY: (12,)},
        has_reward=has_reward,
        has_language=has_language,
        state_names=BIMANUAL_JOINTS,
        action_names=BIMANUAL_JOINTS,
        fps=30,
    )


def random_stats(features: Features, seed: int = 0, frames: int = 256) -> dict[str, dict[str, np.ndarray]]:
    """Normalization stats computed from random data in robot units (joints far from zero, as in degrees)."""
    rng = np.random.default_rng(seed)
    stats: dict[str, dict[str, np.ndarray]] = {}
    for key, shape in {**features.state, **features.action}.items():
        center = rng.uniform(80.0, 160.0, size=shape)
        data = center + rng.normal(0.0, 5.0, size=(frames, *shape))
        stats[key] = _summary(data.astype(np.float32), axis=0)
    for key, shape in features.visual.items():
        data = rng.uniform(0.0, 1.0, size=(16, shape[0], 8, 8)).astype(np.float32)
        summary = _summary(data.transpose(1, 0, 2, 3).reshape(shape[0], -1), axis=1)
        stats[key] = {
            name: value if name == "count" else value.reshape(shape[0], 1, 1)
            for name, value in summary.items()
        }
    if features.has_reward:
        stats[REWARD_KEY] = _summary(rng.uniform(0.0, 1.0, size=(frames, 1)).astype(np.float32), axis=0)
    return stats


def _summary(data: np.ndarray, axis: int) -> dict[str, np.ndarray]:
    return {
        "mean": data.mean(axis),
        "std": data.std(axis),
        "min": data.min(axis),
        "max": data.max(axis),
        "q01": np.quantile(data, 0.01, axis),
        "q99": np.quantile(data, 0.99, axis),
        "q10": np.quantile(data, 0.10, axis),
        "q90": np.quantile(data, 0.90, axis),
        "count": np.array([data.shape[axis]]),
    }


def robot_observation(features: Features, stats: dict[str, dict[str, Any]], seed: int) -> dict[str, Any]:
    """One observation as a robot gives it: float32 state in robot units, uint8 HxWx3 camera frames."""
    rng = np.random.default_rng(seed)
    observation: dict[str, Any] = {}
    for key, shape in features.state.items():
        mean, std = np.asarray(stats[key]["mean"]), np.asarray(stats[key]["std"])
        observation[key] = (mean + std * rng.normal(size=shape)).astype(np.float32)
    for key, (channels, height, width) in features.visual.items():
        observation[key] = rng.integers(0, 256, size=(height, width, channels), dtype=np.uint8)
    return observation


def handle_observation(observation: dict[str, Any], task: str | None = None) -> dict[str, Any]:
    """A robot observation at the handle boundary: tensors, images (3, H, W) floats in [0, 1]."""
    out: dict[str, Any] = {}
    for key, value in observation.items():
        tensor = torch.from_numpy(value)
        out[key] = tensor.permute(2, 0, 1).float() / 255 if tensor.dtype == torch.uint8 else tensor
    if task is not None:
        out["task"] = task
    return out


def random_batch(
    features: Features,
    stats: dict[str, dict[str, Any]],
    delta_indices: dict[str, list[int]],
    batch_size: int,
    seed: int = 0,
) -> dict[str, Any]:
    """A batch shaped as LeRobot's dataloader yields it for these delta indices (with padding masks)."""
    generator = torch.Generator().manual_seed(seed)

    def frames(key: str, shape: tuple[int, ...]) -> tuple[int, ...]:
        return (batch_size, len(delta_indices[key]), *shape) if key in delta_indices else (batch_size, *shape)

    batch: dict[str, Any] = {}
    for key, shape in {**features.state, **features.action}.items():
        mean = torch.as_tensor(np.asarray(stats[key]["mean"]), dtype=torch.float32)
        std = torch.as_tensor(np.asarray(stats[key]["std"]), dtype=torch.float32)
        batch[key] = mean + std * torch.randn(frames(key, shape), generator=generator)
    for key, shape in features.visual.items():
        batch[key] = torch.rand(frames(key, shape), generator=generator)
    if features.has_reward:
        batch[REWARD_KEY] = torch.rand(frames(REWARD_KEY, ()), generator=generator)
    for key, indices in delta_indices.items():
        if key in batch:
            batch[f"{key}_is_pad"] = torch.zeros(batch_size, len(indices), dtype=torch.bool)
    batch["index"] = torch.arange(batch_size)
    batch["episode_index"] = torch.zeros(batch_size, dtype=torch.long)
    batch["frame_index"] = torch.arange(batch_size)
    batch["timestamp"] = torch.arange(batch_size, dtype=torch.float32) / (features.fps or 30)
    batch["task_index"] = torch.zeros(batch_size, dtype=torch.long)
    batch["task"] = [TASK] * batch_size
    return batch
