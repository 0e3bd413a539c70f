"""`policyzoo eval`: roll a policy out in a simulator backend; success rate, reward, length and videos.

An environment name is `<robot type>_<backend>` (e.g. `so101_bimanual_sim`): the robot comes from the
registry and renders only the cameras the policy was trained on. Episode i starts from seed `seed + i`
(the simulator's reset and torch's generator), so the same seed gives the same summary, with any number of
worker processes: `workers > 1` runs episodes in parallel, each worker with its own policy and simulator.
Episodes are planned as they are handed out and videos encoded as frames come, so memory does not grow with
`--episodes` or `--max_steps`. Interrupted (Ctrl-C, SIGTERM, SIGHUP), an evaluation ends its workers and writes
the finished episodes' summary, marked `partial`.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BeforeValidator, ConfigDict, Field

from policyzoo.errors import BadInput
from policyzoo.features import IMAGE_PREFIX, check_compatibility
from policyzoo.flags import Flag
from policyzoo.interrupts import deferred_interrupts, interruption
from policyzoo.spec import CameraSpec, Device, RobotSpec
from policyzoo_runtime.counts import MAX_EPISODE_STEPS, MAX_EPISODES, MAX_SEED, WORKERS_PER_CORE, cpu_cores
from policyzoo_runtime.settings import Settings
from policyzoo_runtime.writable import check_writable

SUMMARY_FILE = "eval_summary.json"
DEFAULT_STEPS = 300
UNSEEN_SEED = 100_000
"""First seed of evaluations after training on recorded demos, which use seeds 0 to N-1: no evaluated scene
was seen in training."""
AHEAD_PER_WORKER = 2
"""Episodes handed to each worker process ahead of the one it runs (the rest of the plan waits)."""


_MOST_WORKERS = WORKERS_PER_CORE * cpu_cores()


def _named_folder(value: Any) -> Any:
    """An empty `--output_dir=` is a mistake, not the current folder (which `--output_dir=.` names)."""
    if isinstance(value, str) and not value.strip():
        raise ValueError(
            "an empty folder name; name a folder, or leave the flag out for outputs/eval/DATE_TIME"
        )
    return value


class EvalConfig(Settings):
    """An evaluation's settings; `policyzoo eval` binds its flags to the fields (`policyzoo.flags.bind`)."""

    model_config = ConfigDict(frozen=True)

    policy_path: Annotated[str, Flag("policy.path")]
    env: Annotated[str, Flag("env", aliases=("env.type",))] = "so101_bimanual_sim"
    episodes: Annotated[
        int, Field(ge=1), Flag("episodes", aliases=("eval.n_episodes",), most=MAX_EPISODES)
    ] = 10
    seed: Annotated[int, Field(ge=0), Flag("seed", most=MAX_SEED)] = 0
    output_dir: Annotated[Path, BeforeValidator(_named_folder), Flag("output_dir")] = Path("outputs/eval")
    max_steps: Annotated[int | None, Field(ge=1), Flag("max_steps", most=MAX_EPISODE_STEPS)] = None
    """Steps per episode; None: the simulator's `max_episode_steps`, else 300."""
    videos: Annotated[int, Field(ge=0), Flag("videos", most=MAX_EPISODES)] = 4
    """Episodes recorded as mp4 (the first ones); 0 records none."""
    task: Annotated[str | None, Flag("task")] = None
    device: Annotated[Device | None, Flag("policy.device")] = None
    workers: Annotated[
        int,
        Field(ge=1),
        Flag(
            "workers",
            f"a whole number >= 1, at most {_MOST_WORKERS} ({WORKERS_PER_CORE} per CPU core of this machine)",
            aliases=("eval.batch_size",),
            most=_MOST_WORKERS,
        ),
    ] = 1
    """Worker processes running episodes in parallel (1: in this process)."""
    overwrite: Annotated[bool, Flag("overwrite")] = False
    """Replace an earlier evaluation's summary and videos in `output_dir` (else: refuse)."""


@dataclass
class Episode:
    index: int
    seed: int
    success: bool
    sum_reward: float
    max_reward: float
    length: int
    final_state: list[float]
    video: str | None = None
    max_stage: int | None = None
    """The highest task stage reached, for simulators that report stages (`policyzoo_runtime.robot.StagedTask`)."""
    failure: str | None = None
    """Why the episode was cut short as a failure (an action the safety filter refused); None otherwise."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "seed": self.seed,
            "success": self.success,
            "sum_reward": round(self.sum_reward, 6),
            "max_reward": round(self.max_reward, 6),
            "max_stage": self.max_stage,
            "length": self.length,
            "final_state": [round(v, 4) for v in self.final_state],
            "video": self.video,
            "failure": self.failure,
        }


def evaluate(config: EvalConfig, progress: Any = None) -> dict[str, Any]:
    """Run the episodes, write the videos and `eval_summary.json`; return the summary. Interrupted, write the
    summary of the episodes that finished (with `partial`: why it stopped, episodes planned) and re-raise."""
    from policyzoo.api import load_policy

    robot_type, backend = split_env(config.env)
    policy = load_policy(config.policy_path, device=config.device)
    robot = sim_fitted_to(
        robot_type, backend, policy
    )  # checks that policy and robot fit, before any worker starts
    task = config.task or getattr(robot, "task", "") or ""
    policy_type, stages = policy.spec.type, getattr(robot, "stages", None)
    workers = max(1, min(config.workers, config.episodes))
    max_steps = config.max_steps or int(getattr(robot, "max_episode_steps", DEFAULT_STEPS))
    config = config.replace(max_steps=max_steps, workers=workers)
    output_dir = Path(config.output_dir)
    check_output(output_dir, config.overwrite)
    for stale in earlier_results(output_dir):  # the policy loaded and fits: now the old results go
        stale.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    episodes: list[Episode] = []  # the finished ones, as they finish
    stop = None
    try:
        if config.workers > 1:
            robot.disconnect()
            del policy
            _run_in_workers(config, task, output_dir, episodes, progress)
        else:
            _run_here(config, robot, policy, task, output_dir, episodes, progress)
    except KeyboardInterrupt as exc:
        stop = exc
    episodes.sort(key=lambda episode: episode.index)
    summary = summarize(config, policy_type, task, episodes, stages, time.perf_counter() - start)
    _write_summary(output_dir, summary, episodes, stop, config.episodes)
    if stop is not None:
        raise stop
    return summary


def _write_summary(
    output_dir: Path,
    summary: dict[str, Any],
    finished: list[Episode],
    stop: KeyboardInterrupt | None,
    planned: int,
) -> None:
    """`eval_summary.json`, whatever signal comes meanwhile; after `stop` marked `partial`, and without the
    videos of the episodes it cut short."""
    with deferred_interrupts():
        if stop is not None:
            summary["partial"] = {"stop": interruption(stop), "episodes_planned": planned}
            _remove_unfinished_videos(output_dir, finished)
        (output_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")


def check_output(output_dir: Path, overwrite: bool) -> None:
    """BadInput where `output_dir` cannot be written, or holds an earlier evaluation and `overwrite` is off."""
    check_writable(output_dir, "--output_dir")
    if not overwrite and earlier_results(output_dir):
        raise BadInput(
            f"--output_dir={output_dir}: holds an earlier evaluation ({SUMMARY_FILE}, videos); "
            f"pick a new --output_dir, or replace it with --overwrite=true"
        )


def earlier_results(output_dir: Path) -> list[Path]:
    """The files an earlier evaluation wrote into `output_dir`."""
    if not output_dir.is_dir():
        return []
    return sorted([*output_dir.glob("episode_*.mp4"), *output_dir.glob(SUMMARY_FILE)])


def _remove_unfinished_videos(output_dir: Path, finished: list[Episode]) -> None:
    """Delete the videos of episodes cut short (the folder held no other videos: `earlier_results`)."""
    kept = {episode.video for episode in finished}
    for path in output_dir.glob("episode_*.mp4"):
        if path.name not in kept:
            path.unlink(missing_ok=True)


def _episode_plan(config: EvalConfig, output_dir: Path) -> Iterator[tuple[int, int, Path | None]]:
    """(index, seed, video path or None) of each episode, made as the episodes are handed out."""
    for index in range(config.episodes):
        yield (
            index,
            config.seed + index,
            output_dir / f"episode_{index:03d}.mp4" if index < config.videos else None,
        )


def _finished(episode: Episode, episodes: list[Episode], progress: Any) -> None:
    episodes.append(episode)
    if progress is not None:
        progress(episode)


def _run_here(
    config: EvalConfig,
    robot: Any,
    policy: Any,
    task: str,
    output_dir: Path,
    episodes: list[Episode],
    progress: Any,
) -> None:
    """The episodes one after the other in this process; each is added to `episodes` when it ends."""
    import torch

    try:
        robot.connect()
        for index, seed, video in _episode_plan(config, output_dir):
            torch.manual_seed(seed)
            _finished(
                run_sim_episode(robot, policy, task, index, seed, config.max_steps, video), episodes, progress
            )
    finally:
        robot.disconnect()


def _run_in_workers(
    config: EvalConfig, task: str, output_dir: Path, episodes: list[Episode], progress: Any
) -> None:
    """The episodes spread over `config.workers` processes (spawned: MuJoCo's GL contexts are per process),
    each added to `episodes` when it ends. Each worker has `AHEAD_PER_WORKER` episodes queued at most; an
    interruption or a failure ends every worker before it propagates."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    from policyzoo_runtime.children import end_processes

    threads = max(1, cpu_cores() // config.workers)
    context = multiprocessing.get_context("spawn")
    plan = _episode_plan(config, output_dir)
    others = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(
        config.workers,
        mp_context=context,
        initializer=_start_worker,
        initargs=(config, task, threads, os.getpid()),
    )
    try:
        running = {
            pool.submit(_worker_episode, *item)
            for item in itertools.islice(plan, AHEAD_PER_WORKER * config.workers)
        }
        while running:
            done, running = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                _finished(future.result(), episodes, progress)
            running |= {pool.submit(_worker_episode, *item) for item in itertools.islice(plan, len(done))}
    except BaseException:
        end_processes(set(multiprocessing.active_children()) - others)
        raise
    finally:
        pool.shutdown(cancel_futures=True)


_worker: dict[str, Any] = {}
"""In a worker process: its policy, simulator, task and step limit."""


def _start_worker(config: EvalConfig, task: str, threads: int, parent_pid: int) -> None:
    import torch

    from policyzoo.api import load_policy
    from policyzoo_runtime.children import die_with_parent, leave_interrupts_to_parent

    die_with_parent(parent_pid)
    leave_interrupts_to_parent()
    torch.set_num_threads(threads)
    policy = load_policy(config.policy_path, device=config.device)
    robot = sim_fitted_to(*split_env(config.env), policy)
    robot.connect()
    _worker.update(policy=policy, robot=robot, task=task, max_steps=config.max_steps)


def _worker_episode(index: int, seed: int, video: Path | None) -> Episode:
    import torch

    torch.manual_seed(seed)
    return run_sim_episode(
        _worker["robot"], _worker["policy"], _worker["task"], index, seed, _worker["max_steps"], video
    )


def split_env(env: str) -> tuple[str, str]:
    """`so101_bimanual_sim` -> (`so101_bimanual`, `sim`), checked against the registry."""
    from policyzoo.registry import get_registry

    robot_type, _, backend = env.rpartition("_")
    registry = get_registry()
    if not robot_type or robot_type not in registry.robots:
        known = [
            f"{name}_{b}"
            for name, entry in sorted(registry.robots.items())
            for b in entry.backends
            if b == "sim"
        ]
        hint = ", ".join(known) or "none installed (pip install 'policyzoo-so101[sim]')"
        raise BadInput(f"--env={env}: unknown simulator environment; available: {hint}")
    if backend not in registry.robots[robot_type].backends:
        raise BadInput(
            f"--env={env}: robot '{robot_type}' has no '{backend}' backend; backends: "
            f"{', '.join(registry.robots[robot_type].backends) or 'none'}"
        )
    return robot_type, backend


def sim_env_for_task(task: str) -> str:
    """The simulator environment (`<robot>_sim`) of `task`: robots declare theirs as `RobotSpec.sim_task`."""
    from policyzoo.registry import get_registry

    robots = get_registry().robots
    for name, entry in sorted(robots.items()):
        if entry.spec.sim_task == task and "sim" in entry.backends:
            return f"{name}_sim"
    known = sorted({entry.spec.sim_task for entry in robots.values() if entry.spec.sim_task})
    raise BadInput(
        f"--task={task}: no installed robot simulates it; tasks: {', '.join(known) or 'none'} "
        f"(pip install 'policyzoo-so101[sim]')"
    )


def sim_fitted_to(robot_type: str, backend: str, policy: Any) -> Any:
    """The simulator with the cameras the policy takes, after checking that policy and robot fit (built by
    `policyzoo_runtime.robot.make_robot`)."""
    from policyzoo.registry import get_registry
    from policyzoo_runtime.robot import make_robot

    entry = get_registry().robot(robot_type, flag="--env")
    spec = robot_spec_for(entry.spec, policy.features.visual)
    problems = check_compatibility(policy.spec, policy.features, spec)
    if problems:
        raise BadInput(
            f"--env: the policy does not fit robot '{robot_type}': "
            + "; ".join(str(problem) for problem in problems)
        )
    return make_robot(robot_type, backend, spec=spec, simulator=True, flag="--env")


def robot_spec_for(spec: RobotSpec, visual: dict[str, tuple[int, int, int]]) -> RobotSpec:
    """`spec` with one camera per image the policy takes, at the size it was trained on."""
    cameras = [
        CameraSpec(name=key.removeprefix(IMAGE_PREFIX), height=shape[1], width=shape[2], fps=spec.fps)
        for key, shape in sorted(visual.items())
    ]
    return spec.model_copy(update={"cameras": cameras})


def run_sim_episode(
    robot: Any, policy: Any, task: str, index: int, seed: int, max_steps: int, video: Path | None
) -> Episode:
    """One rollout; actions pass deploy's safety filter (joint limits), and one it refuses (non-finite)
    ends the episode as a failure that says why."""
    import numpy as np
    import torch

    from policyzoo_runtime.deploy.errors import UnsafeAction
    from policyzoo_runtime.deploy.predictor import to_policy_observation
    from policyzoo_runtime.deploy.safety import SafetyFilter

    safety = SafetyFilter(robot.spec)
    failure = None
    observation = robot.reset(seed=seed)
    policy.reset()
    writer = Mp4Writer(video, robot.spec.fps) if video is not None else None
    steps, sum_reward, max_reward = 0, 0.0, -math.inf
    max_stage = 0 if hasattr(robot, "stage") else None
    success = False
    try:
        if writer is not None:
            writer.add(camera_frame(observation))
        with torch.no_grad():
            for _ in range(max_steps):
                action = policy.select_action(to_policy_observation(observation, task, policy.device))
                try:
                    target = safety(action.detach().float().cpu().numpy().reshape(-1))
                except UnsafeAction as exc:
                    failure = f"unsafe action at step {steps}: {exc}"
                    break
                robot.act(target)
                observation = robot.observe()
                reward = float(robot.reward())
                steps, sum_reward, max_reward = steps + 1, sum_reward + reward, max(max_reward, reward)
                if max_stage is not None:
                    max_stage = max(max_stage, int(robot.stage()))
                if writer is not None:
                    writer.add(camera_frame(observation))
                if robot.success():
                    success = True
                    break
    finally:
        written = writer is not None and writer.close()
    final_state = [float(v) for v in np.asarray(observation["observation.state"]).reshape(-1)]
    return Episode(
        index,
        seed,
        success,
        sum_reward,
        max_reward if steps else 0.0,
        steps,
        final_state,
        video.name if written and video is not None else None,
        max_stage,
        failure,
    )


def camera_frame(observation: dict[str, Any]) -> Any:
    """All camera images of an observation side by side (H x sum(W) x 3, uint8), or None without cameras."""
    import numpy as np

    images = [observation[key] for key in sorted(observation) if key.startswith(IMAGE_PREFIX)]
    if not images:
        return None
    height = max(image.shape[0] for image in images)
    padded = [np.pad(image, ((0, height - image.shape[0]), (0, 0), (0, 0))) for image in images]
    return np.concatenate(padded, axis=1)


class Mp4Writer:
    """RGB frames encoded as H.264 (MPEG-4 part 2 where libx264 is missing) with PyAV as they come, so an
    episode's length costs no memory. The file is opened at the first frame; frames of None are skipped."""

    def __init__(self, path: Path, fps: int) -> None:
        self.path, self.fps = path, fps
        self.container: Any = None
        self.stream: Any = None
        self.size = (0, 0)
        """The frames' height and width; the stream's are rounded up to even numbers."""

    def add(self, frame: Any) -> None:
        import av
        import numpy as np

        if frame is None:
            return
        if self.container is None:
            self._open(frame.shape[0], frame.shape[1])
        height, width = self.size
        padded = np.pad(frame, ((0, self.stream.height - height), (0, self.stream.width - width), (0, 0)))
        for packet in self.stream.encode(
            av.VideoFrame.from_ndarray(np.ascontiguousarray(padded), format="rgb24")
        ):
            self.container.mux(packet)

    def close(self) -> bool:
        """Flush and close the file; whether one was written."""
        if self.container is None:
            return False
        try:
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()
        return True

    def _open(self, height: int, width: int) -> None:
        import av

        self.container = av.open(str(self.path), mode="w")
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        self.stream = self.container.add_stream(codec, rate=self.fps)
        self.stream.width, self.stream.height = width + width % 2, height + height % 2
        self.stream.pix_fmt = "yuv420p"
        self.size = (height, width)


def summarize(
    config: EvalConfig,
    policy_type: str,
    task: str,
    episodes: list[Episode],
    stages: int | None = None,
    wall_s: float | None = None,
) -> dict[str, Any]:
    count = len(episodes) or 1
    successes = sum(e.success for e in episodes)
    staged = [e.max_stage for e in episodes if e.max_stage is not None]
    steps = sum(e.length for e in episodes)
    summary = {
        "env": config.env,
        "policy": {"path": str(config.policy_path), "type": policy_type},
        "task": task,
        "episodes": len(episodes),
        "seed": config.seed,
        "max_steps": config.max_steps,
        "success_rate": round(successes / count, 6),
        "success_interval_95": [round(bound, 6) for bound in wilson_interval(successes, len(episodes))],
        "mean_sum_reward": round(sum(e.sum_reward for e in episodes) / count, 6),
        "mean_max_reward": round(sum(e.max_reward for e in episodes) / count, 6),
        "stages": stages,
        "mean_max_stage": round(sum(staged) / len(staged), 6) if staged else None,
        "mean_episode_length": round(steps / count, 6),
        "per_episode": [episode.as_dict() for episode in episodes],
    }
    if wall_s is not None:
        summary["timing"] = {
            "workers": config.workers,
            "wall_s": round(wall_s, 2),
            "env_steps_per_s": round(steps / wall_s, 2) if wall_s > 0 else None,
        }
    return summary


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a success rate (95% by default); (0, 1) without trials."""
    if trials == 0:
        return 0.0, 1.0
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)
