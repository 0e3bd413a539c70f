"""`OUTPUT/checkpoints/<step>/{pretrained_model,training_state}` and the `last` link, written atomically."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from policyzoo.checkpoint import (
    CheckpointMeta,
    DatasetRef,
    atomic_directory,
    fingerprint,
    read_meta,
    write_meta,
)
from policyzoo.errors import BadInput
from policyzoo.registry import get_registry
from policyzoo.specs import PolicySpec, RobotSpec
from policyzoo.train.config import CONFIG_FILE, TrainConfig

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


def require_last(output_dir: Path) -> Path:
    found = last_checkpoint(output_dir)
    if found is None:
        raise BadInput(
            f"--output_dir={output_dir}: no checkpoints/{LAST} to resume from (the run stopped before its "
            f"first checkpoint); start it again without --resume and another --output_dir"
        )
    return found


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
) -> Path:
    """Write the checkpoint of `step` under a temporary name, rename it, then repoint `last`."""
    from policyzoo.train import state

    final = step_dir(output_dir, step)
    with atomic_directory(final) as folder:
        pretrained = folder / PRETRAINED
        handle.save(pretrained)
        write_meta(pretrained, _meta(pretrained, handle.spec, dataset, robot, training))
        (pretrained / CONFIG_FILE).write_text(config.to_json())
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
