"""The run as LeRobot's own `TrainPipelineConfig`: the `train_config.json` every checkpoint carries, so that
`lerobot-train --config_path=OUTPUT/checkpoints/last/pretrained_model/train_config.json --output_dir=NEW`
trains the same policy on the same data with the same optimizer in LeRobot."""

from __future__ import annotations

import copy
import dataclasses
import sys
from pathlib import Path
from typing import Any

from policyzoo_runtime.lerobot.options import image_transforms_config

POLICY_OPTIMIZER_FIELDS = ("lr", "weight_decay", "betas", "eps", "grad_clip_norm")
"""Optimizer settings a LeRobot policy config carries as `optimizer_<name>` and builds its preset from."""


def lerobot_train_config(config: Any, policy_config: Any, optimizer: Any, scheduler: Any) -> Any | None:
    """LeRobot's `TrainPipelineConfig` for a run of `config` (a `policyzoo_runtime.train.config.TrainConfig`) that
    trains the LeRobot policy of `policy_config` with the `optimizer` and `scheduler` configs it really uses;
    None when LeRobot cannot express them (an optimizer other than the policy's preset with no scheduler:
    lerobot-train asks for both or neither)."""
    from lerobot.configs.default import DatasetConfig, WandBConfig
    from lerobot.configs.train import TrainPipelineConfig

    policy = copy.deepcopy(policy_config)
    policy.pretrained_path = Path(config.policy_path) if config.policy_path else None
    policy.push_to_hub, policy.repo_id = config.push_to_hub, config.repo_id
    presets = _as_presets(policy, optimizer, scheduler)
    if not presets and scheduler is None:
        return None
    transforms = image_transforms_config(config.image_transforms)
    return TrainPipelineConfig(
        dataset=DatasetConfig(
            repo_id=config.dataset_repo_id or "",
            root=config.dataset_root,
            episodes=config.dataset_episodes,
            image_transforms=transforms,
            revision=config.dataset_revision,
            use_imagenet_stats=config.use_imagenet_stats,
            video_backend=config.video_backend,
        ),
        policy=policy,
        output_dir=Path(config.output_dir) if config.output_dir else None,
        job_name=config.job_name,
        seed=config.seed,
        num_workers=config.num_workers,
        # lerobot-train has no gradient accumulation: it replays with the effective batch
        batch_size=config.batch_size * config.gradient_accumulation_steps,
        prefetch_factor=config.prefetch_factor,
        persistent_workers=config.persistent_workers,
        steps=config.steps,
        env_eval_freq=0,
        log_freq=config.log_freq,
        tolerance_s=config.tolerance_s,
        save_checkpoint=config.save_checkpoint,
        save_freq=config.save_freq,
        use_policy_training_preset=presets,
        optimizer=None if presets else optimizer,
        scheduler=None if presets else scheduler,
        wandb=WandBConfig(
            enable=config.wandb_enable,
            project=config.wandb_project,
            entity=config.wandb_entity,
            notes=config.wandb_notes,
            mode=config.wandb_mode,
        ),
        rename_map=dict(config.rename_map),
    )


def of_handle(handle: Any, config: Any, scheduler: Any) -> Any | None:
    """`lerobot_train_config` of a run training `handle` with `config`; `scheduler` replaces the policy's
    preset (`--scheduler.*`, None: the preset). None for a policy that is not LeRobot's."""
    from policyzoo_runtime.lerobot.handle import LeRobotHandle

    if not isinstance(handle, LeRobotHandle) or handle.optimizer_config is None:
        return None
    policy_config = handle.policy.config
    used = scheduler if scheduler is not None else policy_config.get_scheduler_preset()
    lerobot_config = lerobot_train_config(config, policy_config, handle.optimizer_config, used)
    if lerobot_config is None:
        print(
            "warning: lerobot-train takes another optimizer only together with a schedule, so the checkpoints "
            "carry no LeRobot train_config.json; add --scheduler.type=... to get one",
            file=sys.stderr,
        )
    return lerobot_config


def _as_presets(policy: Any, optimizer: Any, scheduler: Any) -> bool:
    """True when `policy`'s presets give exactly `optimizer` and `scheduler`, after moving the optimizer's
    settings into the policy's `optimizer_<name>` fields (LeRobot's way to change a preset's rate)."""
    for name in POLICY_OPTIMIZER_FIELDS:
        if hasattr(policy, f"optimizer_{name}") and hasattr(optimizer, name):
            setattr(policy, f"optimizer_{name}", copy.deepcopy(getattr(optimizer, name)))
    return _same(policy.get_optimizer_preset(), optimizer) and _same(policy.get_scheduler_preset(), scheduler)


def _same(preset: Any, used: Any) -> bool:
    if preset is None or used is None:
        return preset is used
    return type(preset) is type(used) and dataclasses.asdict(preset) == dataclasses.asdict(used)
