"""`training_state/`: optimizer, scheduler, grad-scaler and RNG states as safetensors + JSON (never pickle)."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from policyzoo_runtime.train.checkpoint_dirs import STEP_FILE

_PARTS = ("optimizer", "scheduler", "grad_scaler", "rng")


def split(value: Any, tensors: dict[str, torch.Tensor], path: str = "") -> Any:
    """`value` as JSON-able data, with every tensor or array moved into `tensors` under a path-like key."""
    if isinstance(value, torch.Tensor):
        tensors[path] = value.detach().cpu().contiguous().clone()
        return {"__tensor__": path}
    if isinstance(value, np.ndarray):
        tensors[path] = torch.from_numpy(value.astype(np.int64) if value.dtype == np.uint32 else value.copy())
        return {"__array__": path, "dtype": str(value.dtype)}
    if isinstance(value, dict):
        items = [[key, split(item, tensors, f"{path}.{key}")] for key, item in value.items()]
        if all(isinstance(key, str) and not key.startswith("__") for key in value):
            return dict(items)
        return {"__items__": items}
    if isinstance(value, tuple):
        return {"__tuple__": [split(item, tensors, f"{path}.{i}") for i, item in enumerate(value)]}
    if isinstance(value, list):
        return [split(item, tensors, f"{path}.{i}") for i, item in enumerate(value)]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot store a {type(value).__name__} in a training state at '{path}'")


def join(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    """The inverse of `split`."""
    if isinstance(value, list):
        return [join(item, tensors) for item in value]
    if not isinstance(value, dict):
        return value
    if "__tensor__" in value:
        return tensors[value["__tensor__"]]
    if "__array__" in value:
        return tensors[value["__array__"]].numpy().astype(value["dtype"])
    if "__tuple__" in value:
        return tuple(join(item, tensors) for item in value["__tuple__"])
    if "__items__" in value:
        return {key: join(item, tensors) for key, item in value["__items__"]}
    return {key: join(item, tensors) for key, item in value.items()}


def rng_state() -> dict[str, Any]:
    state: dict[str, Any] = {
        "python": random.getstate(),
        "numpy": np.random.get_state(),
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available() and len(state["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all(state["cuda"])


def save(directory: Path, step: int, optimizer: Any, scheduler: Any, grad_scaler: Any) -> None:
    """Write everything needed to continue training at `step + 1` (the model is saved beside it)."""
    directory.mkdir(parents=True, exist_ok=True)
    parts = {
        "optimizer": optimizer.state_dict(),
        "rng": rng_state(),
        "scheduler": scheduler.state_dict() if scheduler is not None else None,
        "grad_scaler": grad_scaler.state_dict() if grad_scaler is not None else None,
    }
    for name in _PARTS:
        tensors: dict[str, torch.Tensor] = {}
        skeleton = split(parts[name], tensors, name)
        (directory / f"{name}_state.json").write_text(json.dumps(skeleton) + "\n")
        if tensors:
            save_file(tensors, str(directory / f"{name}_state.safetensors"))
    (directory / STEP_FILE).write_text(json.dumps({"step": step}) + "\n")


def load(directory: Path, optimizer: Any, scheduler: Any, grad_scaler: Any) -> tuple[int, dict[str, Any]]:
    """Restore optimizer, scheduler and scaler; return (step, RNG state) — set the RNG last, just before the loop."""
    parts: dict[str, Any] = {}
    for name in _PARTS:
        tensors_path = directory / f"{name}_state.safetensors"
        tensors = load_file(str(tensors_path)) if tensors_path.is_file() else {}
        parts[name] = join(json.loads((directory / f"{name}_state.json").read_text()), tensors)
    optimizer.load_state_dict(parts["optimizer"])
    if scheduler is not None and parts["scheduler"] is not None:
        scheduler.load_state_dict(parts["scheduler"])
    if grad_scaler is not None and parts["grad_scaler"] is not None:
        grad_scaler.load_state_dict(parts["grad_scaler"])
    step = int(json.loads((directory / STEP_FILE).read_text())["step"])
    return step, parts["rng"]
