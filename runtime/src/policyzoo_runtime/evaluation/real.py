"""Evaluating a policy on a real robot: episodes with a reset pause between them, each marked by the operator
(s success, f failure, r retry), every kept rollout recorded into a LeRobot dataset with its mark.

During an episode, s or f marks it and ends it, r ends it to run it again, Esc ends the evaluation; an episode
that runs to its end is marked afterwards (the robot holds its last target meanwhile). In the reset pause the
right arrow ends the pause early and Esc ends the evaluation. Ctrl-C ends it too; marked episodes are kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from policyzoo.features import STATE_KEY
from policyzoo.handle import PolicyHandle
from policyzoo.interrupts import interruption, sigterm_as_interrupt
from policyzoo.spec import RobotSpec
from policyzoo_runtime.deploy.config import DeployConfig
from policyzoo_runtime.deploy.loop import run_loop
from policyzoo_runtime.deploy.report import DeployReport
from policyzoo_runtime.keys import ESC, RIGHT, KeySource
from policyzoo_runtime.robot import RobotBackend

SUCCESS, FAILURE, RETRY = "s", "f", "r"
MARKS = {SUCCESS: "success", FAILURE: "failure"}
MARK_PROMPT = "s success, f failure, r retry"


@dataclass(frozen=True)
class EvalPlan:
    episodes: int
    episode_time_s: float
    reset_time_s: float


@dataclass
class MarkedEpisode:
    index: int
    success: bool
    report: DeployReport
    final_state: list[float]
    retries: int = 0
    dataset_episode: int | None = None
    failure: str | None = None
    """Why the run stopped on its own (a policy or robot failure): the episode counts as a failure."""


@dataclass
class Evaluation:
    episodes: list[MarkedEpisode]
    stop: str = "finished"
    wall_s: float = 0.0


def eval_features(spec: RobotSpec, use_videos: bool) -> dict[str, dict[str, Any]]:
    """A recorded rollout's features: the robot's, with the mark on the last frame (`next.success`, `next.done`)."""
    from policyzoo_runtime.record.real import robot_features

    flag = {"dtype": "bool", "shape": (1,), "names": None}
    return {**robot_features(spec, use_videos), "next.success": dict(flag), "next.done": dict(flag)}


class _EpisodeKeys:
    """The tick hook of one episode: records each tick and ends the episode on a mark, a retry, the right arrow
    (mark it afterwards) or Esc."""

    def __init__(self, keys: KeySource, writer: Any, task: str) -> None:
        self.keys, self.writer, self.task = keys, writer, task
        self.key: str | None = None
        self.last_state: np.ndarray | None = None

    def __call__(self, tick: int, observation: dict[str, Any], action: np.ndarray) -> bool:
        from policyzoo_runtime.record.real import make_frame

        self.last_state = observation[STATE_KEY]
        if self.writer is not None:
            frame = make_frame(observation, action, self.task)
            frame.update({"next.success": np.array([False]), "next.done": np.array([False])})
            self.writer.add(frame)
        self.key = next(
            (key for key in self.keys.poll() if key in (SUCCESS, FAILURE, RETRY, RIGHT, ESC)), None
        )
        return self.key is not None


def evaluate_on_robot(
    policy: PolicyHandle,
    robot: RobotBackend,
    config: DeployConfig,
    plan: EvalPlan,
    keys: KeySource,
    writer: Any = None,
    say: Callable[[str], None] = print,
    status: Any = None,
) -> Evaluation:
    """Run the episodes on a connected `robot`; `writer` (a `policyzoo_runtime.lerobot.episodes.EpisodeWriter`, or None)
    records them, `status` (a `StatusLine`, or None) shows each one live."""
    episode_config = config.replace(duration_s=plan.episode_time_s)
    result = Evaluation([])
    start = time.perf_counter()
    retries = 0
    try:
        while len(result.episodes) < plan.episodes:
            index = len(result.episodes)
            hook = _EpisodeKeys(keys, writer, config.task)
            if status is not None:
                status.prefix = f"episode {index}: "
            report = run_loop(robot, policy, episode_config, on_tick=hook, status=status)
            if status is not None:
                status.close()
            if report.stop_reason.startswith("interrupted"):
                result.stop = report.stop_reason
                break
            key = hook.key if report.ok else FAILURE
            if key in (None, RIGHT):  # ran to its end, or ended early: the operator marks it now
                say(f"episode {index}: done; mark it: {MARK_PROMPT}")
                key = _wait_for(keys, (SUCCESS, FAILURE, RETRY, ESC), config.fps)
            if key == ESC:
                result.stop = "stopped (Esc)"
                break
            if key == RETRY:
                retries += 1
                say(f"episode {index}: to be run again; reset the scene")
            else:
                state = hook.last_state if hook.last_state is not None else np.zeros(len(robot.spec.joints))
                episode = MarkedEpisode(
                    index,
                    key == SUCCESS,
                    report,
                    [float(v) for v in state],
                    retries,
                    failure=None if report.ok else report.stop_reason,
                )
                if writer is not None and writer.frames:
                    writer.set_last("next.success", [episode.success])
                    writer.set_last("next.done", [True])
                    episode.dataset_episode = writer.save()
                result.episodes.append(episode)
                retries = 0
                say(_episode_line(episode))
                if not report.ok:
                    result.stop = f"stopped: {report.stop_reason}"
                    break
                if len(result.episodes) == plan.episodes:
                    break
                say(
                    f"reset the scene for episode {index + 1} ({plan.reset_time_s:g} s; right arrow: go on now)"
                )
            if writer is not None:
                writer.discard()
            if _wait_for(keys, (RIGHT, ESC), config.fps, round(plan.reset_time_s * config.fps)) == ESC:
                result.stop = "stopped (Esc)"
                break
    except KeyboardInterrupt as exc:
        result.stop = interruption(exc)
    finally:
        if writer is not None:
            writer.discard()
        if status is not None:
            status.close()
    result.wall_s = time.perf_counter() - start
    return result


def run_evaluation(
    policy: PolicyHandle,
    robot: RobotBackend,
    config: DeployConfig,
    plan: EvalPlan,
    keys: KeySource,
    open_writer: Callable[[], Any] | None = None,
    name: str = "the policy",
    say: Callable[[str], None] = print,
    status: Any = None,
) -> Evaluation:
    """`evaluate_on_robot` after checking that the policy fits; connects, opens the dataset (`open_writer()`),
    and always finalizes it, disconnects and closes `keys` (SIGTERM counts as Ctrl-C)."""
    from policyzoo_runtime.deploy.session import check_action_steps, check_policy_fits

    writer = None
    try:
        check_policy_fits(policy, robot.spec, name)
        check_action_steps(policy.spec, config.n_action_steps)
        with sigterm_as_interrupt():
            try:
                robot.connect()
                writer = open_writer() if open_writer is not None else None
                return evaluate_on_robot(policy, robot, config, plan, keys, writer, say, status)
            finally:
                try:
                    if writer is not None:
                        writer.close()
                finally:
                    robot.disconnect()
    finally:
        keys.close()


def _wait_for(keys: KeySource, wanted: tuple[str, ...], fps: int, ticks: int | None = None) -> str | None:
    """The first of `wanted` pressed within `ticks` polls at `fps` (None: however long it takes)."""
    polled = 0
    while ticks is None or polled < ticks:
        key = next((key for key in keys.poll() if key in wanted), None)
        if key is not None:
            return key
        polled += 1
        time.sleep(1.0 / fps)
    return None


def _episode_line(episode: MarkedEpisode) -> str:
    report = episode.report
    why = f" ({episode.failure})" if episode.failure else ""
    retried = f", {episode.retries} retries" if episode.retries else ""
    return (
        f"episode {episode.index}: {MARKS[SUCCESS] if episode.success else MARKS[FAILURE]}{why}: "
        f"{report.ticks} ticks, {report.on_time_pct:.1f}% on time, {report.clamped_ticks} clamped{retried}"
    )


def summarize_evaluation(
    result: Evaluation, plan: EvalPlan, policy_path: str, policy_type: str, env: str, task: str, fps: int
) -> dict[str, Any]:
    """The summary in `policyzoo eval`'s form (`eval_summary.json`; no seeds and rewards on a real robot), plus each
    episode's mark, deadlines and clamped ticks, and their totals."""
    from policyzoo_runtime.evaluation.sim import Episode, EvalConfig, summarize

    config = EvalConfig(
        policy_path=policy_path,
        env=env,
        episodes=plan.episodes,
        seed=0,
        max_steps=max(1, round(plan.episode_time_s * fps)),
        workers=1,
    )
    episodes = [
        Episode(e.index, 0, e.success, 0.0, 0.0, e.report.ticks, e.final_state, failure=e.failure)
        for e in result.episodes
    ]
    summary = summarize(config, policy_type, task, episodes, None, result.wall_s)
    summary.update(seed=None, mean_sum_reward=None, mean_max_reward=None)
    for entry, episode in zip(summary["per_episode"], result.episodes, strict=True):
        entry.update(seed=None, sum_reward=None, max_reward=None, **_episode_numbers(episode))
    reports = [episode.report for episode in result.episodes]
    on_time = sum(r.ticks - r.late_ticks for r in reports)
    periods = on_time + sum(r.missed_deadlines for r in reports)
    summary.update(
        marks=[MARKS[SUCCESS] if e.success else MARKS[FAILURE] for e in result.episodes],
        deadlines={
            "on_time_pct": round(100.0 * on_time / periods, 3) if periods else None,
            "late_ticks": sum(r.late_ticks for r in reports),
            "missed_deadlines": sum(r.missed_deadlines for r in reports),
        },
        clamped_ticks=sum(r.clamped_ticks for r in reports),
        retries=sum(e.retries for e in result.episodes),
        planned_episodes=plan.episodes,
        episode_time_s=plan.episode_time_s,
        reset_time_s=plan.reset_time_s,
        fps=fps,
        stop=result.stop,
    )
    return summary


def _episode_numbers(episode: MarkedEpisode) -> dict[str, Any]:
    report = episode.report
    return {
        "mark": MARKS[SUCCESS] if episode.success else MARKS[FAILURE],
        "retries": episode.retries,
        "dataset_episode": episode.dataset_episode,
        "on_time_pct": round(report.on_time_pct, 3),
        "late_ticks": report.late_ticks,
        "missed_deadlines": report.missed_deadlines,
        "clamped_ticks": report.clamped_ticks,
    }


def summary_lines(summary: dict[str, Any]) -> list[str]:
    successes = sum(entry["success"] for entry in summary["per_episode"])
    low, high = summary["success_interval_95"]
    deadlines = summary["deadlines"]
    on_time = "-" if deadlines["on_time_pct"] is None else f"{deadlines['on_time_pct']:.1f}%"
    return [
        f"success rate {summary['success_rate'] * 100:.1f}% ({successes}/{summary['episodes']} episodes), "
        f"95% interval {low * 100:.1f}%-{high * 100:.1f}%",
        f"marks: {', '.join(summary['marks']) or 'none'} ({summary['retries']} retries)",
        f"deadlines: {on_time} on time, {deadlines['late_ticks']} late ticks, {deadlines['missed_deadlines']} "
        f"missed; safety clamped {summary['clamped_ticks']} ticks",
        f"stopped: {summary['stop']}",
    ]
