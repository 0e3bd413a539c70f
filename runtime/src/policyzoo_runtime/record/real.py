"""Recording demonstrations on a real robot driven by a leader device, with `lerobot-record`'s keys: right
arrow ends an episode (or a reset) early, left arrow records the episode again, Esc saves and stops.

Every episode is followed by a reset period (not recorded; the leader still drives the robot), except the
last one. Ctrl-C or SIGTERM keeps every finished episode (also one whose reset period was running), drops the
one being recorded, finalizes the dataset and disconnects the robot, which turns its torque off.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from policyzoo.features import ACTION_KEY, IMAGE_PREFIX, STATE_KEY
from policyzoo.spec import RobotSpec
from policyzoo_runtime.keys import ESC, LEFT, RIGHT, KeySource
from policyzoo_runtime.robot import RobotBackend
from policyzoo_runtime.teleop import Teleoperator

SIM_SIGNALS = ("next.reward", "next.success", "next.done")
PHASE_KEYS = (RIGHT, LEFT, ESC)


@dataclass(frozen=True)
class RecordPlan:
    episodes: int
    episode_time_s: float
    reset_time_s: float
    task: str
    fps: int

    def ticks(self, seconds: float) -> int:
        return max(0, round(seconds * self.fps))


@dataclass
class Recorded:
    saved: int = 0
    """Episodes saved by this run."""
    frames: int = 0
    rerecorded: int = 0
    stop: str = "finished"
    total_episodes: int = 0
    """Episodes in the dataset (with those of earlier runs, when resumed)."""


def robot_features(spec: RobotSpec, use_videos: bool) -> dict[str, dict[str, Any]]:
    """The features LeRobot records for `spec`: state, action (joint names as LeRobot's robot gives them) and
    cameras."""
    from policyzoo_runtime.record.sim import dataset_features

    return {key: value for key, value in dataset_features(spec, use_videos).items() if key not in SIM_SIGNALS}


def make_frame(observation: dict[str, Any], action: np.ndarray, task: str) -> dict[str, Any]:
    """A dataset frame: the observation's state and images, the action and the task."""
    frame = {
        key: value for key, value in observation.items() if key == STATE_KEY or key.startswith(IMAGE_PREFIX)
    }
    frame[ACTION_KEY] = np.asarray(action, dtype=np.float32)
    frame["task"] = task
    return frame


class Ticker:
    """Paces a loop at `fps`: `wait()` sleeps until the next tick is due; a late tick restarts the clock."""

    def __init__(self, fps: int) -> None:
        self.period = 1.0 / fps
        self.due = time.perf_counter() + self.period

    def wait(self) -> None:
        now = time.perf_counter()
        if self.due > now:
            time.sleep(self.due - now)
            self.due += self.period
        else:
            self.due = now + self.period


def say(progress: Any, text: str) -> None:
    """A message above the progress bar (tqdm's `write`), or on stderr without one."""
    if progress is not None:
        progress.write(text, file=sys.stderr)
    else:
        print(text, file=sys.stderr, flush=True)


KEYS_HELP = "keys: right arrow ends the episode (or the reset) early, left arrow records it again, Esc saves and stops"


def record_with_teleop(
    robot: RobotBackend,
    teleop: Teleoperator,
    open_writer: Callable[[], Any],
    keys: KeySource,
    plan: RecordPlan,
    progress: Callable[[int], Any] | None = None,
) -> Recorded:
    """Connect the robot and the leader, open the dataset (`open_writer()`: a
    `policyzoo_runtime.lerobot.episodes.EpisodeWriter`), record `plan.episodes` episodes, then always finalize the
    dataset and disconnect. `progress(total)` makes a tqdm-like bar once all is connected. SIGTERM counts as
    Ctrl-C."""
    from policyzoo.interrupts import sigterm_as_interrupt

    writer = bar = None
    with sigterm_as_interrupt():
        try:
            robot.connect()
            teleop.connect()
            writer = open_writer()
            bar = progress(plan.episodes) if progress is not None else None
            say(bar, KEYS_HELP)
            return _Recording(robot, teleop, writer, keys, plan, bar).run()
        finally:
            try:
                if bar is not None:
                    bar.close()
                if writer is not None:
                    writer.close()
            finally:
                teleop.disconnect()
                robot.disconnect()
                keys.close()


class _Recording:
    def __init__(
        self,
        robot: RobotBackend,
        teleop: Teleoperator,
        writer: Any,
        keys: KeySource,
        plan: RecordPlan,
        progress: Any,
    ) -> None:
        self.robot, self.teleop, self.writer, self.keys, self.plan = robot, teleop, writer, keys, plan
        self.progress = progress
        self.result = Recorded()
        self.ticker = Ticker(plan.fps)

    def run(self) -> Recorded:
        from policyzoo.interrupts import interruption

        result, plan = self.result, self.plan
        finished = False  # the episode's recording time is over; it waits for its reset period to end
        try:
            while result.saved < plan.episodes:
                index = self.writer.episodes
                self._status(f"episode {index}: recording")
                pressed = self._phase(plan.ticks(plan.episode_time_s), record=True)
                finished = True
                last = result.saved == plan.episodes - 1
                if ESC not in pressed and (LEFT in pressed or not last):
                    self._status(f"episode {index}: reset the scene")
                    pressed |= self._phase(plan.ticks(plan.reset_time_s), record=False)
                finished = False
                if LEFT in pressed:
                    self.writer.discard()
                    result.rerecorded += 1
                    say(self.progress, f"episode {index}: recording it again")
                else:
                    self._save()
                if ESC in pressed:
                    result.stop = "stopped (Esc)"
                    break
        except KeyboardInterrupt as exc:
            result.stop = interruption(exc)
            if finished:
                self._save()
        result.total_episodes = self.writer.episodes
        return result

    def _phase(self, ticks: int, record: bool) -> set[str]:
        """Drive the robot from the leader for `ticks` ticks (recording each one), or until a phase key."""
        pressed: set[str] = set()
        for _ in range(ticks):
            pressed.update(key for key in self.keys.poll() if key in PHASE_KEYS)
            if pressed:
                break
            observation = self.robot.observe() if record else None
            action = self.teleop.read()
            self.robot.act(action)
            if record:
                self.writer.add(make_frame(observation, action, self.plan.task))
            self.ticker.wait()
        return pressed

    def _save(self) -> None:
        frames = self.writer.frames
        if not frames:  # Esc before the first frame: nothing to keep
            return
        index = self.writer.save()
        self.result.saved += 1
        self.result.frames += frames
        if self.progress is not None:
            self.progress.update(1)
        say(self.progress, f"episode {index}: saved, {frames} frames")

    def _status(self, text: str) -> None:
        if self.progress is not None:
            self.progress.set_postfix_str(text)
