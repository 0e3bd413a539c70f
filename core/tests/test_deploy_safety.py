"""Nothing non-finite reaches a robot: safety-filter bounds, NaN actions in deploy and eval, SIGTERM, bad flags."""

from __future__ import annotations

import json
import math
import os
import signal

import numpy as np
import pytest
import torch
from pydantic import ValidationError, model_validator

from policyzoo.errors import BadInput
from policyzoo.features import Features
from policyzoo.spec import JointSpec, PolicySpec, RobotSpec
from policyzoo_runtime.deploy import DeployConfig, deploy, run_loop
from policyzoo_runtime.deploy.errors import UnsafeAction
from policyzoo_runtime.deploy.safety import SafetyFilter

NAN, INF = float("nan"), float("inf")
SPEC = RobotSpec(
    type="pair", joints=[JointSpec(name=f"j{i}", unit="deg", lower=-10.0, upper=10.0) for i in range(2)]
)


def spec_with_limits(lower: float, upper: float) -> RobotSpec:
    """A spec with limits that validation would refuse (as a plugin bypassing it could build one)."""
    joint = JointSpec.model_construct(name="j1", unit="deg", lower=lower, upper=upper)
    return RobotSpec.model_construct(type="broken", joints=[SPEC.joints[0], joint], cameras=[], fps=30)


class Robot:
    """Records every target; its state is the last target (or zeros)."""

    def __init__(self, spec: RobotSpec = SPEC, on_act=None) -> None:
        self.spec = spec
        self.sent: list[np.ndarray] = []
        self.on_act = on_act
        self.connected = False

    def connect(self) -> None:
        self.connected = True

    def observe(self) -> dict:
        state = self.sent[-1] if self.sent else np.zeros(len(self.spec.joints))
        return {"observation.state": np.asarray(state, dtype=np.float32)}

    def act(self, action: np.ndarray) -> None:
        self.sent.append(np.array(action, dtype=np.float64))
        if self.on_act is not None:
            self.on_act(len(self.sent))

    def disconnect(self) -> None:
        self.connected = False

    # a simulator, for eval
    def reset(self, seed: int = 0) -> dict:
        self.sent.clear()
        return self.observe()

    def reward(self) -> float:
        return 0.0

    def success(self) -> bool:
        return False


class ChunkSpec(PolicySpec):
    type = "chunky"
    chunk_size: int = 4
    n_action_steps: int = 4

    @model_validator(mode="after")
    def _fits(self) -> ChunkSpec:
        if self.n_action_steps > self.chunk_size:
            raise ValueError(
                f"n_action_steps ({self.n_action_steps}) must be <= chunk_size ({self.chunk_size})"
            )
        return self


class Policy:
    """Moves joint j0 by 1 per step; from call `bad_on_call` on, joint j1 of every action is `bad`."""

    features = Features(state={"observation.state": (2,)}, action={"action": (2,)})
    device = torch.device("cpu")

    def __init__(self, bad: float = NAN, bad_on_call: int | None = 2) -> None:
        self.spec = ChunkSpec()
        self.bad, self.bad_on_call = bad, bad_on_call
        self.calls = 0

    def reset(self) -> None:
        self.calls = 0

    def predict_chunk(self, observation: dict) -> torch.Tensor:
        self.calls += 1
        start = float(observation["observation.state"][0])
        chunk = torch.zeros(self.spec.chunk_size, 2)
        chunk[:, 0] = start + 1 + torch.arange(self.spec.chunk_size)
        if self.bad_on_call is not None and self.calls >= self.bad_on_call:
            chunk[:, 1] = self.bad
        return chunk

    def select_action(self, observation: dict) -> torch.Tensor:
        return self.predict_chunk(observation)[0]


def all_finite(robot: Robot) -> bool:
    return all(np.isfinite(target).all() for target in robot.sent)


# -- bounds ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lower", "upper"), [(NAN, 10.0), (-10.0, NAN), (-INF, 10.0), (-10.0, INF), (5.0, 5.0), (6.0, 5.0)]
)
def test_unusable_joint_limits_are_refused(lower, upper):
    with pytest.raises(ValidationError):
        JointSpec(name="j1", unit="deg", lower=lower, upper=upper)
    with pytest.raises(ValueError, match="j1 .*finite with lower < upper|finite with lower < upper: j1"):
        SafetyFilter(spec_with_limits(lower, upper))
    robot = Robot(spec_with_limits(lower, upper))
    with pytest.raises(ValueError, match="joint limits"):
        run_loop(robot, Policy(bad_on_call=None), DeployConfig(fps=100, duration_s=0.05))
    assert robot.sent == []


@pytest.mark.parametrize("step", [NAN, INF, -INF, 0.0, -1.0])
def test_unusable_relative_target_is_refused(step):
    with pytest.raises(ValueError, match="max_relative_target"):
        DeployConfig(max_relative_target=step)
    with pytest.raises(ValueError, match="max_relative_target"):
        SafetyFilter(SPEC, step)
    config = DeployConfig(fps=100, duration_s=0.05)
    object.__setattr__(config, "max_relative_target", step)  # as if the config's own check were bypassed
    robot = Robot()
    with pytest.raises(ValueError, match="max_relative_target"):
        run_loop(robot, Policy(bad_on_call=None), config)
    assert robot.sent == []


@pytest.mark.parametrize(
    "values",
    [
        dict(duration_s=NAN),
        dict(duration_s=INF),
        dict(duration_s=-1.0),
        dict(duration_s=0.0),
        dict(temporal_ensemble=NAN),
        dict(temporal_ensemble=INF),
        dict(n_action_steps=0),
        dict(fps=0),
        dict(stale_after_s=NAN),
    ],
)
def test_deploy_config_refuses_nonsense(values):
    with pytest.raises(ValueError, match=next(iter(values))):
        DeployConfig(**values)


def test_the_finite_check_runs_on_the_clipped_target():
    safety = SafetyFilter(SPEC, 1.0)
    with pytest.raises(UnsafeAction, match="non-finite target after clipping for j0"):
        safety(np.zeros(2), previous=np.array([NAN, 0.0]))
    assert np.array_equal(safety(np.array([50.0, -0.5]), previous=np.zeros(2)), [1.0, -0.5])


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
def test_a_non_finite_action_is_refused_not_clipped(bad):
    with pytest.raises(UnsafeAction, match="non-finite action for j1.pos"):
        SafetyFilter(SPEC)(np.array([0.0, bad]))


# -- deploy ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [NAN, INF, -INF])
@pytest.mark.parametrize("async_inference", [False, True])
@pytest.mark.parametrize("max_step", [None, 0.5])
def test_deploy_holds_and_reports_on_a_non_finite_action(bad, async_inference, max_step):
    robot = Robot()
    config = DeployConfig(
        fps=100, duration_s=1.0, async_inference=async_inference, max_relative_target=max_step
    )
    report = run_loop(robot, Policy(bad=bad), config)
    assert not report.ok and "unsafe action: non-finite action for j1.pos" in report.stop_reason
    assert report.stop_reason.endswith("held position and stopped")
    assert robot.sent and all_finite(robot)
    assert np.array_equal(robot.sent[-1], robot.sent[-2])  # the hold repeats the last safe target
    assert report.ticks < 100


@pytest.mark.parametrize(("signum", "reason"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_sigterm_stops_deploy_as_ctrl_c_does(signum, reason):
    def interrupt_at(count: int) -> None:
        if count == 5:
            os.kill(os.getpid(), signum)

    robot = Robot(on_act=interrupt_at)
    before = signal.getsignal(signal.SIGTERM)
    report = deploy(Policy(bad_on_call=None), robot, DeployConfig(fps=100))
    assert report.ok and report.stop_reason == f"interrupted ({reason})"
    assert 4 <= report.ticks <= 5 and all_finite(robot) and not robot.connected  # disconnected
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is only installed while deploying


def test_deploy_refuses_more_action_steps_than_the_chunk_before_connecting():
    robot = Robot()
    with pytest.raises(
        BadInput, match=r"^--n_action_steps=5: n_action_steps \(5\) must be <= chunk_size \(4\)"
    ):
        deploy(Policy(bad_on_call=None), robot, DeployConfig(fps=100, duration_s=0.05, n_action_steps=5))
    assert not robot.connected and robot.sent == []
    report = deploy(Policy(bad_on_call=None), robot, DeployConfig(fps=100, duration_s=0.05, n_action_steps=4))
    assert report.ok


BAD_FLAGS = [
    "--fps=0",
    "--fps=-3",
    "--duration_s=-1",
    "--duration_s=0",
    "--duration_s=nan",
    "--duration_s=inf",
    "--max_relative_target=nan",
    "--max_relative_target=inf",
    "--max_relative_target=0",
    "--max_relative_target=-1",
    "--n_action_steps=0",
    "--n_action_steps=-2",
    "--temporal_ensemble=nan",
    "--temporal_ensemble=inf",
    "--temporal_ensemble=-0.1",
    "--inference_threads=0",
]


@pytest.mark.parametrize("flag", BAD_FLAGS)
def test_bad_deploy_flags_are_one_line_and_exit_2(run_cli, monkeypatch, flag):
    import policyzoo.api

    def no_loading(*args, **kwargs):
        raise AssertionError("the policy was loaded before the flags were checked")

    monkeypatch.setattr(policyzoo.api, "load_policy", no_loading)
    code, out, err = run_cli("deploy", "--policy.path=/no/such/policy", "--robot.type=nothing", flag)
    assert code == 2, (out, err)
    assert (
        err.count("\n") == 1
        and err.startswith(f"policyzoo: error: {flag}: expected ")
        and "Traceback" not in err
    )


# -- eval ----------------------------------------------------------------------------------------------------


def test_eval_ends_an_episode_with_a_nan_action_as_a_failure():
    from policyzoo_runtime.evaluation.sim import run_sim_episode

    robot = Robot()
    episode = run_sim_episode(robot, Policy(), "", index=0, seed=0, max_steps=20, video=None)
    assert not episode.success and episode.length == 1  # the second action was NaN: never sent
    assert episode.failure == "unsafe action at step 1: non-finite action for j1.pos"
    assert robot.sent and all_finite(robot)


def test_eval_clips_to_joint_limits_without_a_step_limit():
    from policyzoo_runtime.evaluation.sim import run_sim_episode

    robot = Robot()
    episode = run_sim_episode(robot, Policy(bad_on_call=None), "", index=0, seed=0, max_steps=15, video=None)
    assert episode.failure is None and episode.length == 15
    assert [target[0] for target in robot.sent] == [*range(1, 11), 10, 10, 10, 10, 10]


def test_eval_writes_its_summary_when_a_policy_returns_nan(run_cli, monkeypatch, tmp_path):
    import policyzoo.api
    import policyzoo_runtime.evaluation.sim

    monkeypatch.setattr(policyzoo.api, "load_policy", lambda path, device=None: Policy())
    monkeypatch.setattr(policyzoo_runtime.evaluation.sim, "split_env", lambda env: ("pair", "sim"))
    monkeypatch.setattr(
        policyzoo_runtime.evaluation.sim, "sim_fitted_to", lambda robot_type, backend, policy: Robot()
    )
    code, out, err = run_cli(
        "eval",
        "--policy.path=nan-policy",
        "--env=pair_sim",
        "--episodes=2",
        "--videos=0",
        "--workers=1",
        "--max_steps=10",
        f"--output_dir={tmp_path}",
    )
    assert code == 0, err
    assert "episode 1: failure (unsafe action at step 1: non-finite action for j1.pos), 1 steps" in out
    summary = json.loads((tmp_path / "eval_summary.json").read_text())
    assert summary["success_rate"] == 0.0 and not math.isnan(summary["mean_sum_reward"])
    assert [e["failure"] for e in summary["per_episode"]] == [
        "unsafe action at step 1: non-finite action for j1.pos"
    ] * 2
