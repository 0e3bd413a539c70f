"""`policyzoo demo`: the policy whose card declares demo settings for the demo task
(`PolicyCard.bench.presets[task].demo`; ACT's does), trained on the embedded sample of that task with them,
then evaluated in that task's simulator. No torch here."""

from __future__ import annotations

import time
from typing import Any

from policyzoo.card import TrainingPreset
from policyzoo.errors import BadInput
from policyzoo.flags import Flags, flag_text

DEMO_TASK = "lift"
DEMO_EPISODES = 10
"""Evaluation episodes at the end of the demo."""


def demo_policy(task: str = DEMO_TASK) -> tuple[str, TrainingPreset]:
    """(type, demo settings) of the installed policy whose card declares demo settings for `task` (the first by
    name when several do), or one line saying none does."""
    from policyzoo.registry import get_registry

    policies = get_registry().policies
    for policy_type, entry in sorted(policies.items()):
        presets = entry.card.bench.presets.get(task) if entry.card.bench else None
        if presets is not None and presets.demo is not None:
            return policy_type, presets.demo
    raise BadInput(
        f"demo: no installed policy's card declares demo settings for task '{task}' "
        f"(PolicyCard.bench.presets['{task}'].demo; installed: "
        f"{', '.join(sorted(policies)) or 'none'}); "
        f"install one that does (policyzoo policies list shows the installable ones)"
    )


def demo_sample(task: str = DEMO_TASK) -> tuple[str, str]:
    """(repo id, root) of the embedded sample of `task`."""
    from policyzoo_runtime.datasets import sample_dataset
    from policyzoo_runtime.record.sim import SIM_INSTALL

    found = sample_dataset(task)
    if not found:
        raise BadInput(
            f"demo: no installed plugin provides a sample dataset of task '{task}'; run: {SIM_INSTALL}"
        )
    repo_id, root = found
    return str(repo_id), str(root)


def demo_config(flagged: dict[str, Any]) -> dict[str, Any]:
    """`TrainConfig` fields of the demo run; `flagged` (parsed `train` flags) overrides any of them."""
    from policyzoo_runtime.train.config import parse_flags

    policy_type, preset = demo_policy()
    repo_id, root = demo_sample()
    given: dict[str, Any] = {
        "policy_type": policy_type,
        "dataset_repo_id": repo_id,
        "dataset_root": root,
        "steps": preset.steps,
        "batch_size": preset.batch_size,
        "save_freq": preset.save_freq,
        "log_freq": max(1, preset.steps // 20),
        "output_dir": time.strftime("outputs/demo/%Y-%m-%d_%H-%M-%S"),
    }
    given.update(parse_flags(Flags([f"--{name}={flag_text(value)}" for name, value in preset.flags.items()])))
    policy = {"device": "cpu", **{key: flag_text(value) for key, value in preset.policy.items()}}
    given["policy"] = {**policy, **flagged.pop("policy", {})}
    return {**given, **flagged}
