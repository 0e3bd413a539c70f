"""The deploy loop against the RobotBackend and PolicyHandle protocols: timing, alignment, safety, failures."""

from __future__ import annotations

import threading
import time
from collections import deque

import numpy as np
import pytest
import torch

from policyzoo.features import Features
from policyzoo.spec import JointSpec, PolicySpec, RobotSpec
from policyzoo_runtime.deploy import DeployConfig, run_loop
from policyzoo_runtime.deploy.timeline import Timeline
from policyzoo_runtime.robot import CapturingRobot, RobotBackend

SPEC = RobotSpec(
    type="counter",
    joints=[JointSpec(name=f"j{i}", unit="deg", lower=-1000.0, upper=1000.0) for i in range(3)],
    fps=50,
)


class CounterRobot:
    """A robot whose joint j0 reads how many targets it has been sent so far."""

    spec = SPEC

    def __init__(self, observe_delay_s: float = 0.0) -> None:
        self.sent: list[np.ndarray] = []
        self.observe_delay_s = observe_delay_s

    def connect(self) -> None: ...

    def observe(self) -> dict:
        time.sleep(self.observe_delay_s)
        return {"observation.state": np.array([len(self.sent), 0.0, 0.0], dtype=np.float32)}

    def act(self, action: np.ndarray) -> None:
        self.sent.append(np.array(action, dtype=np.float64))

    def disconnect(self) -> None: ...


class TickSpec(PolicySpec):
    type = "tick"
    n_action_steps: int = 10


class TickPolicy:
    """Predicts, from an observation taken at tick t0, the chunk [t0, t0 + 1, ...] on joint j0.

    Executed at the tick it was predicted for, every action's j0 equals the tick it is sent at.
    """

    features = Features(state={"observation.state": (3,)}, action={"action": (3,)})
    device = torch.device("cpu")

    def __init__(
        self,
        chunk: int = 10,
        delay_s: float = 0.0,
        fail_on_call: int | None = None,
        nan_on_call: int | None = None,
        scale: float = 1.0,
    ) -> None:
        self.spec = TickSpec(n_action_steps=chunk)
        self.chunk, self.delay_s, self.scale = chunk, delay_s, scale
        self.fail_on_call, self.nan_on_call = fail_on_call, nan_on_call
        self.calls = 0

    def reset(self) -> None:
        self.calls = 0

    def predict_chunk(self, observation: dict) -> torch.Tensor:
        self.calls += 1
        time.sleep(self.delay_s)
        if self.calls == self.fail_on_call:
            raise RuntimeError("CUDA out of memory (simulated)")
        t0 = float(observation["observation.state"][0])
        chunk = torch.zeros(self.chunk, 3)
        chunk[:, 0] = (t0 + torch.arange(self.chunk)) * self.scale
        if self.calls == self.nan_on_call:
            chunk[3, 1] = float("nan")
        return chunk


class HistoryTickPolicy(TickPolicy):
    """A TickPolicy that reads its last three observations (`HistoryExtras`); records the ticks (j0) of the
    frames each chunk read."""

    history_frames = 3

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.frames: deque[int] = deque(maxlen=self.history_frames)
        self.read: list[list[int]] = []

    def reset(self) -> None:
        super().reset()
        self.frames.clear()
        self.read.clear()

    def observe(self, observation: dict) -> None:
        self.frames.append(int(observation["observation.state"][0]))

    def predict_chunk(self, observation: dict) -> torch.Tensor:
        self.observe(observation)
        self.read.append(list(self.frames))
        return super().predict_chunk(observation)


def one_tick_apart(read: list[list[int]]) -> bool:
    """Every chunk after the first read the three ticks up to its own."""
    return all(frames == [frames[-1] - 2, frames[-1] - 1, frames[-1]] for frames in read[1:])


def test_protocol_doubles_are_what_the_loop_expects():
    assert isinstance(CounterRobot(), RobotBackend)


def test_sync_executes_each_chunk_in_order():
    robot = CounterRobot()
    report = run_loop(robot, TickPolicy(chunk=10), DeployConfig(fps=200, duration_s=0.2))
    assert report.ok, report.stop_reason
    assert report.ticks == 40 and report.chunks == 4
    assert [a[0] for a in robot.sent] == list(range(40))


def test_async_aligns_each_chunk_to_the_ticks_elapsed_since_its_observation():
    robot = CounterRobot()
    policy = TickPolicy(chunk=20, delay_s=0.03)
    report = run_loop(robot, policy, DeployConfig(fps=50, duration_s=1.2, async_inference=True))
    assert report.ok, report.stop_reason
    assert report.chunks >= 4
    fresh = [int(a[0]) == tick for tick, a in enumerate(robot.sent)]
    # A chunk predicted from tick t0's observation arrives some ticks later; its first actions are
    # dropped so every tick still gets the action predicted for it (except while starved).
    assert sum(fresh) >= report.ticks - report.starved_ticks
    assert report.starved_ticks <= 5


def test_sync_gives_a_policy_with_a_history_the_ticks_before_each_chunk():
    robot, policy = CounterRobot(), HistoryTickPolicy(chunk=10)
    report = run_loop(robot, policy, DeployConfig(fps=200, duration_s=0.2))
    assert report.ok and [a[0] for a in robot.sent] == list(range(40))
    assert policy.read == [[0], [8, 9, 10], [18, 19, 20], [28, 29, 30]]


class CapturingCounterRobot(CounterRobot):
    """Freezes its state in the control thread; the observation is built later, in whichever thread asks."""

    def __init__(self) -> None:
        super().__init__()
        self.built_in: list[str] = []

    def capture(self):
        frozen = np.array([len(self.sent), 0.0, 0.0], dtype=np.float32)

        def build() -> dict:
            self.built_in.append(threading.current_thread().name)
            time.sleep(0.03)  # as long as a tick: would make the control loop late if it ran there
            return {"observation.state": frozen}

        return build


def test_async_builds_captured_observations_off_the_control_thread():
    robot = CapturingCounterRobot()
    assert isinstance(robot, CapturingRobot)
    report = run_loop(
        robot, TickPolicy(chunk=40, delay_s=0.02), DeployConfig(fps=50, duration_s=2.0, async_inference=True)
    )
    assert report.ok and report.chunks >= 3
    assert robot.built_in and set(robot.built_in) == {"policyzoo-predictor"}
    fresh = [int(a[0]) == tick for tick, a in enumerate(robot.sent)]  # aligned to the tick that was frozen
    assert sum(fresh) >= report.ticks - report.starved_ticks and report.starved_ticks <= 5


@pytest.mark.parametrize("robot_class", [CounterRobot, CapturingCounterRobot])
def test_async_gives_a_policy_with_a_history_the_ticks_before_each_chunk(robot_class):
    robot, policy = robot_class(), HistoryTickPolicy(chunk=20, delay_s=0.03)
    report = run_loop(robot, policy, DeployConfig(fps=50, duration_s=1.2, async_inference=True))
    assert report.ok and report.chunks >= 4
    assert len(policy.read) == report.chunks and one_tick_apart(policy.read), policy.read


@pytest.mark.slow
def test_async_keeps_deadlines_that_sync_misses():
    config = dict(fps=50, duration_s=2.0)
    sync_robot, async_robot = CounterRobot(), CounterRobot()
    sync = run_loop(sync_robot, TickPolicy(chunk=10, delay_s=0.06), DeployConfig(**config))
    asyn = run_loop(
        async_robot, TickPolicy(chunk=10, delay_s=0.06), DeployConfig(**config, async_inference=True)
    )
    assert sync.ok and asyn.ok
    assert sync.ticks == asyn.ticks == 100
    # sync: each of the 9 refills blocks for 3 periods, so each makes one tick late by 3 deadlines or more.
    assert sync.late_ticks >= 8 and sync.missed_deadlines >= 24
    assert (
        asyn.missed_deadlines <= sync.missed_deadlines // 3
    )  # generous: a loaded machine hiccups now and then
    assert asyn.on_time_pct > sync.on_time_pct


def test_limits_and_relative_target_clamp_every_sent_action():
    robot = CounterRobot()
    spec = RobotSpec(
        type="counter", joints=[JointSpec(name=f"j{i}", unit="deg", lower=-5.0, upper=50.0) for i in range(3)]
    )
    robot.spec = spec
    report = run_loop(
        robot,
        TickPolicy(chunk=10, scale=30.0),
        DeployConfig(fps=200, duration_s=0.2, max_relative_target=7.0),
    )
    sent = np.array(robot.sent)
    assert report.ok and report.clamped_ticks > 0
    assert sent.max() <= 50.0 and sent.min() >= -5.0
    assert np.abs(np.diff(sent, axis=0)).max() <= 7.0 + 1e-9
    assert report.largest_jump == pytest.approx(7.0)
    assert sent[-1, 0] == 50.0  # reached the limit, never beyond


@pytest.mark.parametrize("async_inference", [False, True])
def test_non_finite_actions_never_reach_the_robot(async_inference):
    robot = CounterRobot()
    report = run_loop(
        robot,
        TickPolicy(chunk=10, nan_on_call=2),
        DeployConfig(fps=100, duration_s=1.0, async_inference=async_inference),
    )
    assert not report.ok and "non-finite action for j1" in report.stop_reason
    assert "held position" in report.stop_reason
    sent = np.array(robot.sent)
    assert np.isfinite(sent).all()
    assert np.array_equal(sent[-1], sent[-2])  # the hold repeats the last safe target
    assert report.ticks < 100


@pytest.mark.parametrize("async_inference", [False, True])
def test_a_crashing_policy_holds_position_and_stops(async_inference):
    robot = CounterRobot()
    report = run_loop(
        robot,
        TickPolicy(chunk=10, fail_on_call=3),
        DeployConfig(fps=100, duration_s=2.0, async_inference=async_inference),
    )
    assert not report.ok
    assert report.stop_reason.startswith("policy crashed: RuntimeError: CUDA out of memory")
    assert report.stop_reason.endswith("held position and stopped")
    assert np.array_equal(robot.sent[-1], robot.sent[-2])
    assert report.ticks <= 30


def test_a_stale_observation_holds_and_stops():
    robot = CounterRobot()
    policy = TickPolicy(chunk=5)
    original = robot.observe

    def slow_after_first() -> dict:
        if robot.sent:
            robot.observe_delay_s = 0.2
        return original()

    robot.observe = slow_after_first
    report = run_loop(robot, policy, DeployConfig(fps=100, duration_s=1.0, stale_after_s=0.1))
    assert not report.ok and report.stop_reason.startswith("stale observation: reading the robot took")
    assert report.ticks == 5


def test_ctrl_c_stops_the_loop_cleanly():
    robot = CounterRobot()

    def act(action: np.ndarray) -> None:
        if len(robot.sent) == 7:
            raise KeyboardInterrupt
        robot.sent.append(np.array(action))

    robot.act = act
    report = run_loop(robot, TickPolicy(chunk=10), DeployConfig(fps=100, async_inference=True))
    assert report.stop_reason == "interrupted (Ctrl-C)" and report.ok
    assert report.ticks == 7


@pytest.mark.slow
@pytest.mark.parametrize("coeff", [0.01, 0.5, -0.2])
def test_temporal_ensembling_matches_lerobot_act(coeff):
    from lerobot.policies.act.modeling_act import ACTTemporalEnsembler

    chunk_size, generator = 8, torch.Generator().manual_seed(0)
    reference = ACTTemporalEnsembler(coeff, chunk_size)
    timeline = Timeline(coeff)
    for tick in range(20):
        chunk = torch.randn(1, chunk_size, 4, generator=generator, dtype=torch.float64)
        expected = reference.update(chunk)[0].numpy()
        timeline.add(chunk[0].numpy(), start_tick=tick, now_tick=tick)
        np.testing.assert_allclose(timeline.pop(tick), expected, rtol=1e-6)  # LeRobot weighs in float32


def test_sync_temporal_ensembling_predicts_every_tick():
    robot = CounterRobot()
    report = run_loop(
        robot, TickPolicy(chunk=10), DeployConfig(fps=200, duration_s=0.1, temporal_ensemble=0.01)
    )
    assert report.ok and report.chunks == report.ticks + 1
    # every prediction agrees on j0 = tick, so the ensemble does too (up to float64 rounding of the average)
    np.testing.assert_allclose([a[0] for a in robot.sent], range(report.ticks), rtol=1e-12)
