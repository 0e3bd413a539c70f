"""The training loop behind `policyzoo train`: a `PolicyHandle`, a LeRobot dataset and Hugging Face accelerate."""

from __future__ import annotations

import dataclasses
import math
import random
import signal
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from accelerate import Accelerator
from tqdm import tqdm

from policyzoo.api import build_policy, load_policy
from policyzoo.errors import BadInput
from policyzoo.files import write_atomic
from policyzoo.plugins import get_plugins
from policyzoo.specs import Features, PolicySpec
from policyzoo.train import checkpoints, prepare, state
from policyzoo.train.config import CONFIG_FILE, TrainConfig
from policyzoo.train.data import StepBatchSampler, open_dataset
from policyzoo.train.lock import output_dir_lock
from policyzoo.train.metrics import DATA_BOUND_SHARE, PLOT_FILE, MetricsLog, data_share, verdict
from policyzoo.train.run import TrainRun

DEFAULT_GRAD_CLIP = 10.0
EXIT_SIGNAL = {signal.SIGINT: 130, signal.SIGTERM: 143}


class TrainingStopped(Exception):
    """Training stopped early on purpose (Ctrl-C, a NaN loss, out of memory); the message says what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _NonFinite(Exception):
    def __init__(self, what: str, value: float) -> None:
        super().__init__(f"{what} {value}")
        self.what = what
        self.value = value


@dataclass
class TrainResult:
    output_dir: Path
    checkpoint: Path | None
    summary: dict[str, Any]

    @property
    def metrics(self) -> Path:
        return self.output_dir / "metrics.jsonl"

    @property
    def plot(self) -> Path:
        return self.output_dir / PLOT_FILE


@dataclass
class _Window:
    """Sums since the last log line."""

    steps: int = 0
    sums: dict[str, float] = field(default_factory=dict)

    def add(self, values: dict[str, float]) -> None:
        self.steps += 1
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value

    def means(self) -> dict[str, float]:
        return {key: value / self.steps for key, value in self.sums.items()}


def say(message: str, err: bool = False) -> None:
    tqdm.write(message, file=sys.stderr if err else sys.stdout)


def train(plan: prepare.Plan) -> TrainResult:
    """Run (or resume) the training `plan` (see `policyzoo.train.prepare.plan`)."""
    config, spec = plan.config, plan.spec
    device = _device(spec.device if spec else config.policy.get("device", "auto"))
    use_amp = spec.use_amp if spec else config.policy.get("use_amp", "false").lower() == "true"
    if use_amp and device.type != "cuda":
        say(
            f"warning: --policy.use_amp=true is ignored on {device.type}: mixed precision needs a CUDA GPU",
            err=True,
        )
        use_amp = False
    accelerator = Accelerator(cpu=device.type == "cpu", mixed_precision="fp16" if use_amp else "no")
    with _claim_output(plan.output_dir, config, accelerator.is_main_process):
        return _train(plan, device, accelerator)


@contextmanager
def _claim_output(output_dir: Path, config: TrainConfig, main: bool) -> Iterator[None]:
    """The main process creates the output folder (a new run) and holds its lock for the whole run."""
    if not main:
        yield
        return
    try:
        output_dir.mkdir(parents=True, exist_ok=config.resume)
    except FileExistsError:
        raise BadInput(f"--output_dir={output_dir}: another run created it just now; continue that run with "
                       f"--resume=true, or pick a new --output_dir") from None
    except OSError as exc:
        raise BadInput(f"--output_dir={output_dir}: cannot create it ({exc.strerror}); pick a folder you can "
                       f"write to") from None
    with output_dir_lock(output_dir, config.command):
        checkpoints.remove_leftovers(output_dir)  # only once no other run can be writing here
        write_atomic(output_dir / CONFIG_FILE, config.to_json())
        yield


def _train(plan: prepare.Plan, device: torch.device, accelerator: Accelerator) -> TrainResult:
    config, place, spec, pretrained, last, output_dir = (
        plan.config,
        plan.place,
        plan.spec,
        plan.pretrained,
        plan.last,
        plan.output_dir,
    )
    main = accelerator.is_main_process
    if accelerator.num_processes > 1:
        device = accelerator.device
    _seed(config.seed)
    if pretrained is None:
        assert spec is not None
        handle = build_policy(spec.model_copy(update={"device": str(device)}), place.features, plan.stats)
    else:
        handle = load_policy(pretrained, device=str(device))
        if spec is None:
            spec = handle.spec
            prepare.check_fit(spec, place, flag="--policy.path")
    if main:
        _say_camera(spec, place.features)
    dataset = open_dataset(place, handle.delta_indices())
    optimizer, scheduler = handle.optimizer_and_scheduler(config.lr, config.steps)
    start_step, rng = 0, None
    if last is not None:
        start_step, rng = state.load(
            last / checkpoints.TRAINING_STATE, optimizer, scheduler, accelerator.scaler
        )
    optimizer = accelerator.prepare(optimizer)
    parameters = list(handle.parameters())
    if accelerator.num_processes > 1:
        for parameter in parameters:
            torch.distributed.broadcast(parameter.data, src=0)
    sampler = StepBatchSampler(
        len(dataset),
        config.batch_size,
        config.seed,
        start_step,
        accelerator.process_index,
        accelerator.num_processes,
    )
    loader = torch.utils.data.DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=config.num_workers,
        pin_memory=device.type == "cuda",
        generator=torch.Generator().manual_seed(config.seed),
    )
    loop = _Loop(
        config,
        place,
        spec,
        handle,
        optimizer,
        scheduler,
        accelerator,
        parameters,
        output_dir,
        start_step,
        _grad_clip_norm(handle),
    )
    if rng is not None:
        state.set_rng_state(rng)
    return loop.run(loader)


class _Loop:
    def __init__(
        self,
        config: TrainConfig,
        place: prepare.DatasetPlace,
        spec: PolicySpec,
        handle: Any,
        optimizer: Any,
        scheduler: Any,
        accelerator: Accelerator,
        parameters: list[torch.nn.Parameter],
        output_dir: Path,
        start_step: int,
        clip: float,
    ) -> None:
        self.config, self.place, self.spec, self.handle = config, place, spec, handle
        self.optimizer, self.scheduler, self.accelerator = optimizer, scheduler, accelerator
        self.parameters, self.output_dir, self.clip = parameters, output_dir, clip
        self.main = accelerator.is_main_process
        self.step = self.start_step = start_step
        self.saved_step = start_step if config.resume else None
        self.metrics = MetricsLog(output_dir, start_step if config.resume else None) if self.main else None
        self.run_info = TrainRun(
            output_dir,
            spec,
            place.repo_id,
            config.steps,
            config.batch_size,
            start_step,
            dataclasses.asdict(config),
        )
        self.window = _Window()
        self.totals = _Window()
        self.warned_data = False
        self.started = time.perf_counter()
        self.after_step = _after_step_hook(handle)

    # -- the loop ---------------------------------------------------------------------------------------------

    def run(self, loader: Iterable[dict[str, Any]]) -> TrainResult:
        logger = self._register_wandb()
        self._emit("on_train_start", run=self.run_info)
        interrupted = False
        try:
            with (
                _stop_signals() as stop,
                tqdm(
                    total=self.config.steps,
                    initial=self.step,
                    unit="step",
                    dynamic_ncols=True,
                    disable=None if self.main else True,
                ) as bar,
            ):
                batches = iter(loader)  # data workers start here and inherit the Ctrl-C handler
                while self.step < self.config.steps:
                    interrupted = self._stopping(stop)
                    if interrupted:
                        break
                    self._one_step(batches, stop)
                    bar.update(self.step - bar.n)
            if interrupted:
                return self._interrupted(stop.signum or signal.SIGINT)
            return self._finish("finished")
        except _NonFinite as exc:
            raise self._stopped(
                "diverged",
                f"the {exc.what} became {exc.value} at step {self.step + 1}; training "
                f"stopped. {self._kept()} Check the dataset for NaN/inf values or lower "
                f"--optimizer.lr",
            ) from None
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            raise self._stopped(
                "out_of_memory",
                f"CUDA ran out of memory at step {self.step + 1} with "
                f"--batch_size={self.config.batch_size}. Lower --batch_size (e.g. "
                f"--batch_size={max(1, self.config.batch_size // 2)}) or add "
                f"--policy.use_amp=true; then --resume=true. {self._kept()}",
            ) from None
        finally:
            if logger is not None:
                get_plugins().remove(logger)

    def _one_step(self, batches: Iterator[dict[str, Any]], stop: _StopFlag) -> None:
        started = time.perf_counter()
        try:
            batch = next(batches)
        except RuntimeError:
            if stop.signum:  # a data worker was hit by the same Ctrl-C
                return
            raise
        loaded = time.perf_counter()
        loss, grad_norm, info = self._update(batch)
        done = time.perf_counter()
        self.step += 1
        values = {"loss": loss, "grad_norm": grad_norm, "update_s": done - loaded, "data_s": loaded - started}
        values.update({key: value for key, value in info.items() if key not in values})
        self.window.add(values)
        if self.step > self.start_step + 1:
            self.totals.add({"update_s": done - loaded, "data_s": loaded - started})
        if self.step % self.config.log_freq == 0 or self.step == 1 or self.step == self.config.steps:
            self._log()
        if self.step % self.config.save_freq == 0 or self.step == self.config.steps:
            self._save("running" if self.step < self.config.steps else "finished")

    def _update(self, batch: dict[str, Any]) -> tuple[float, float, dict[str, float]]:
        self.handle.train_mode(True)
        with self.accelerator.autocast():
            loss, info = self.handle.loss(batch)
        value = float(loss.detach())
        if not math.isfinite(value):
            raise _NonFinite("loss", value)
        self.accelerator.backward(loss)
        self._average_gradients()
        grad_norm = float(self.accelerator.clip_grad_norm_(self.parameters, self.clip))
        if not math.isfinite(grad_norm) and self.accelerator.scaler is None:
            raise _NonFinite("gradient norm", grad_norm)
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        if self.scheduler is not None:
            self.scheduler.step()
        if self.after_step is not None:
            self.after_step()
        return value, grad_norm, info

    def _average_gradients(self) -> None:
        """All-reduce gradients across processes (the handle is not a module accelerate can wrap)."""
        if self.accelerator.num_processes == 1:
            return
        trainable = [p for p in self.parameters if p.requires_grad]
        for parameter in trainable:
            if parameter.grad is None:
                parameter.grad = torch.zeros_like(parameter)
        flat = self.accelerator.reduce(torch.cat([p.grad.reshape(-1) for p in trainable]), reduction="mean")
        offset = 0
        for parameter in trainable:
            count = parameter.grad.numel()
            parameter.grad.copy_(flat[offset : offset + count].view_as(parameter.grad))
            offset += count

    def _stopping(self, stop: _StopFlag) -> bool:
        if self.accelerator.num_processes == 1:
            return bool(stop.signum)
        flag = torch.tensor([1.0 if stop.signum else 0.0], device=self.accelerator.device)
        return bool(self.accelerator.reduce(flag, reduction="sum").item() > 0)

    # -- logging and checkpoints --------------------------------------------------------------------------------

    def _log(self) -> None:
        if not self.main or not self.window.steps:
            return
        means = self.window.means()
        row = {
            "step": self.step,
            "loss": means.pop("loss"),
            "grad_norm": means.pop("grad_norm"),
            "lr": self.optimizer.param_groups[0]["lr"],
            "update_s": means.pop("update_s"),
            "data_s": means.pop("data_s"),
            **means,
        }
        self.window = _Window()
        say(
            f"step:{row['step']} loss:{row['loss']:.4f} grad_norm:{row['grad_norm']:.3f} lr:{row['lr']:.2e} "
            f"update_s:{row['update_s']:.3f} data_s:{row['data_s']:.3f}"
        )
        assert self.metrics is not None
        self.metrics.append(row)
        self._emit("on_train_step", run=self.run_info, step=self.step, metrics=row)
        share = data_share(row["data_s"], row["update_s"])
        if share > DATA_BOUND_SHARE and len(self.metrics.rows) > 2 and not self.warned_data:
            self.warned_data = True
            say(
                f"warning: waiting for data takes {share:.0%} of each step; " + _workers_hint(self.config),
                err=True,
            )

    def _save(self, status: str) -> Path | None:
        if not self.main:
            return None
        try:
            path = checkpoints.save(
                self.output_dir,
                self.step,
                self.handle,
                self.optimizer,
                self.scheduler,
                self.accelerator.scaler,
                self.config,
                (self.place.repo_id, self.place.info),
                self.place.robot,
                self.summary(status),
            )
        except OSError as exc:  # disk full, quota, permissions: the half-written folder is already removed
            raise self._stopped(
                "save_failed",
                f"could not save the checkpoint of step {self.step} in {self.output_dir} ({exc.strerror or exc}). "
                f"{self._kept()} Free space (or fix the folder's permissions), then continue with: "
                f"policyzoo train --resume=true --output_dir={self.output_dir}",
            ) from None
        self.saved_step = self.step
        assert self.metrics is not None
        if self.metrics.rows:
            self.metrics.plot(self.spec.type)
        self._emit("on_checkpoint_saved", run=self.run_info, step=self.step, path=path)
        return path

    def summary(self, status: str) -> dict[str, Any]:
        rows = self.metrics.rows if self.metrics else []
        first = rows[0]["loss"] if rows else None
        final = rows[-1]["loss"] if rows else None
        totals = self.totals.sums
        return {
            "status": status,
            "steps": self.step,
            "start_step": self.start_step,
            "batch_size": self.config.batch_size,
            "first_loss": first,
            "final_loss": final,
            "verdict": verdict(self.spec.type, first, final),
            "data_share": round(data_share(totals.get("data_s", 0.0), totals.get("update_s", 0.0)), 4),
            "mean_data_s": round(totals.get("data_s", 0.0) / max(1, self.totals.steps), 5),
            "mean_update_s": round(totals.get("update_s", 0.0) / max(1, self.totals.steps), 5),
            "wall_s": round(time.perf_counter() - self.started, 1),
            "command": self.config.command,
        }

    def _kept(self) -> str:
        if self.saved_step is None:
            return "No checkpoint had been saved yet."
        return (
            f"The last good checkpoint (step {self.saved_step}) is kept in "
            f"{self.output_dir / checkpoints.CHECKPOINTS / checkpoints.LAST}."
        )

    def _finish(self, status: str) -> TrainResult:
        summary = self.summary(status)
        self._emit("on_train_end", run=self.run_info, summary=summary)
        last = checkpoints.last_checkpoint(self.output_dir)
        if self.main:
            wall = summary["wall_s"]
            say(f"done: {self.step - self.start_step} steps in {wall:.0f} s; {summary['verdict']}")
            if summary["data_share"] > DATA_BOUND_SHARE:
                say(
                    f"note: waiting for data took {summary['data_share']:.0%} of the step time; "
                    + _workers_hint(self.config)
                )
            if self.config.push_to_hub and last is not None:
                from policyzoo.hub.push import push

                push(last / checkpoints.PRETRAINED, self.config.repo_id)
        return TrainResult(self.output_dir, last, summary)

    def _interrupted(self, signum: int) -> TrainResult:
        self._log()
        if self.step > 0 and self.saved_step != self.step:
            self._save("interrupted")
        summary = self.summary("interrupted")
        self._emit("on_train_end", run=self.run_info, summary=summary)
        raise TrainingStopped(
            f"interrupted at step {self.step}; checkpoint saved in {self.output_dir / checkpoints.CHECKPOINTS}. "
            f"Continue with: policyzoo train --resume=true --output_dir={self.output_dir}",
            EXIT_SIGNAL.get(signum, 130),
        )

    def _stopped(self, status: str, message: str) -> TrainingStopped:
        self._log()
        self._emit("on_train_end", run=self.run_info, summary=self.summary(status))
        return TrainingStopped(message)

    # -- hooks ----------------------------------------------------------------------------------------------

    def _emit(self, hook: str, **kwargs: Any) -> None:
        """Call every implementation of a lifecycle hook; one plugin's failure is reported, not fatal."""
        if not self.main:
            return
        for implementation in getattr(get_plugins().manager.hook, hook).get_hookimpls():
            try:
                implementation.function(*[kwargs[name] for name in implementation.argnames])
            except Exception as exc:  # a logger plugin must not kill a long run
                say(
                    f"warning: plugin '{implementation.plugin_name}' failed in {hook}: {type(exc).__name__}: "
                    f"{exc}",
                    err=True,
                )

    def _register_wandb(self) -> str | None:
        if not (self.config.wandb_enable and self.main):
            return None
        from policyzoo.train.wandb_logger import NAME, WandbLogger

        get_plugins().add(
            WandbLogger(self.config.wandb_project, self.config.wandb_entity, self.config.wandb_mode), NAME
        )
        return NAME


class _StopFlag:
    signum: int = 0


@contextmanager
def _stop_signals() -> Iterator[_StopFlag]:
    """Turn SIGINT/SIGTERM into a flag the loop checks between steps, so a checkpoint is never half a step."""
    flag = _StopFlag()

    def handler(signum: int, _frame: Any) -> None:
        flag.signum = signum

    try:
        previous = {sig: signal.signal(sig, handler) for sig in EXIT_SIGNAL}
    except ValueError:  # not the main thread: leave signals alone
        yield flag
        return
    try:
        yield flag
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def _workers_hint(config: TrainConfig) -> str:
    import os

    return (
        f"raise --num_workers (now {config.num_workers}; this machine has {os.cpu_count()} CPU cores), or "
        f"use smaller images"
    )


def _device(name: str) -> torch.device:
    from policyzoo.lerobot.convert import resolve_device

    device = torch.device(resolve_device(name))
    if device.type == "cuda" and not torch.cuda.is_available():
        raise BadInput(
            f"--policy.device={name}: this machine has no CUDA GPU (torch {torch.__version__}); use "
            f"--policy.device=cpu or auto"
        )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise BadInput(f"--policy.device={name}: MPS is not available here; use --policy.device=cpu or auto")
    return device


def _seed(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def _grad_clip_norm(handle: Any) -> float:
    """The LeRobot optimizer preset's `grad_clip_norm` when the handle has a LeRobot config, else 10."""
    config = getattr(handle, "config", None)
    preset = getattr(config, "get_optimizer_preset", None)
    value = (
        getattr(preset(), "grad_clip_norm", None)
        if callable(preset)
        else getattr(config, "grad_clip_norm", None)
    )
    return float(value) if value else DEFAULT_GRAD_CLIP


def _after_step_hook(handle: Any) -> Any:
    """A per-step update some policies need after the optimizer step (TD-MPC's target network)."""
    update = getattr(handle, "update", None)
    if update is None:
        update = getattr(getattr(handle, "policy", None), "update", None)
    return update if callable(update) else None


def _say_camera(spec: PolicySpec, features: Features) -> None:
    if "image_key" not in type(spec).model_fields or len(features.visual) < 2:
        return
    chosen = getattr(spec, "image_key", None) or next(iter(features.visual))
    cameras = ", ".join(features.visual)
    say(
        f"the dataset has {len(features.visual)} cameras ({cameras}); {spec.type} takes one: using {chosen}"
        + (
            ""
            if getattr(spec, "image_key", None)
            else " (the first; pick another with --policy.image_key=KEY)"
        )
    )
