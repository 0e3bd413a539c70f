"""`policyzoo demo`: the demo policy, trained on the embedded sample of the demo task with the settings its
plugin declares (`PolicyCard.presets[task].demo`), then evaluated in that task's simulator. No torch here."""

from __future__ import annotations

import time
from typing import Any

from policyzoo.errors import BadInput
from policyzoo.flags import Flags, flag_text
from policyzoo.specs import TrainingPreset

DEMO_POLICY_TYPE = "act"
"""The documented default policy of the demo; what it trains with comes from that plugin's card."""
DEMO_TASK = "lift"
DEMO_EPISODES = 10
"""Evaluation episodes at the end of the demo."""


def demo_preset(policy_type: str = DEMO_POLICY_TYPE, task: str = DEMO_TASK) -> TrainingPreset:
    """The plugin's demo settings for `task`, or one line saying what is missing."""
    from policyzoo.registry import get_registry

    entry = get_registry().policy(policy_type)
    presets = entry.card.presets.get(task)
    if presets is None or presets.demo is None:
        raise BadInput(f"demo: the {policy_type} plugin ({entry.distribution}) declares no demo settings for task "
                       f"'{task}' (PolicyCard.presets['{task}'].demo)")
    return presets.demo


def demo_sample(task: str = DEMO_TASK) -> tuple[str, str]:
    """(repo id, root) of the embedded sample of `task`."""
    from policyzoo.datasets import sample_dataset
    from policyzoo.recording import SIM_INSTALL

    found = sample_dataset(task)
    if not found:
        raise BadInput(f"demo: no installed plugin provides a sample dataset of task '{task}'; run: {SIM_INSTALL}")
    repo_id, root = found
    return str(repo_id), str(root)


def demo_config(flagged: dict[str, Any]) -> dict[str, Any]:
    """`TrainConfig` fields of the demo run; `flagged` (parsed `train` flags) overrides any of them."""
    from policyzoo.train.config import parse_flags

    preset = demo_preset()
    repo_id, root = demo_sample()
    given: dict[str, Any] = {
        "policy_type": DEMO_POLICY_TYPE,
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
