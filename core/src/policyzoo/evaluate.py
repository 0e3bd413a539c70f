"""`policyzoo eval`: roll a policy out in a simulator backend; success rate, reward, length and videos.

An environment name is `<robot type>_<backend>` (e.g. `so101_bimanual_sim`): the robot comes from the
registry, its cameras are the ones the policy was trained on. Episode i starts from seed `seed + i`
(the simulator's reset and torch's generator), so the same seed gives the same summary.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyzoo.errors import BadInput
from policyzoo.specs import IMAGE_PREFIX, CameraSpec, RobotSpec, check_compatibility

SUMMARY_FILE = "eval_summary.json"


@dataclass(frozen=True)
class EvalConfig:
    policy_path: str
    env: str = "so101_bimanual_sim"
    episodes: int = 10
    seed: int = 0
    output_dir: Path = Path("outputs/eval")
    max_steps: int = 300
    videos: int = 4
    """Episodes recorded as mp4 (the first ones); 0 records none."""
    task: str | None = None
    device: str | None = None


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

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "seed": self.seed, "success": self.success,
                "sum_reward": round(self.sum_reward, 6), "max_reward": round(self.max_reward, 6),
                "length": self.length, "final_state": [round(v, 4) for v in self.final_state],
                "video": self.video}


def evaluate(config: EvalConfig, progress: Any = None) -> dict[str, Any]:
    """Run the episodes, write the videos and `eval_summary.json`; return the summary."""
    import torch

    from policyzoo.api import load_policy

    robot_type, backend = split_env(config.env)
    policy = load_policy(config.policy_path, device=config.device)
    robot = make_robot(robot_type, backend, policy)
    task = config.task or getattr(robot, "task", "") or ""
    output_dir = Path(config.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    episodes: list[Episode] = []
    try:
        robot.connect()
        for index in range(config.episodes):
            seed = config.seed + index
            torch.manual_seed(seed)
            record = output_dir / f"episode_{index:03d}.mp4" if index < config.videos else None
            episode = run_episode(robot, policy, task, index, seed, config.max_steps, record)
            episodes.append(episode)
            if progress is not None:
                progress(episode)
    finally:
        robot.disconnect()
    summary = summarize(config, policy.spec.type, task, episodes)
    (output_dir / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n")
    return summary


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


def make_robot(robot_type: str, backend: str, policy: Any) -> Any:
    """The simulator with the cameras the policy takes, after checking that policy and robot fit."""
    from policyzoo.registry import get_registry
    from policyzoo.robot import SimulatedRobot

    entry = get_registry().robot(robot_type, flag="--env")
    spec = robot_spec_for(entry.spec, policy.features.visual)
    problems = check_compatibility(policy.spec, policy.features, spec)
    if problems:
        raise BadInput(f"--env: the policy does not fit robot '{robot_type}': "
                       + "; ".join(str(problem) for problem in problems))
    factory = entry.load_backend(backend)
    if not all(callable(getattr(factory, name, None)) for name in ("reset", "reward", "success")):
        raise BadInput(f"--env={robot_type}_{backend}: not a simulator (it has no reset, reward and success); "
                       f"use --env={robot_type}_sim")
    robot = factory(spec, {})
    if not isinstance(robot, SimulatedRobot):
        raise BadInput(f"--env={robot_type}_{backend}: not a simulator (no reset, reward and success)")
    return robot


def robot_spec_for(spec: RobotSpec, visual: dict[str, tuple[int, int, int]]) -> RobotSpec:
    """`spec` with one camera per image the policy takes, at the size it was trained on."""
    cameras = [CameraSpec(name=key.removeprefix(IMAGE_PREFIX), height=shape[1], width=shape[2], fps=spec.fps)
               for key, shape in sorted(visual.items())]
    return spec.model_copy(update={"cameras": cameras})


def run_episode(robot: Any, policy: Any, task: str, index: int, seed: int, max_steps: int,
                video: Path | None) -> Episode:
    import numpy as np
    import torch

    from policyzoo.deploy.predictor import to_policy_observation

    observation = robot.reset(seed=seed)
    policy.reset()
    frames = [camera_frame(observation)] if video is not None else []
    rewards: list[float] = []
    success = False
    with torch.no_grad():
        for _ in range(max_steps):
            action = policy.select_action(to_policy_observation(observation, task, policy.device))
            robot.act(np.asarray(action.detach().float().cpu().numpy(), dtype=float).reshape(-1))
            observation = robot.observe()
            rewards.append(float(robot.reward()))
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
                   written)


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


def summarize(config: EvalConfig, policy_type: str, task: str, episodes: list[Episode]) -> dict[str, Any]:
    count = len(episodes) or 1
    return {
        "env": config.env,
        "policy": {"path": str(config.policy_path), "type": policy_type},
        "task": task,
        "episodes": len(episodes),
        "seed": config.seed,
        "max_steps": config.max_steps,
        "success_rate": round(sum(e.success for e in episodes) / count, 6),
        "mean_sum_reward": round(sum(e.sum_reward for e in episodes) / count, 6),
        "mean_max_reward": round(sum(e.max_reward for e in episodes) / count, 6),
        "mean_episode_length": round(sum(e.length for e in episodes) / count, 6),
        "per_episode": [episode.as_dict() for episode in episodes],
    }
