"""`TorchPolicy`: a policy handle in plain PyTorch but for its network; `TorchFactory` builds and loads one.

A subclass sets `spec_class`, builds its network in `make_model()` and writes `forward(state, images)` and
`loss(batch)`. `TorchPolicy` does the rest: mean/std normalization from the dataset statistics, the device,
the action queue of `select_action`, evaluation mode and mixed precision while acting, a default optimizer,
saving and loading. Its spec has `chunk_size` (actions per prediction) and `n_action_steps` (those executed
before predicting again); the default optimizer reads `optimizer_lr` and `optimizer_weight_decay`.

A saved policy is `config.json` ("type", the spec's fields and "features"), `model.safetensors` (the
network's weights, and the statistics as `state_norm.*` and `action_norm.*`) and `policyzoo.json`.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import nullcontext
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
from pydantic import ValidationError
from safetensors.torch import load_file, save_file
from torch import nn

from policyzoo.checkpoint import CONFIG_FILE, WEIGHTS_FILE, CheckpointMeta, read_meta, write_meta
from policyzoo.errors import BadInput
from policyzoo.features import ACTION_KEY, Features
from policyzoo.handle import PolicyFactory
from policyzoo.registry import provenance
from policyzoo.spec import PolicySpec

PAD_KEY = "action_is_pad"
Stats = Mapping[str, Mapping[str, Any]]


class Normalizer(nn.Module):
    """Mean/std scaling of the features in `keys`, flattened and concatenated; a feature without statistics
    is left as it is. The statistics are buffers: they are saved with the weights."""

    def __init__(self, keys: Mapping[str, tuple[int, ...]], stats: Stats | None) -> None:
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


class TorchPolicy:
    """A `policyzoo.PolicyHandle` around the network a subclass builds: unnormalized observations in, actions
    in the robot's units out."""

    spec_class: ClassVar[type[PolicySpec]]
    """The policy type's spec: `load` reads `config.json` into it."""

    def __init__(
        self,
        spec: PolicySpec,
        features: Features,
        stats: Stats | None = None,
        device: str | None = None,
        meta: CheckpointMeta | None = None,
    ) -> None:
        self.spec = spec
        self.features = features
        self.meta = meta
        """The loaded folder's `policyzoo.json` (None when new): `save` keeps its robot, dataset, training."""
        self.normalizers = nn.ModuleDict(
            {
                "state_norm": Normalizer(features.state, stats),
                "action_norm": Normalizer(features.action, stats),
            }
        )
        self.model = self.make_model()
        if set(self.normalizers) & {name for name, _ in self.model.named_children()}:
            raise TypeError(
                f"{type(self).__name__}.make_model: name no submodule state_norm or action_norm "
                f"(the statistics are saved under those names)"
            )
        target = torch_device(device or spec.device)
        self.model.to(target)
        self.normalizers.to(target)
        self._queue: deque[torch.Tensor] = deque()

    # -- what a subclass writes -------------------------------------------------------------------------

    def make_model(self) -> nn.Module:
        """The network for `self.spec` and `self.features`, newly initialised."""
        raise NotImplementedError

    def forward(self, state: torch.Tensor, images: list[torch.Tensor]) -> torch.Tensor:
        """A normalized chunk (B, T, A) from the normalized state (B, S) and the camera images (B, 3, H, W) in
        [0, 1], one per camera of `features.visual` (what `inputs` gives)."""
        raise NotImplementedError

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        """The loss of a training batch and the floats to log; `inputs`, `target` and `unpadded_mean` help."""
        raise NotImplementedError

    # -- helpers for them --------------------------------------------------------------------------------

    def inputs(self, batch: Mapping[str, Any]) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The normalized state (every state feature, flattened and concatenated) and the camera images of a
        batch, on the policy's device: what `forward` takes."""
        state = torch.cat([self._tensor(batch[key]).flatten(1) for key in self.features.state], dim=-1)
        return self.normalizers.state_norm(state), [self._tensor(batch[key]) for key in self.features.visual]

    def target(self, batch: Mapping[str, Any]) -> torch.Tensor:
        """The batch's actions (B, T, A), normalized: what `forward` learns to predict."""
        return self.normalizers.action_norm(self._tensor(batch[ACTION_KEY]))

    def unpadded_mean(self, error: torch.Tensor, batch: Mapping[str, Any]) -> torch.Tensor:
        """The mean of a per-action `error` (B, T, A) over the steps that are not padding (past the end of an
        episode)."""
        if PAD_KEY not in batch:
            return error.mean()
        keep = (~self._tensor(batch[PAD_KEY]).bool()).unsqueeze(-1).float()
        return (error * keep).sum() / (keep.sum() * error.shape[-1]).clamp_min(1.0)

    # -- PolicyHandle ------------------------------------------------------------------------------------

    @property
    def device(self) -> torch.device:
        return self.normalizers.action_norm.mean.device

    def predict_chunk(self, observation: dict[str, Any]) -> torch.Tensor:
        keys = (*self.features.state, *self.features.visual)
        missing = [key for key in keys if key not in observation]
        if missing:
            raise KeyError(f"the observation lacks {', '.join(missing)}")
        batch = {key: self._tensor(observation[key]).unsqueeze(0) for key in keys}
        training = self.model.training
        self.model.eval()
        amp = torch.autocast("cuda") if self.spec.use_amp and self.device.type == "cuda" else nullcontext()
        try:
            with torch.inference_mode(), amp:
                chunk = self.forward(*self.inputs(batch))
            return self.normalizers.action_norm.inverse(chunk.float())[0]
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
        """AdamW with the spec's learning rate (`lr` when given) and weight decay, and a cosine decay."""
        optimizer = torch.optim.AdamW(
            self.model.parameters(),
            lr=lr or self.spec.optimizer_lr,
            weight_decay=self.spec.optimizer_weight_decay,
            fused=self.device.type == "cpu" or None,  # torch's fused kernel: 4x faster than its CPU default
        )
        return optimizer, torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, steps))

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        config = {
            "type": self.spec.type,
            **self.spec.model_dump(mode="json"),
            "features": self.features.model_dump(mode="json"),
        }
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
        weights = {**self.model.state_dict(), **self.normalizers.state_dict()}
        save_file(
            {name: value.detach().cpu().contiguous() for name, value in weights.items()},
            directory / WEIGHTS_FILE,
            metadata={"format": "pt"},
        )
        distribution, version = provenance(self.spec.type)
        meta = self.meta or CheckpointMeta(
            policy_type=self.spec.type, distribution=distribution, version=version, spec={}
        )
        write_meta(
            directory,
            meta.model_copy(
                update={
                    "spec": self.spec.model_dump(mode="json"),
                    "distribution": distribution,
                    "version": version,
                }
            ),
        )

    @classmethod
    def load(cls, directory: Path, device: str | None = None) -> Self:
        """The policy `save` wrote into `directory`, on `device` (None: the best one here). Strict: a missing
        or unexpected weight is an error."""
        directory = Path(directory)
        config = json.loads((directory / CONFIG_FILE).read_text())
        if config.pop("type", None) != cls.spec_class.type or "features" not in config:
            raise BadInput(f"{directory / CONFIG_FILE}: not a saved {cls.spec_class.type} policy")
        features = Features.model_validate(config.pop("features"))
        try:
            spec = cls.spec_class(**config)
        except ValidationError as exc:
            raise BadInput(f"{directory / CONFIG_FILE}: {' '.join(str(exc).split())}") from None
        policy = cls(spec, features, device=device or "auto", meta=read_meta(directory))
        weights = load_file(directory / WEIGHTS_FILE)
        statistics = {
            name: weights.pop(name) for name in list(weights) if name.split(".")[0] in policy.normalizers
        }
        policy.normalizers.load_state_dict(statistics, strict=True)
        policy.model.load_state_dict(weights, strict=True)
        return policy

    def _tensor(self, value: Any) -> torch.Tensor:
        tensor = value if isinstance(value, torch.Tensor) else torch.as_tensor(np.asarray(value))
        return tensor.to(self.device) if tensor.dtype == torch.bool else tensor.to(self.device, torch.float32)


class TorchFactory(PolicyFactory):
    """Builds and loads the policies of one `TorchPolicy` subclass: what a plugin's `factory` path names."""

    lerobot_loadable = False
    """LeRobot has no class for a plain-PyTorch policy: `policyzoo export` says LeRobot cannot load it."""

    def __init__(self, policy_class: type[TorchPolicy]) -> None:
        self.policy_class = policy_class

    def build(self, spec: PolicySpec, features: Features, stats: Stats | None = None) -> TorchPolicy:
        return self.policy_class(spec, features, stats)

    def load(self, directory: Path, device: str | None = None) -> TorchPolicy:
        return self.policy_class.load(directory, device)


def torch_device(name: str) -> str:
    """A spec's device as torch takes it (`auto`: CUDA where there is one, else the CPU); a BadInput for a
    device this machine lacks."""
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise BadInput(f"--policy.device={name}: CUDA is not available here; use --policy.device=cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise BadInput("--policy.device=mps: MPS is not available here; use --policy.device=cpu")
    return name


def _vector(value: Any, size: int, default: float) -> torch.Tensor:
    if value is None:
        return torch.full((size,), default)
    vector = torch.as_tensor(np.asarray(value, dtype=np.float32)).flatten()
    if vector.numel() != size:
        raise BadInput(
            f"dataset stats have {vector.numel()} values for a {size}-dim feature; "
            f"recompute the dataset's meta/stats.json"
        )
    return vector
