"""The training loop behind `policyzoo train`: a `PolicyHandle`, a LeRobot dataset and Hugging Face accelerate.

This module puts a run together and steps it; each part has its own module: `precision` (device, AMP,
seeds, the Accelerator), `build` (build or load the policy), `resume` (output folder, training state, data
order), `distributed` (what accelerate wraps, for one or several processes), `update` (one batch, one
optimizer step, divergence), `signals` (Ctrl-C), `progress` (log lines, metrics, summary), `saving`
(checkpoints), `hooks` (plugin lifecycle hooks) and `wandb_logger`. Only the main process logs, writes and
calls hooks.
Pushing the result to the Hub is the caller's (`policyzoo_runtime.cli.train`).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from accelerate import Accelerator
from tqdm import tqdm

from policyzoo.capabilities import CONFIGURABLE_OPTIMIZER
from policyzoo.errors import BadInput
from policyzoo.handle import PolicyHandle, drop_last_frames_of
from policyzoo.hookspecs import TrainRun
from policyzoo.spec import PolicySpec
from policyzoo_runtime.lerobot import train_config as lerobot_train_config
from policyzoo_runtime.lerobot.datasets import open_dataset
from policyzoo_runtime.lerobot.frames import TrainingFrames, float_batches, sample_positions, training_frames
from policyzoo_runtime.lerobot.options import TrainOptions
from policyzoo_runtime.train import build, checkpoint_dirs, distributed, prepare, resume, state
from policyzoo_runtime.train.config import TrainConfig
from policyzoo_runtime.train.distributed import any_process_stopping
from policyzoo_runtime.train.hooks import emit
from policyzoo_runtime.train.metrics import PLOT_FILE
from policyzoo_runtime.train.precision import accelerator_for, process_seed, seed_everything
from policyzoo_runtime.train.progress import RunLog, say, starting
from policyzoo_runtime.train.saving import SaveFailed, Saver
from policyzoo_runtime.train.signals import StopFlag, exit_code, stop_signals
from policyzoo_runtime.train.update import NonFinite, Updater
from policyzoo_runtime.train.wandb_logger import wandb_logging


class TrainingStopped(Exception):
    """Training stopped early on purpose (Ctrl-C, a NaN loss, out of memory); the message says what to do."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class TrainResult:
    output_dir: Path
    checkpoint: Path | None
    summary: dict[str, Any]
    main: bool = True
    """False in the other processes of a multi-process run (only the main one writes, pushes, reports)."""

    @property
    def metrics(self) -> Path:
        return self.output_dir / "metrics.jsonl"

    @property
    def plot(self) -> Path:
        return self.output_dir / PLOT_FILE


def train(plan: prepare.Plan) -> TrainResult:
    """Run (or resume) the training `plan` (see `policyzoo_runtime.train.prepare.plan`), in this process or, under
    `accelerate launch`, in each of several."""
    options = TrainOptions.from_flags(plan.config.image_transforms, plan.config.scheduler)
    device, accelerator = accelerator_for(plan)
    try:
        with resume.claim_output(plan.output_dir, plan.config, accelerator.is_main_process):
            return _train(plan, options, device, accelerator)
    finally:
        accelerator.end_training()


def _train(
    plan: prepare.Plan, options: TrainOptions, device: torch.device, accelerator: Accelerator
) -> TrainResult:
    config, place = plan.config, plan.place
    seed_everything(process_seed(config.seed, accelerator))
    starting(f"loading the policy in {plan.pretrained}" if plan.pretrained else f"building {plan.spec.type}")
    handle, spec = build.build_or_load(plan, device, accelerator.is_main_process)
    if accelerator.is_main_process:
        build.say_camera(spec, place.features)
        say_batch(config, accelerator)
    starting(f"opening dataset {place.repo_id}")
    opened = open_dataset(place, handle.delta_indices(), options.image_transforms, config)
    dataset = training_frames(opened, config.video_backend)
    optimizer, scheduler = optimizer_of(handle, config)
    if options.scheduler is not None:
        scheduler = options.scheduler.build(optimizer, config.steps)
    lerobot_config = lerobot_train_config.of_handle(handle, config, options.scheduler)
    start_step, rng = resume.restore(plan.last, optimizer, scheduler, accelerator)
    drop_last = drop_last_frames_of(handle)
    positions = sample_positions(dataset, drop_last)
    if not positions and drop_last:
        raise BadInput(
            f"dataset {place.repo_id}: {spec.type} never trains on the last {drop_last} frames of an "
            f"episode (LeRobot's drop_n_last_frames) and no episode is longer; record longer episodes"
        )
    loader = resume.data_loader(dataset, positions, config, device, start_step, accelerator)
    prepared = distributed.prepare(accelerator, handle, optimizer, scheduler, loader)
    loop = _Loop(plan, spec, handle, prepared, accelerator, start_step, lerobot_config)
    if rng is not None:  # the main process continues the saved random streams; the others start new ones
        state.set_rng_state(rng)
        if not accelerator.is_main_process:
            seed_everything(process_seed(config.seed, accelerator, start_step))
    frame_keys = dataset.frame_keys if isinstance(dataset, TrainingFrames) else ()
    return loop.run(float_batches(prepared.loader, frame_keys))


def optimizer_of(handle: PolicyHandle, config: TrainConfig) -> tuple[Any, Any]:
    """The handle's optimizer and scheduler, with the `--optimizer.X` settings where its plugin takes them."""
    if not config.optimizer:
        return handle.optimizer_and_scheduler(config.lr, config.steps)
    if not CONFIGURABLE_OPTIMIZER.declared_by(handle):
        name = next(iter(config.optimizer))
        raise BadInput(
            f"--optimizer.{name}: the {handle.spec.type} plugin's optimizer takes --optimizer.lr only"
        )
    return handle.optimizer_and_scheduler(config.lr, config.steps, optimizer=config.optimizer)


def say_batch(config: TrainConfig, accelerator: Accelerator) -> None:
    """How the batch of each optimizer step is made, when it is more than one `--batch_size`."""
    processes, accumulation = accelerator.num_processes, config.gradient_accumulation_steps
    if processes * accumulation > 1:
        say(
            f"{processes} process(es) x {accumulation} accumulated batch(es) x --batch_size={config.batch_size}: "
            f"{processes * accumulation * config.batch_size} samples per optimizer step"
        )


class _Loop:
    def __init__(
        self,
        plan: prepare.Plan,
        spec: PolicySpec,
        handle: PolicyHandle,
        prepared: distributed.Prepared,
        accelerator: Accelerator,
        start_step: int,
        lerobot_config: Any,
    ) -> None:
        config, output_dir = plan.config, plan.output_dir
        self.config, self.output_dir, self.accelerator = config, output_dir, accelerator
        self.optimizer = prepared.optimizer
        self.main = accelerator.is_main_process
        self.step = start_step
        self.update = Updater(handle, prepared, accelerator)
        self.saver = Saver(output_dir, config, plan.place, prepared, accelerator, start_step, lerobot_config)
        self.log = RunLog(config, spec.type, output_dir, start_step, self.main)
        self.run_info = TrainRun(
            output_dir,
            spec,
            plan.place.repo_id,
            config.steps,
            config.batch_size,
            start_step,
            config.model_dump(),
        )

    def run(self, loader: Iterable[dict[str, Any]]) -> TrainResult:
        with wandb_logging(self.config, self.main):
            emit(self.main, "on_train_start", run=self.run_info)
            return self._steps(loader)

    def _steps(self, loader: Iterable[dict[str, Any]]) -> TrainResult:
        interrupted = False
        try:
            with (
                stop_signals() as stop,
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
                    interrupted = any_process_stopping(self.accelerator, stop.signum)
                    if interrupted:
                        break
                    self._one_step(batches, stop)
                    bar.update(self.step - bar.n)
            if interrupted:
                return self._interrupted(stop.signum or signal.SIGINT)
            return self._finish("finished")
        except NonFinite as exc:
            raise self._stopped(
                "diverged",
                f"the {exc.what} became {exc.value} at step {self.step + 1}; training "
                f"stopped. {self.saver.kept()} Check the dataset for NaN/inf values or lower "
                f"--optimizer.lr",
            ) from None
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            raise self._stopped(
                "out_of_memory",
                f"CUDA ran out of memory at step {self.step + 1} with "
                f"--batch_size={self.config.batch_size}. Lower --batch_size (e.g. "
                f"--batch_size={max(1, self.config.batch_size // 2)}) or add "
                f"--policy.use_amp=true; then --resume=true. {self.saver.kept()}",
            ) from None

    def _one_step(self, batches: Iterator[dict[str, Any]], stop: StopFlag) -> None:
        """One optimizer step: `--gradient_accumulation_steps` batches per process."""
        sums: dict[str, float] = {}
        data_s = update_s = 0.0
        grad_norm: float | None = None
        for _ in range(self.config.gradient_accumulation_steps):
            started = time.perf_counter()
            try:
                batch = next(batches)
            except RuntimeError:
                if stop.signum:  # a data worker was hit by the same Ctrl-C
                    return
                raise
            loaded = time.perf_counter()
            outcome = self.update(batch)
            update_s += time.perf_counter() - loaded
            data_s += loaded - started
            grad_norm = outcome.grad_norm
            for key, value in outcome.values.items():
                sums[key] = sums.get(key, 0.0) + value
        assert grad_norm is not None  # accelerate steps the optimizer on the last batch of each accumulation
        self.step += 1
        count = self.config.gradient_accumulation_steps
        values = {
            "loss": sums.pop("loss") / count,
            "grad_norm": grad_norm,
            "update_s": update_s,
            "data_s": data_s,
        }
        values.update({key: value / count for key, value in sums.items() if key not in values})
        self.log.add(self.step, values)
        if self.step % self.config.log_freq == 0 or self.step == 1 or self.step == self.config.steps:
            self._log()
        if self.config.save_checkpoint and (
            self.step % self.config.save_freq == 0 or self.step == self.config.steps
        ):
            self._save("running" if self.step < self.config.steps else "finished")

    def _log(self) -> None:
        row = self.log.log(self.step, self.optimizer.param_groups[0]["lr"])
        if row is not None:
            emit(self.main, "on_train_step", run=self.run_info, step=self.step, metrics=row)
            self.log.warn_if_data_bound(row)

    def _save(self, status: str) -> Path | None:
        if not self.main:
            return None
        try:
            path = self.saver.save(self.step, self.log.summary(status, self.step))
        except SaveFailed as exc:
            raise self._stopped("save_failed", str(exc)) from None
        self.log.plot()
        say(f"checkpoint of step {self.step}: {path}")
        emit(self.main, "on_checkpoint_saved", run=self.run_info, step=self.step, path=path)
        return path

    def _finish(self, status: str) -> TrainResult:
        self.accelerator.wait_for_everyone()  # every process returns once the last checkpoint is written
        summary = self.log.summary(status, self.step)
        emit(self.main, "on_train_end", run=self.run_info, summary=summary)
        if self.main:
            self.log.say_done(summary, self.step)
        return TrainResult(
            self.output_dir, checkpoint_dirs.last_checkpoint(self.output_dir), summary, self.main
        )

    def _interrupted(self, signum: int) -> TrainResult:
        self._log()
        if self.step > 0 and self.saver.saved_step != self.step:
            self._save("interrupted")
        self.accelerator.wait_for_everyone()
        emit(self.main, "on_train_end", run=self.run_info, summary=self.log.summary("interrupted", self.step))
        raise TrainingStopped(
            f"interrupted at step {self.step}; checkpoint saved in {self.output_dir / checkpoint_dirs.CHECKPOINTS}. "
            f"Continue with: policyzoo train --resume=true --output_dir={self.output_dir}",
            exit_code(signum),
        )

    def _stopped(self, status: str, message: str) -> TrainingStopped:
        self._log()
        emit(self.main, "on_train_end", run=self.run_info, summary=self.log.summary(status, self.step))
        return TrainingStopped(message)
