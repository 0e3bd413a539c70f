"""Deploy's loose ends (issue 37): the prediction thread ends with the run, the report of one or no chunk,
non-finite observations refused by name."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from policyzoo.errors import BadInput
from policyzoo.features import Features
from policyzoo.spec import JointSpec, PolicySpec, RobotSpec
from policyzoo_runtime.deploy import DeployConfig, run_loop
from policyzoo_runtime.deploy.report import DeployReport
from policyzoo_runtime.observation import prepare_observation

SPEC = RobotSpec(
    type="pair", joints=[JointSpec(name=f"j{i}", unit="deg", lower=-10.0, upper=10.0) for i in range(2)]
)
NAN, INF = float("nan"), float("inf")


class Robot:
    """Holds still; its state is the last target; `state` replaces the reading when given."""

    spec = SPEC

    def __init__(self, state: list[float] | None = None) -> None:
        self.sent: list[np.ndarray] = []
        self.state = state

    def connect(self) -> None: ...

    def observe(self) -> dict:
        state = self.state if self.state is not None else (self.sent[-1] if self.sent else [0.0, 0.0])
        return {"observation.state": np.asarray(state, dtype=np.float32)}

    def act(self, action: np.ndarray) -> None:
        self.sent.append(np.array(action, dtype=np.float64))

    def disconnect(self) -> None: ...


class Spec(PolicySpec):
    type = "slow"
    n_action_steps: int = 4


class SlowPolicy:
    """A chunk of 4 zero actions, each after `delay_s`."""

    features = Features(state={"observation.state": (2,)}, action={"action": (2,)})
    device = torch.device("cpu")
    spec = Spec()

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s

    def reset(self) -> None: ...

    def predict_chunk(self, observation: dict) -> torch.Tensor:
        time.sleep(self.delay_s)
        return torch.zeros(4, 2)


def predictor_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "policyzoo-predictor"]


def test_an_async_run_ends_its_prediction_thread_before_it_returns():
    """A prediction still in flight when the run ends is waited for: no thread (and nothing it holds, such as a
    simulator's renderers) outlives the run, to be torn down at interpreter exit."""
    report = run_loop(
        Robot(),
        SlowPolicy(delay_s=0.2),
        DeployConfig(fps=50, duration_s=0.3, async_inference=True, temporal_ensemble=0.01),
    )
    assert report.ok, report.stop_reason
    assert predictor_threads() == []


def test_a_failing_async_run_ends_its_prediction_thread_too():
    report = run_loop(
        Robot(state=[NAN, 0.0]),
        SlowPolicy(delay_s=0.2),
        DeployConfig(fps=50, duration_s=0.3, async_inference=True),
    )
    assert not report.ok and report.stop_reason.startswith("stale observation")
    assert predictor_threads() == []


# -- the report ----------------------------------------------------------------------------------------------


def test_the_report_of_one_chunk_gives_its_latency():
    robot = Robot()
    report = run_loop(robot, SlowPolicy(delay_s=0.01), DeployConfig(fps=100, duration_s=0.03))
    assert report.ok and report.chunks == 1 and report.ticks == 3
    line = report.lines()[1]
    assert "nan" not in line and line.startswith("inference (") and ": 1 chunk, p50 " in line, line
    assert report.latency_ms(50) == report.latency_ms(99) == pytest.approx(report.first_chunk_s * 1000)
    summary = report.summary()
    assert summary["inference_p50_ms"] >= 10 and summary["inference_p99_ms"] >= 10


def test_the_report_of_no_chunk_says_so():
    report = DeployReport(mode="sync", fps=30, inference_threads=1)
    assert report.lines()[1] == "inference (1 thread): no chunks"
    assert report.summary()["inference_p50_ms"] is None and report.summary()["first_chunk_ms"] is None


def test_the_report_of_many_chunks_leaves_the_first_out_of_the_percentiles():
    report = DeployReport(
        mode="sync", fps=30, inference_threads=4, chunks=3, first_chunk_s=1.0, latencies_s=[0.01, 0.03]
    )
    assert (
        report.lines()[1] == "inference (4 threads): 3 chunks, p50 20.0 ms, p99 29.8 ms (first chunk 1000 ms)"
    )


# -- non-finite observations -----------------------------------------------------------------------------------

FEATURES = Features(
    state={"observation.state": (3,)},
    visual={"observation.images.top": (3, 4, 4)},
    action={"action": (3,)},
    state_names=["a.pos", "b.pos", "c.pos"],
)


def observation(state: list[float], image: np.ndarray | None = None) -> dict:
    return {
        "observation.state": np.asarray(state),
        "observation.images.top": np.zeros((4, 4, 3), np.uint8) if image is None else image,
    }


@pytest.mark.parametrize(
    ("state", "message"),
    [
        ([0.0, NAN, 1.0], "'observation.state' holds nan at 'b.pos'; pass finite numbers"),
        ([INF, 0.0, -INF], "'observation.state' holds inf at 'a.pos' and 1 more values; pass finite numbers"),
        (torch.tensor([0.0, 0.0, -INF]), "'observation.state' holds -inf at 'c.pos'"),
    ],
)
def test_a_non_finite_state_is_refused_by_name(state, message):
    with pytest.raises(BadInput, match="^select_action: " + message.replace("(", r"\(")):
        prepare_observation(observation(state), FEATURES)


def test_a_non_finite_float_image_is_refused_by_name():
    image = np.zeros((3, 4, 4), np.float32)
    image[1, 2, 3] = NAN
    with pytest.raises(
        BadInput, match=r"^select_action: 'observation.images.top' holds nan at index 27; pass"
    ):
        prepare_observation(observation([0.0, 0.0, 0.0], image), FEATURES)


def test_finite_observations_of_any_real_dtype_pass():
    for state in (np.array([1, 2, 3], np.int64), np.array([True, False, True]), [0.5, -1e30, 1e30]):
        prepared = prepare_observation(observation(state), FEATURES)
        assert prepared["observation.state"].dtype == torch.float32


def test_deploy_holds_a_nan_reading_away_from_the_robot():
    """A NaN joint reading stops deploy as a stale observation before the policy sees it: nothing is sent."""
    robot = Robot(state=[0.0, NAN])
    report = run_loop(robot, SlowPolicy(), DeployConfig(fps=50, duration_s=0.2))
    assert not report.ok and report.stop_reason == (
        "stale observation: invalid joint state [0.0, nan]; stopped before moving"
    )
    assert robot.sent == []
