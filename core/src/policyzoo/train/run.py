"""What lifecycle hooks see of a training run (light: no torch)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyzoo.specs import PolicySpec


@dataclass
class TrainRun:
    """One `policyzoo train` run, as passed to the `on_train_*` hooks."""

    output_dir: Path
    spec: PolicySpec
    dataset_repo_id: str | None
    steps: int
    batch_size: int
    start_step: int = 0
    flags: dict[str, Any] = field(default_factory=dict)
    """The resolved training configuration (`train_config.json`)."""

    @property
    def policy_type(self) -> str:
        return self.spec.type
