"""The training data loader `lerobot-train` 0.6 builds, from LeRobot's own parts and defaults, to compare with
policyzoo's (`policyzoo bench data`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def policy_config(policy_type: str) -> Any:
    """LeRobot's default config of `policy_type`; its delta indices are the window a loader reads."""
    from lerobot.policies.factory import make_policy_config

    return make_policy_config(policy_type, device="cpu", push_to_hub=False)


def lerobot_train_loader(repo_id: str, root: Path, config: Any, batch_size: int, workers: int) -> Any:
    """The dataset and DataLoader of `lerobot-train` for `config` on the CPU: LeRobot's `make_dataset` (its
    delta timestamps, the pyav backend), its episode-aware sampler (dropping a policy's last frames), no pinned
    memory, no dropped last batch, and `TrainPipelineConfig`'s worker defaults (prefetch factor, persistent
    workers, the spawn start method)."""
    import torch
    from lerobot.configs.default import DatasetConfig
    from lerobot.configs.train import TrainPipelineConfig
    from lerobot.datasets import EpisodeAwareSampler
    from lerobot.datasets.factory import make_dataset

    train = TrainPipelineConfig(
        dataset=DatasetConfig(repo_id=repo_id, root=str(root), video_backend="pyav"),
        policy=config,
        batch_size=batch_size,
        num_workers=workers,
    )
    dataset = make_dataset(train)
    sampler = EpisodeAwareSampler(
        dataset.meta.episodes["dataset_from_index"],
        dataset.meta.episodes["dataset_to_index"],
        episode_indices_to_use=dataset.episodes,
        drop_n_last_frames=getattr(config, "drop_n_last_frames", 0),
        shuffle=True,
        seed=train.seed or 0,
        absolute_to_relative_idx=dataset.absolute_to_relative_idx,
    )
    in_workers = workers > 0
    return torch.utils.data.DataLoader(
        dataset,
        num_workers=workers,
        batch_size=batch_size,
        sampler=sampler,
        pin_memory=False,
        drop_last=False,
        prefetch_factor=train.prefetch_factor if in_workers else None,
        persistent_workers=train.persistent_workers and in_workers,
        multiprocessing_context=train.dataloader_multiprocessing_context if in_workers else None,
    )
