"""The fixed-rate control loop: one safe joint target per tick, chunks predicted in line or in the background."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from policyzoo.capabilities import ChunkingSpec
from policyzoo.features import STATE_KEY
from policyzoo.handle import PolicyHandle, history_frames_of
from policyzoo.interrupts import interruption
from policyzoo_runtime.deploy.config import DeployConfig
from policyzoo_runtime.deploy.errors import (
    STOP_REASONS,
    PolicyFailure,
    RobotFailure,
    StaleObservation,
    UnsafeAction,
)
from policyzoo_runtime.deploy.predictor import (
    BackgroundPredictor,
    ChunkPredictor,
    Prediction,
    Reading,
    torch_threads,
)
from policyzoo_runtime.deploy.report import DeployReport
from policyzoo_runtime.deploy.safety import SafetyFilter
from policyzoo_runtime.deploy.timeline import Timeline
from policyzoo_runtime.robot import RobotBackend

TickHook = Callable[[int, dict[str, Any], np.ndarray], bool]
"""Called after each tick's target went out with (tick, the observation read at its start, the policy's action
for it); returning True ends the run there."""


def run_loop(
    robot: RobotBackend,
    policy: PolicyHandle,
    config: DeployConfig,
    on_tick: TickHook | None = None,
    status: Callable[[DeployReport], None] | None = None,
) -> DeployReport:
    """Drive a connected `robot` with `policy` until the duration is reached, Ctrl-C (or SIGTERM, inside
    `sigterm_as_interrupt`), `on_tick` says stop, or a failure. `status(report)` follows every tick.

    The first chunk is predicted before the clock starts. A failing policy, a non-finite action or a
    stale observation holds the last safe target and stops the loop; the report says why. With `on_tick`
    the robot is observed at every tick (to record it), not only when a chunk is predicted. A policy that reads
    past frames (`HistoryExtras`) is also given the observations of the ticks before each chunk.
    """
    with torch_threads(config.threads):
        return _Loop(robot, policy, config, on_tick, status).run()


class _Loop:
    def __init__(
        self,
        robot: RobotBackend,
        policy: PolicyHandle,
        config: DeployConfig,
        on_tick: TickHook | None = None,
        status: Callable[[DeployReport], None] | None = None,
    ) -> None:
        self.robot = robot
        self.on_tick = on_tick
        self.status = status
        self.policy = policy
        self.config = config
        self.report = DeployReport(
            mode=config.mode, fps=config.fps, inference_threads=torch.get_num_threads()
        )
        self.safety = SafetyFilter(robot.spec, config.max_relative_target)
        self.timeline = Timeline(config.temporal_ensemble)
        self.ensembling = config.temporal_ensemble is not None
        steps = config.n_action_steps or (
            policy.spec.n_action_steps if isinstance(policy.spec, ChunkingSpec) else None
        )
        sync_steps = None if config.async_inference or self.ensembling else steps
        self.predictor = ChunkPredictor(policy, config.task, sync_steps)
        self.history_frames = history_frames_of(policy)
        """Observation frames a prediction reads (`HistoryExtras`): the ticks before one are observed too."""
        self.background: BackgroundPredictor | None = None
        self.last: np.ndarray | None = None
        """The last target sent (at first: the measured position); what holding position commands."""
        self.proposed: np.ndarray | None = None
        """The policy's action for the last tick sent, before the safety filter."""

    def run(self) -> DeployReport:
        started = time.perf_counter()
        try:
            self.policy.reset()
            observation = self._observe()
            self.last = self.safety.clip_to_limits(observation[STATE_KEY])
            self._place(self.predictor.predict(observation, 0), 0)
            if self.config.async_inference:
                self.background = BackgroundPredictor(self.predictor, self.history_frames)
            self._control()
        except KeyboardInterrupt as exc:
            self.report.stop_reason = interruption(exc)
        except (PolicyFailure, UnsafeAction, StaleObservation, RobotFailure) as exc:
            self.report.ok = False
            self.report.stop_reason = f"{STOP_REASONS[type(exc)]}: {exc}; {self._hold()}"
        finally:
            if self.background is not None:
                self.background.close()
            self.report.wall_s = time.perf_counter() - started
            latencies = self.predictor.latencies
            self.report.first_chunk_s = latencies[0] if latencies else float("nan")
            self.report.latencies_s = latencies[1:]  # the first call pays one-time set-up costs
        return self.report

    def _control(self) -> None:
        period = 1.0 / self.config.fps
        n_ticks = self.config.n_ticks
        tick = 0
        slot = time.perf_counter()  # when the current tick's period starts; its deadline is one period later
        while n_ticks is None or tick < n_ticks:
            observation = self._observe() if self.on_tick is not None else None
            if self.background is None:
                self._refill_in_line(tick, observation)
            else:
                self._collect(tick)
            sent = self._send(tick)
            late = sent - (slot + period)
            if late > 0:
                self.report.late_ticks += 1
                self.report.missed_deadlines += int(late // period) + 1
                slot = sent  # restart the clock here instead of bursting to catch up
            tick += 1
            if self.status is not None:
                self.status(self.report)
            if self.on_tick is not None and self.on_tick(tick - 1, observation, self.proposed):
                break
            if self.background is not None and (n_ticks is None or tick < n_ticks):
                self._request(
                    tick
                )  # after sending, in the time left of this tick: the state tick `tick` starts from
            slot += period
            wait = slot - time.perf_counter()
            if wait > 0:
                time.sleep(wait)

    def _refill_in_line(self, tick: int, observation: dict[str, Any] | None = None) -> None:
        """Sync: predict (blocking) when the queue is empty, or every tick when ensembling; from `observation`
        when this tick has one already. A policy with a history is given the ticks its next chunk reads."""
        remaining = self.timeline.remaining(tick)
        if self.ensembling or remaining == 0:
            self._place(
                self.predictor.predict(observation if observation is not None else self._observe(), tick),
                tick,
            )
        elif remaining < self.history_frames:
            self.predictor.observe(observation if observation is not None else self._observe())

    def _collect(self, tick: int) -> None:
        finished = self.background.poll()
        if finished is not None:
            self._place(finished, tick)

    def _request(self, tick: int) -> None:
        """Async: observe and start the next chunk once the queue runs low enough for the policy's latency; a
        policy with a history is given every other tick's observation too."""
        if not self.background.busy and self._running_low(tick):
            self.background.submit(self._reading(), tick)
        elif self.history_frames > 1:
            self.background.remember(self._reading())

    def _running_low(self, tick: int) -> bool:
        """Whether the actions left would run out before a chunk asked for now arrives (or: ensembling)."""
        recent = self.predictor.latencies[-5:]
        lead = math.ceil(1.5 * max(recent) * self.config.fps) + 2 if recent else 0
        low = max(self.config.chunk_threshold * self.timeline.last_chunk_length, lead)
        return self.ensembling or self.timeline.remaining(tick) <= low

    def _reading(self) -> Reading:
        """This tick's observation; where the robot can capture its state, a function that builds it from the
        state frozen now, so that rendering runs in the background thread."""
        capture = getattr(self.robot, "capture", None)
        if callable(capture):
            frozen = capture()
            return lambda: self._observe(frozen)
        return self._observe()

    def _send(self, tick: int) -> float:
        """Send the safe target for `tick`; returns when it went out."""
        report = self.report
        action = self.timeline.pop(tick)
        if action is None:
            action = self.last
            report.starved_ticks += 1
        self.proposed = action
        safe = self.safety(action, self.last)  # finite after clipping: exactly what is sent
        if np.any(safe != action):
            report.clamped_ticks += 1
        try:
            self.robot.act(safe)
        except Exception as exc:
            raise RobotFailure(f"{type(exc).__name__}: {exc}") from exc
        sent = time.perf_counter()
        jumps = np.abs(safe - self.last)
        worst = int(np.argmax(jumps))
        if jumps[worst] > report.largest_jump:
            report.largest_jump, report.largest_jump_joint = float(jumps[worst]), self.safety.names[worst]
        self.last = safe
        report.ticks = tick + 1
        return sent

    def _place(self, prediction: Prediction, now_tick: int) -> None:
        self.timeline.add(prediction.chunk, prediction.tick, now_tick)
        self.report.chunks += 1

    def _observe(self, read: Callable[[], dict[str, Any]] | None = None) -> dict[str, Any]:
        """A fresh, valid observation from `read` (default: the robot's `observe`), or StaleObservation."""
        start = time.perf_counter()
        try:
            observation = (read or self.robot.observe)()
        except Exception as exc:
            raise StaleObservation(f"reading the robot failed: {type(exc).__name__}: {exc}") from exc
        elapsed = time.perf_counter() - start
        if elapsed > self.config.stale_after_s:
            raise StaleObservation(
                f"reading the robot took {elapsed * 1000:.0f} ms "
                f"(limit {self.config.stale_after_s * 1000:.0f} ms)"
            )
        state = np.asarray(observation.get(STATE_KEY, ()), dtype=np.float64)
        if state.shape != (len(self.robot.spec.joints),) or not np.all(np.isfinite(state)):
            raise StaleObservation(f"invalid joint state {state.tolist()}")
        return observation

    def _hold(self) -> str:
        if self.last is None:
            return "stopped before moving"
        try:
            self.robot.act(self.last)
        except Exception as exc:
            return f"stopped (holding position failed: {type(exc).__name__}: {exc})"
        return "held position and stopped"
