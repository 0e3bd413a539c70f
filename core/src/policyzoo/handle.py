"""What a built policy looks like to policyzoo, whatever library implements it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from policyzoo.features import Features
from policyzoo.spec import PolicySpec

if TYPE_CHECKING:
    import torch


@runtime_checkable
class PolicyHandle(Protocol):
    """A built policy. Observations in and actions out are unnormalized, in the robot's units.

    Observations are dicts without a batch dimension (`observation.state`: (S,),
    `observation.images.NAME`: (3, H, W) floats in [0, 1], or (H, W, 3) uint8 as a camera gives it,
    `task`: str; `policyzoo_runtime.observation` checks them); `loss` takes a batched training sample as a
    LeRobot dataloader yields it.
    """

    spec: PolicySpec
    features: Features

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]: ...

    def select_action(self, observation: dict[str, Any]) -> torch.Tensor:
        """The next action, (A,); queued from a predicted chunk when the policy predicts chunks."""

    def predict_chunk(self, observation: dict[str, Any]) -> torch.Tensor:
        """A whole chunk of future actions, (T, A), without touching the action queue."""

    def reset(self) -> None: ...

    def parameters(self) -> Iterator[torch.nn.Parameter]: ...

    def save(self, directory: Path) -> None:
        """Write weights, config and normalization state into `directory` (safetensors and JSON)."""

    def delta_indices(self) -> dict[str, list[int]]:
        """Frame offsets each training sample needs per feature, e.g. {'action': [0, ..., 99]}."""

    def train_mode(self, training: bool) -> None: ...

    def optimizer_and_scheduler(self, lr: float | None, steps: int) -> tuple[Any, Any]:
        """The plugin's preset optimizer and learning-rate scheduler (None when it has none)."""

    @property
    def device(self) -> torch.device: ...


class TrainingExtras(Protocol):
    """Optional members of a `PolicyHandle` that `policyzoo train` uses when a handle has them (kept out of
    `PolicyHandle` so that `isinstance(handle, PolicyHandle)` does not ask for them). With these, the two
    protocols are everything the training loop touches."""

    configurable_optimizer: bool = False
    """True when `optimizer_and_scheduler` also takes a keyword argument `optimizer: dict[str, str] | None`,
    the `--optimizer.X` flags as strings (a `type` among them changes the optimizer); policyzoo passes it
    only then."""

    def grad_clip_norm(self) -> float | None:
        """The gradient-norm clip of the policy's optimizer preset; None (or no such method): clip at 10."""

    def update(self) -> None:
        """Called after each optimizer step, as LeRobot's loop does (TD-MPC's target network)."""

    @property
    def module(self) -> torch.nn.Module:
        """The `torch.nn.Module` that holds every trainable parameter and buffer, the one `loss` runs: what
        accelerate wraps (DDP) for several processes. Without it training wraps `parameters()` alone."""

    def drop_last_frames(self) -> int:
        """Frames at the end of every episode that are never a training sample's current frame (LeRobot's
        `drop_n_last_frames`: Diffusion's windows there would be mostly padding); None or 0: sample them all."""


class HistoryExtras(Protocol):
    """Optional members of a `PolicyHandle` that predicts from past observation frames as well as the current one
    (LeRobot's `n_obs_steps` of Diffusion and VQ-BeT). `select_action`, called every tick, keeps that history
    itself; a control loop that asks for a chunk only when the last one runs out feeds it the ticks between with
    `observe`, so that the frames a chunk reads are one tick apart, as in training."""

    @property
    def history_frames(self) -> int:
        """Observation frames each prediction reads, the current one included (1: no history)."""

    def observe(self, observation: dict[str, Any]) -> None:
        """Add one tick's observation to the history without predicting (`predict_chunk` adds its own)."""


def history_frames_of(handle: PolicyHandle) -> int:
    """The handle's `HistoryExtras.history_frames`, or 1 when it has no `observe`."""
    if not callable(getattr(handle, "observe", None)):
        return 1
    return max(1, int(getattr(handle, "history_frames", 1)))


DEFAULT_GRAD_CLIP = 10.0


def clip_norm_of(handle: PolicyHandle) -> float:
    """The handle's `TrainingExtras.grad_clip_norm()`, or `DEFAULT_GRAD_CLIP` when it has none."""
    method = getattr(handle, "grad_clip_norm", None)
    value = method() if callable(method) else None
    return float(value) if value else DEFAULT_GRAD_CLIP


def after_step_of(handle: PolicyHandle) -> Callable[[], None] | None:
    """The handle's `TrainingExtras.update` to call after each optimizer step, or None when it has none."""
    update = getattr(handle, "update", None)
    return update if callable(update) else None


def drop_last_frames_of(handle: PolicyHandle) -> int:
    """The handle's `TrainingExtras.drop_last_frames()`, or 0 when it has none."""
    method = getattr(handle, "drop_last_frames", None)
    return int(method() or 0) if callable(method) else 0


def module_of(handle: PolicyHandle) -> torch.nn.Module | None:
    """The handle's `TrainingExtras.module`, or None when it has none."""
    return getattr(handle, "module", None)


@dataclass(frozen=True)
class FineTune:
    """How `policyzoo train --policy.path` adapts a saved policy to a new dataset before training on it."""

    stats: dict[str, dict[str, Any]] | None = None
    """The new dataset's normalization statistics, by dataset key (None: keep the checkpoint's)."""
    rename_map: dict[str, str] = field(default_factory=dict)
    """Dataset key -> the key the policy was trained on (LeRobot's `--rename_map`)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """Spec fields to change (`--policy.X`); they must keep the shapes of the saved weights."""
    camera_shapes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """The new dataset's camera shapes (C, H, W) by dataset key: the policy takes images of these sizes."""
    absent: frozenset[str] = frozenset()
    """Cameras the policy was trained with that the new dataset lacks (a card with `cameras_optional`):
    dropped from its inputs."""

    @property
    def needs_plugin(self) -> bool:
        """True when only the policy's plugin can do it (all but keeping statistics and image sizes)."""
        return bool(self.stats is not None or self.rename_map or self.settings or self.absent)


class PolicyFactory(Protocol):
    """What a registered `factory` path points at. Its class attributes declare what it can do; their defaults
    are these (a factory may subclass this protocol to inherit them), read by `policyzoo.capabilities`."""

    lerobot_loadable: bool = True
    """True when LeRobot itself can load what `PolicyHandle.save` writes (export checks it)."""
    fine_tunable: bool = False
    """True when `load` also takes a keyword argument `finetune: FineTune | None`; policyzoo passes it only
    then (without it, a policy fine-tunes only with `--keep_checkpoint_stats=true`)."""

    def build(
        self, spec: PolicySpec, features: Features, stats: dict[str, dict[str, Any]] | None
    ) -> PolicyHandle: ...

    def load(self, directory: Path, device: str | None = None) -> PolicyHandle: ...
