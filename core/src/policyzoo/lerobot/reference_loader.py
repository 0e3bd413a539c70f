"""The training data loader `lerobot-train` 0.4.4 builds, rebuilt from LeRobot's own parts, to compare with
policyzoo's (`policyzoo bench data`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def policy_config(policy_type: str) -> Any:
    """LeRobot's default config of `policy_type`; its delta indices are the window a loader reads."""
    from lerobot.policies.factory import make_policy_config

    return make_policy_config(policy_type, device="cpu", push_to_hub=False)


def lerobot_train_loader(repo_id: str, root: Path, config: Any, batch_size: int, workers: int) -> Any:
    """The dataset and DataLoader of `lerobot-train` for `config` on the CPU: `make_dataset`'s delta timestamps,
    the episode-aware sampler for policies that drop last frames (else shuffling), no pinned memory, no
    dropped last batch and a prefetch factor of 2, reading videos with the pyav backend."""
    import torch
    from lerobot.datasets.factory import resolve_delta_timestamps
    from lerobot.datasets.lerobot_dataset import LeRobotDataset, LeRobotDatasetMetadata
    from lerobot.datasets.sampler import EpisodeAwareSampler

    meta = LeRobotDatasetMetadata(repo_id, root=root)
    dataset = LeRobotDataset(repo_id, root=root, delta_timestamps=resolve_delta_timestamps(config, meta),
                             video_backend="pyav")
    sampler = None
    if hasattr(config, "drop_n_last_frames"):
        sampler = EpisodeAwareSampler(dataset.meta.episodes["dataset_from_index"],
                                      dataset.meta.episodes["dataset_to_index"], episode_indices_to_use=None,
                                      drop_n_last_frames=config.drop_n_last_frames, shuffle=True)
    return torch.utils.data.DataLoader(dataset, num_workers=workers, batch_size=batch_size, shuffle=sampler is None,
                                       sampler=sampler, pin_memory=False, drop_last=False,
                                       prefetch_factor=2 if workers > 0 else None)
