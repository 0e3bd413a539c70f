"""`policyzoo eval`: roll a policy out in a simulator backend; success rate, reward, length and videos.

An environment name is `<robot type>_<backend>` (e.g. `so101_bimanual_sim`): the robot comes from the
registry and renders only the cameras the policy was trained on. Episode i starts from seed `seed + i`
(the simulator's reset and torch's generator), so the same seed gives the same summary, with any number of
worker processes: `workers > 1` runs episodes in parallel, each worker with its own policy and simulator.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyzoo.errors import BadInput
from policyzoo.files import check_writable
from policyzoo.specs import IMAGE_PREFIX, CameraSpec, RobotSpec, check_compatibility

SUMMARY_FILE = "eval_summary.json"
DEFAULT_STEPS = 300
UNSEEN_SEED = 100_000
"""First seed of evaluations after training on recorded demos, which use seeds 0 to N-1: no evaluated scene
was seen in training."""


@dataclass(frozen=True)
class EvalConfig:
    policy_path: str
    env: str = "so101_bimanual_sim"
    episodes: int = 10
    seed: int = 0
    output_dir: Path = Path("outputs/eval")
    max_steps: int | None = None
    """Steps per episode; None: the simulator's `max_episode_steps`, else 300."""
    videos: int = 4
    """Episodes recorded as mp4 (the first ones); 0 records none."""
    task: str | None = None
    device: str | None = None
    workers: int = 1
    """Worker processes running episodes in parallel (1: in this process)."""
    overwrite: bool = False
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
    """The highest task stage reached, for simulators that report stages (`policyzoo.robot.StagedTask`)."""
    failure: str | None = None
    """Why the episode was cut short as a failure (an action the safety filter refused); None otherwise."""

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "seed": self.seed, "success": self.success,
                "sum_reward": round(self.sum_reward, 6), "max_reward": round(self.max_reward, 6),
                "max_stage": self.max_stage, "length": self.length,
                "final_state": [round(v, 4) for v in self.final_state], "video": self.video,
                "failure": self.failure}


def evaluate(config: EvalConfig, progress: Any = None) -> dict[str, Any]:
    """Run the episodes, write the videos and `eval_summary.json`; return the summary."""
    from policyzoo.api import load_policy

    robot_type, backend = split_env(config.env)
    policy = load_policy(config.policy_path, device=config.device)
    robot = make_robot(robot_type, backend, policy)  # checks that policy and robot fit, before any worker starts
    task = config.task or getattr(robot, "task", "") or ""
    policy_type, stages = policy.spec.type, getattr(robot, "stages", None)
    workers = max(1, min(config.workers, config.episodes))
    max_steps = config.max_steps or int(getattr(robot, "max_episode_steps", DEFAULT_STEPS))
    config = dataclasses.replace(config, max_steps=max_steps, workers=workers)
    output_dir = Path(config.output_dir)
    check_output(output_dir, config.overwrite)
    for stale in earlier_results(output_dir):  # the policy loaded and fits: now the old results go
        stale.unlink()
    output_dir.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    if config.workers > 1:
        robot.disconnect()
        del policy
        episodes = _run_in_workers(config, task, output_dir, progress)
    else:
        episodes = _run_here(config, robot, policy, task, output_dir, progress)
    wall = time.perf_counter() - start
    summary = summarize(config, policy_type, task, episodes, stages, wall)
    (output_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def check_output(output_dir: Path, overwrite: bool) -> None:
    """BadInput where `output_dir` cannot be written, or holds an earlier evaluation and `overwrite` is off."""
    check_writable(output_dir, "--output_dir")
    if not overwrite and earlier_results(output_dir):
        raise BadInput(f"--output_dir={output_dir}: holds an earlier evaluation ({SUMMARY_FILE}, videos); "
                       f"pick a new --output_dir, or replace it with --overwrite=true")


def earlier_results(output_dir: Path) -> list[Path]:
    """The files an earlier evaluation wrote into `output_dir`."""
    if not output_dir.is_dir():
        return []
    return sorted([*output_dir.glob("episode_*.mp4"), *output_dir.glob(SUMMARY_FILE)])


def _episode_plan(config: EvalConfig, output_dir: Path) -> list[tuple[int, int, Path | None]]:
    """(index, seed, video path or None) of every episode."""
    return [(index, config.seed + index, output_dir / f"episode_{index:03d}.mp4" if index < config.videos else None)
            for index in range(config.episodes)]


def _run_here(config: EvalConfig, robot: Any, policy: Any, task: str, output_dir: Path, progress: Any
              ) -> list[Episode]:
    import torch

    episodes: list[Episode] = []
    try:
        robot.connect()
        for index, seed, video in _episode_plan(config, output_dir):
            torch.manual_seed(seed)
            episode = run_episode(robot, policy, task, index, seed, config.max_steps, video)
            episodes.append(episode)
            if progress is not None:
                progress(episode)
    finally:
        robot.disconnect()
    return episodes


def _run_in_workers(config: EvalConfig, task: str, output_dir: Path, progress: Any) -> list[Episode]:
    """The episodes spread over `config.workers` processes (spawned: MuJoCo's GL contexts are per process)."""
    import multiprocessing

    threads = max(1, (os.cpu_count() or 1) // config.workers)
    episodes: list[Episode] = []
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(config.workers, mp_context=context, initializer=_start_worker,
                             initargs=(config, task, threads)) as pool:
        futures = [pool.submit(_worker_episode, index, seed, video)
                   for index, seed, video in _episode_plan(config, output_dir)]
        for future in as_completed(futures):
            episode = future.result()
            episodes.append(episode)
            if progress is not None:
                progress(episode)
    return sorted(episodes, key=lambda episode: episode.index)


_worker: dict[str, Any] = {}
"""In a worker process: its policy, simulator, task and step limit."""


def _start_worker(config: EvalConfig, task: str, threads: int) -> None:
    import torch

    from policyzoo.api import load_policy

    torch.set_num_threads(threads)
    policy = load_policy(config.policy_path, device=config.device)
    robot = make_robot(*split_env(config.env), policy)
    robot.connect()
    _worker.update(policy=policy, robot=robot, task=task, max_steps=config.max_steps)


def _worker_episode(index: int, seed: int, video: Path | None) -> Episode:
    import torch

    torch.manual_seed(seed)
    return run_episode(_worker["robot"], _worker["policy"], _worker["task"], index, seed, _worker["max_steps"],
                       video)


def split_env(env: str) -> tuple[str, str]:
    """`so101_bimanual_sim` -> (`so101_bimanual`, `sim`), checked against the registry."""
    from policyzoo.registry import get_registry

    robot_type, _, backend = env.rpartition("_")
    registry = get_registry()
    if not robot_type or robot_type not in registry.robots:
        known = [f"{name}_{b}" for name, entry in sorted(registry.robots.items()) for b in entry.backends
                 if b == "sim"]
        hint = ", ".join(known) or "none installed (pip install 'policyzoo-so101[sim]')"
        raise BadInput(f"--env={env}: unknown simulator environment; available: {hint}")
    if backend not in registry.robots[robot_type].backends:
        raise BadInput(f"--env={env}: robot '{robot_type}' has no '{backend}' backend; backends: "
                       f"{', '.join(registry.robots[robot_type].backends) or 'none'}")
    return robot_type, backend


def sim_env_for_task(task: str) -> str:
    """The simulator environment (`<robot>_sim`) of `task`: robots declare theirs as `RobotSpec.sim_task`."""
    from policyzoo.registry import get_registry

    robots = get_registry().robots
    for name, entry in sorted(robots.items()):
        if entry.spec.sim_task == task and "sim" in entry.backends:
            return f"{name}_sim"
    known = sorted({entry.spec.sim_task for entry in robots.values() if entry.spec.sim_task})
    raise BadInput(f"--task={task}: no installed robot simulates it; tasks: {', '.join(known) or 'none'} "
                   f"(pip install 'policyzoo-so101[sim]')")


def make_robot(robot_type: str, backend: str, policy: Any) -> Any:
    """The simulator with the cameras the policy takes, after checking that policy and robot fit (built by
    `policyzoo.robot.make_robot`)."""
    from policyzoo.registry import get_registry
    from policyzoo.robot import make_robot as make_robot_backend

    entry = get_registry().robot(robot_type, flag="--env")
    spec = robot_spec_for(entry.spec, policy.features.visual)
    problems = check_compatibility(policy.spec, policy.features, spec)
    if problems:
        raise BadInput(f"--env: the policy does not fit robot '{robot_type}': "
                       + "; ".join(str(problem) for problem in problems))
    return make_robot_backend(robot_type, backend, spec=spec, simulator=True, flag="--env")


def robot_spec_for(spec: RobotSpec, visual: dict[str, tuple[int, int, int]]) -> RobotSpec:
    """`spec` with one camera per image the policy takes, at the size it was trained on."""
    cameras = [CameraSpec(name=key.removeprefix(IMAGE_PREFIX), height=shape[1], width=shape[2], fps=spec.fps)
               for key, shape in sorted(visual.items())]
    return spec.model_copy(update={"cameras": cameras})


def run_episode(robot: Any, policy: Any, task: str, index: int, seed: int, max_steps: int,
                video: Path | None) -> Episode:
    """One rollout; actions pass deploy's safety filter (joint limits), and one it refuses (non-finite)
    ends the episode as a failure that says why."""
    import numpy as np
    import torch

    from policyzoo.deploy.errors import UnsafeAction
    from policyzoo.deploy.predictor import to_policy_observation
    from policyzoo.deploy.safety import SafetyFilter

    safety = SafetyFilter(robot.spec)
    failure = None
    observation = robot.reset(seed=seed)
    policy.reset()
    frames = [camera_frame(observation)] if video is not None else []
    rewards: list[float] = []
    max_stage = 0 if hasattr(robot, "stage") else None
    success = False
    with torch.no_grad():
        for _ in range(max_steps):
            action = policy.select_action(to_policy_observation(observation, task, policy.device))
            try:
                target = safety(action.detach().float().cpu().numpy().reshape(-1))
            except UnsafeAction as exc:
                failure = f"unsafe action at step {len(rewards)}: {exc}"
                break
            robot.act(target)
            observation = robot.observe()
            rewards.append(float(robot.reward()))
            if max_stage is not None:
                max_stage = max(max_stage, int(robot.stage()))
            if video is not None:
                frames.append(camera_frame(observation))
            if robot.success():
                success = True
                break
    written = None
    if video is not None and frames and frames[0] is not None:
        write_mp4(video, frames, robot.spec.fps)
        written = video.name
    final_state = [float(v) for v in np.asarray(observation["observation.state"]).reshape(-1)]
    return Episode(index, seed, success, sum(rewards), max(rewards, default=0.0), len(rewards), final_state,
                   written, max_stage, failure)


def camera_frame(observation: dict[str, Any]) -> Any:
    """All camera images of an observation side by side (H x sum(W) x 3, uint8), or None without cameras."""
    import numpy as np

    images = [observation[key] for key in sorted(observation) if key.startswith(IMAGE_PREFIX)]
    if not images:
        return None
    height = max(image.shape[0] for image in images)
    padded = [np.pad(image, ((0, height - image.shape[0]), (0, 0), (0, 0))) for image in images]
    return np.concatenate(padded, axis=1)


def write_mp4(path: Path, frames: list[Any], fps: int) -> None:
    """Encode RGB frames as H.264 (MPEG-4 part 2 where libx264 is missing) with PyAV."""
    import av
    import numpy as np

    height, width = frames[0].shape[:2]
    even = (height + height % 2, width + width % 2)
    with av.open(str(path), mode="w") as container:
        codec = "libx264" if "libx264" in av.codecs_available else "mpeg4"
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = even[1], even[0]
        stream.pix_fmt = "yuv420p"
        for frame in frames:
            padded = np.pad(frame, ((0, even[0] - height), (0, even[1] - width), (0, 0)))
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(padded), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def summarize(config: EvalConfig, policy_type: str, task: str, episodes: list[Episode], stages: int | None = None,
              wall_s: float | None = None) -> dict[str, Any]:
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
        summary["timing"] = {"workers": config.workers, "wall_s": round(wall_s, 2),
                             "env_steps_per_s": round(steps / wall_s, 2) if wall_s > 0 else None}
    return summary


def wilson_interval(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a success rate (95% by default); (0, 1) without trials."""
    if trials == 0:
        return 0.0, 1.0
    rate = successes / trials
    centre = (rate + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(rate * (1 - rate) / trials + z * z / (4 * trials * trials)) / (1 + z * z / trials)
    return max(0.0, centre - half), min(1.0, centre + half)
