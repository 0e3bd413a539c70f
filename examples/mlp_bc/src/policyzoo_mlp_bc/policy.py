"""The mlp_bc network, its `policyzoo.PolicyHandle` and its factory, in plain PyTorch.

Imported only when a policy is built or loaded. A saved policy is `config.json` (the spec with `"type"` and
the features), `model.safetensors` (weights and normalization statistics) and `policyzoo.json`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from policyzoo import BadInput, Features
from policyzoo.checkpoint import CONFIG_FILE, WEIGHTS_FILE, CheckpointMeta, read_meta, write_meta
from policyzoo.features import ACTION_KEY

from .spec import MlpBcSpec

DISTRIBUTION = "policyzoo-mlp-bc"
PAD_KEY = "action_is_pad"


class Normalizer(nn.Module):
    """Mean/std scaling; the statistics are buffers, so they are saved in model.safetensors."""

    def __init__(self, keys: Mapping[str, tuple[int, ...]], stats: Mapping[str, Mapping[str, Any]] | None):
        super().__init__()
        means, stds = [], []
        for key, shape in keys.items():
            size = int(np.prod(shape))
            entry = (stats or {}).get(key, {})
            means.append(_vector(entry.get("mean"), size, 0.0))
            stds.append(_vector(entry.get("std"), size, 1.0))
        std = torch.cat(stds) if stds else torch.ones(0)
        self.register_buffer("mean", torch.cat(means) if means else torch.zeros(0))
        self.register_buffer("std", torch.where(std > 1e-6, std, torch.ones_like(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def inverse(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean


def _vector(value: Any, size: int, default: float) -> torch.Tensor:
    if value is None:
        return torch.full((size,), default)
    vector = torch.as_tensor(np.asarray(value, dtype=np.float32)).flatten()
    if vector.numel() != size:
        raise BadInput(f"dataset stats have {vector.numel()} values for a {size}-dim feature; "
                       f"recompute the dataset's meta/stats.json")
    return vector


class ImageEncoder(nn.Module):
    """Two strided convolutions and global average pooling: (B, 3, H, W) in [0, 1] to (B, channels)."""

    def __init__(self, size: int, channels: int) -> None:
        super().__init__()
        self.size = size
        self.layers = nn.Sequential(
            nn.Conv2d(3, channels // 2, kernel_size=5, stride=2, padding=2), nn.GELU(),
            nn.Conv2d(channels // 2, channels, kernel_size=3, stride=2, padding=1), nn.GELU(),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.layers((images - 0.5) / 0.25)


class MlpBcModel(nn.Module):
    """Normalized state and pooled camera features in, a normalized chunk (B, T, A) out."""

    def __init__(self, spec: MlpBcSpec, features: Features,
                 stats: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        super().__init__()
        self.chunk_size = spec.chunk_size
        self.action_dim = features.action_dim
        self.state_norm = Normalizer(features.state, stats)
        self.action_norm = Normalizer(features.action, stats)
        cameras = len(features.visual) if spec.use_images else 0
        self.encoder = ImageEncoder(spec.image_size, spec.image_channels) if cameras else None
        width = features.state_dim + cameras * spec.image_channels
        layers: list[nn.Module] = []
        for _ in range(spec.n_layers):
            layers += [nn.Linear(width, spec.hidden_dim), nn.GELU(), nn.Dropout(spec.dropout)]
            width = spec.hidden_dim
        layers.append(nn.Linear(width, spec.chunk_size * self.action_dim))
        self.mlp = nn.Sequential(*layers)

    def forward(self, state: torch.Tensor, images: list[torch.Tensor]) -> torch.Tensor:
        inputs = [self.state_norm(state)]
        if self.encoder is not None:
            inputs += [self.encoder(image) for image in images]
        return self.mlp(torch.cat(inputs, dim=-1)).view(-1, self.chunk_size, self.action_dim)


class MlpBcPolicy:
    """The `policyzoo.PolicyHandle` of mlp_bc: unnormalized observations in, actions in robot units out."""

    def __init__(self, spec: MlpBcSpec, features: Features, model: MlpBcModel,
                 device: str, meta: CheckpointMeta | None = None) -> None:
        self.spec = spec
        self.features = features
        self.model = model.to(device)
        self.meta = meta
        self._queue: deque[torch.Tensor] = deque()
        self._cameras = list(features.visual) if model.encoder is not None else []

    @property
    def device(self) -> torch.device:
        return self.model.action_norm.mean.device

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        predicted = self.model(self._state(batch), self._images(batch))
        target = self.model.action_norm(self._tensor(batch[ACTION_KEY]))
        error = F.l1_loss(predicted, target, reduction="none")
        if PAD_KEY in batch:
            keep = (~self._tensor(batch[PAD_KEY]).bool()).unsqueeze(-1).float()
            loss = (error * keep).sum() / (keep.sum() * error.shape[-1]).clamp_min(1.0)
        else:
            loss = error.mean()
        return loss, {"l1_loss": float(loss.detach())}

    def predict_chunk(self, observation: dict[str, Any]) -> torch.Tensor:
        keys = (*self.features.state, *self._cameras)
        missing = [key for key in keys if key not in observation]
        if missing:
            raise KeyError(f"the observation lacks {', '.join(missing)}")
        batch = {key: self._tensor(observation[key]).unsqueeze(0) for key in keys}
        training = self.model.training
        self.model.eval()
        amp = torch.autocast("cuda") if self.spec.use_amp and self.device.type == "cuda" else nullcontext()
        try:
            with torch.inference_mode(), amp:
                chunk = self.model(self._state(batch), self._images(batch))
            return self.model.action_norm.inverse(chunk.float())[0]
        finally:
            self.model.train(training)

    def select_action(self, observation: dict[str, Any]) -> torch.Tensor:
        if not self._queue:
            self._queue.extend(self.predict_chunk(observation)[: self.spec.n_action_steps])
        return self._queue.popleft()

    def reset(self) -> None:
        self._queue.clear()

    def parameters(self) -> Iterator[nn.Parameter]:
        return self.model.parameters()

    def train_mode(self, training: bool) -> None:
        self.model.train(training)

    def delta_indices(self) -> dict[str, list[int]]:
        return {key: list(range(self.spec.chunk_size)) for key in self.features.action}

    def optimizer_and_scheduler(self, lr: float | None, steps: int) -> tuple[Any, Any]:
        optimizer = torch.optim.AdamW(self.model.parameters(), lr=lr or self.spec.optimizer_lr,
                                      weight_decay=self.spec.optimizer_weight_decay)
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, steps))

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {"type": self.spec.type, **self.spec.model_dump(mode="json"),
                  "features": self.features.model_dump(mode="json")}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        weights = {name: value.detach().cpu().contiguous() for name, value in self.model.state_dict().items()}
        save_file(weights, directory / WEIGHTS_FILE, metadata={"format": "pt"})
        meta = self.meta or CheckpointMeta(policy_type=self.spec.type, distribution=DISTRIBUTION,
                                           version=_version(), spec={})
        write_meta(directory, meta.model_copy(update={"spec": self.spec.model_dump(mode="json"),
                                                      "distribution": DISTRIBUTION, "version": _version()}))

    def _state(self, batch: Mapping[str, Any]) -> torch.Tensor:
        parts = [self._tensor(batch[key]).flatten(1) for key in self.features.state]
        return torch.cat(parts, dim=-1)

    def _images(self, batch: Mapping[str, Any]) -> list[torch.Tensor]:
        return [self._tensor(batch[key]) for key in self._cameras]

    def _tensor(self, value: Any) -> torch.Tensor:
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
        return tensor.to(self.device) if tensor.dtype == torch.bool else tensor.to(self.device, torch.float32)


class MlpBcFactory:
    """Builds a new mlp_bc policy or loads a saved one (what the registered `factory` path points at)."""

    lerobot_loadable = False
    """LeRobot has no class for this policy, so `policyzoo export` says LeRobot cannot load it."""

    def build(self, spec: MlpBcSpec, features: Features,
              stats: Mapping[str, Mapping[str, Any]] | None = None) -> MlpBcPolicy:
        return MlpBcPolicy(spec, features, MlpBcModel(spec, features, stats),
                                   _device(spec.device))

    def load(self, directory: Path, device: str | None = None) -> MlpBcPolicy:
        directory = Path(directory)
        config = json.loads((directory / CONFIG_FILE).read_text())
        if config.pop("type", None) != MlpBcSpec.type or "features" not in config:
            raise BadInput(f"{directory / CONFIG_FILE}: not a saved mlp_bc policy")
        features = Features.model_validate(config.pop("features"))
        try:
            spec = MlpBcSpec(**config)
        except ValidationError as exc:
            raise BadInput(f"{directory / CONFIG_FILE}: {' '.join(str(exc).split())}") from None
        model = MlpBcModel(spec, features)
        model.load_state_dict(load_file(directory / WEIGHTS_FILE), strict=True)
        return MlpBcPolicy(spec, features, model, _device(device or "auto"), read_meta(directory))


def _device(name: str) -> str:
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BadInput(f"--policy.device={name}: CUDA is not available here; use --policy.device=cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise BadInput("--policy.device=mps: MPS is not available here; use --policy.device=cpu")
    return name


def _version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0.0.0"


factory = MlpBcFactory()
