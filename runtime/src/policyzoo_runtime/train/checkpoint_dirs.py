"""`OUTPUT/checkpoints/<step>/{pretrained_model,training_state}` and the `last` link, written atomically."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from policyzoo.checkpoint import (
    WEIGHTS_FILE,
    CheckpointMeta,
    DatasetRef,
    atomic_directory,
    fingerprint,
    read_meta,
    write_meta,
)
from policyzoo.errors import BadInput
from policyzoo.registry import get_registry
from policyzoo.spec import PolicySpec, RobotSpec
from policyzoo_runtime.train.config import CHECKPOINT_CONFIG_FILE, TrainConfig

CHECKPOINTS = "checkpoints"
LAST = "last"
PRETRAINED = "pretrained_model"
TRAINING_STATE = "training_state"
STEP_FILE = "training_step.json"


def step_dir(output_dir: Path, step: int) -> Path:
    return Path(output_dir) / CHECKPOINTS / f"{step:06d}"


def last_checkpoint(output_dir: Path) -> Path | None:
    """The checkpoint `last` points at, or None."""
    link = Path(output_dir) / CHECKPOINTS / LAST
    return link.resolve() if (link / PRETRAINED).is_dir() else None


def saved_step(checkpoint: Path) -> int | None:
    """The step a checkpoint folder holds, or None when it is incomplete (no model or no training state)."""
    try:
        step = json.loads((checkpoint / TRAINING_STATE / STEP_FILE).read_text())["step"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return step if isinstance(step, int) and (checkpoint / PRETRAINED / WEIGHTS_FILE).is_file() else None


def require_last(output_dir: Path) -> tuple[Path, int]:
    """(checkpoint, step) to resume from: `last`, or the newest intact checkpoint when `last` is broken."""
    found = last_checkpoint(output_dir)
    if found is not None and (step := saved_step(found)) is not None:
        return found, step
    folder = Path(output_dir) / CHECKPOINTS
    numbered = (
        sorted(
            (path for path in folder.glob("[0-9]*") if path.is_dir() and not path.is_symlink()), reverse=True
        )
        if folder.is_dir()
        else []
    )
    for candidate in numbered:
        if (step := saved_step(candidate)) is not None:
            print(
                f"warning: checkpoints/{LAST} in {output_dir} is missing or incomplete; resuming from the "
                f"newest intact checkpoint, {candidate.name} (step {step})",
                file=sys.stderr,
            )
            return candidate, step
    raise BadInput(
        f"--output_dir={output_dir}: no intact checkpoint to resume from (the run stopped before its first "
        f"checkpoint); start it again without --resume and another --output_dir"
    )


def remove_leftovers(output_dir: Path) -> None:
    """Delete what a killed run left half-written (its checkpoint folder and link under temporary names)."""
    for path in (Path(output_dir) / CHECKPOINTS).glob(".*"):
        if path.is_symlink() or path.is_file():
            path.unlink()
        else:
            shutil.rmtree(path, ignore_errors=True)


def save(
    output_dir: Path,
    step: int,
    handle: Any,
    optimizer: Any,
    scheduler: Any,
    grad_scaler: Any,
    config: TrainConfig,
    dataset: tuple[str, dict[str, Any]],
    robot: RobotSpec | None,
    training: dict[str, Any],
    lerobot_config: Any = None,
) -> Path:
    """Write the checkpoint of `step` under a temporary name, rename it, then repoint `last`.

    Its `pretrained_model/` holds policyzoo's run config (`policyzoo_train_config.json`) and, for a LeRobot
    policy, LeRobot's (`train_config.json`, from `lerobot_config`), which `lerobot-train --config_path` reads."""
    from policyzoo_runtime.train import state

    final = step_dir(output_dir, step)
    with atomic_directory(final) as folder:
        pretrained = folder / PRETRAINED
        handle.save(pretrained)
        write_meta(pretrained, _meta(pretrained, handle.spec, dataset, robot, training))
        (pretrained / CHECKPOINT_CONFIG_FILE).write_text(config.to_json())
        if lerobot_config is not None:
            lerobot_config.save_pretrained(pretrained)
        state.save(folder / TRAINING_STATE, step, optimizer, scheduler, grad_scaler)
    _point_last(final)
    return final


def _meta(
    pretrained: Path,
    spec: PolicySpec,
    dataset: tuple[str, dict[str, Any]],
    robot: RobotSpec | None,
    training: dict[str, Any],
) -> CheckpointMeta:
    repo_id, info = dataset
    update = {
        "robot": robot,
        "dataset": DatasetRef(repo_id=repo_id, fingerprint=fingerprint(info)),
        "training": training,
    }
    meta = read_meta(pretrained)
    if meta is not None:
        return meta.model_copy(update=update)
    entry = get_registry().policies.get(spec.type)
    return CheckpointMeta(
        policy_type=spec.type,
        distribution=entry.distribution if entry else "(unknown)",
        version=entry.version if entry else "0",
        spec=spec.model_dump(mode="json"),
        **update,
    )


def _point_last(target: Path) -> None:
    """Repoint `checkpoints/last` at `target` in one rename (a relative symlink, as LeRobot writes)."""
    link = target.parent / LAST
    temporary = target.parent / f".{LAST}.{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target.name)
    os.replace(temporary, link)
