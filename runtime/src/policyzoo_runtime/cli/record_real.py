"""`policyzoo record --robot.backend=real`: demonstrations with leader arms into a LeRobot v3.0 dataset."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from policyzoo.errors import BadInput
from policyzoo.flags import Flags, parse_bool

if TYPE_CHECKING:
    from policyzoo_runtime.lerobot.episodes import EpisodeWriter

DATASET_FLAGS = (
    "repo_id",
    "root",
    "single_task",
    "num_episodes",
    "episode_time_s",
    "reset_time_s",
    "fps",
    "video",
)
DEFAULTS = {"num_episodes": "50", "episode_time_s": "60", "reset_time_s": "60", "video": "true"}
"""As lerobot-record's."""


def record_real(flags: Flags, robot_type: str, robot_options: dict[str, str]) -> None:
    """Check every flag and the dataset, then connect, record and print what was kept."""
    from policyzoo_runtime.counts import MAX_EPISODES, within
    from policyzoo_runtime.datasets import lerobot_home
    from policyzoo_runtime.hub.push import check_repo_id

    teleop = flags.section("teleop", known=("type",))
    data = {**DEFAULTS, **flags.section("dataset", known=DATASET_FLAGS)}
    resume = flags.take("resume", parse_bool, default=False, help_value="true or false")
    for name in data:
        if name not in DATASET_FLAGS:
            raise BadInput(
                f"--dataset.{name}: unknown flag; recording on the real robot takes "
                + ", ".join(f"--dataset.{known}" for known in DATASET_FLAGS)
            )
    flags.finish()
    repo_id = data.get("repo_id")
    if not repo_id:
        raise BadInput("--dataset.repo_id: required, e.g. --dataset.repo_id=USER/NAME")
    check_repo_id(repo_id, flag="--dataset.repo_id")
    task = data.get("single_task", "").strip()
    if not task:
        raise BadInput(
            "--dataset.single_task: required; what the demonstrations do, "
            'e.g. --dataset.single_task="put the cube in the box"'
        )
    episodes = within(
        "--dataset.num_episodes",
        _number("num_episodes", data, int, 1),
        1,
        MAX_EPISODES,
        "episodes of one recording",
    )
    episode_s = _number("episode_time_s", data, float, 0, strict=True)
    reset_s = _number("reset_time_s", data, float, 0)
    use_videos = _boolean(data["video"])
    root = Path(data["root"]).expanduser() if data.get("root") else lerobot_home() / repo_id
    _check_root(root, resume)

    from policyzoo_runtime.keys import open_keys
    from policyzoo_runtime.record.real import RecordPlan, record_with_teleop, robot_features
    from policyzoo_runtime.robot import make_robot
    from policyzoo_runtime.teleop import make_teleop

    robot = make_robot(robot_type, "real", robot_options)
    leader = make_teleop(teleop.pop("type", None), robot.spec, teleop)
    fps = _number("fps", data, int, 1) if "fps" in data else robot.spec.fps
    plan = RecordPlan(episodes, episode_s, reset_s, task, fps)
    features = robot_features(robot.spec, use_videos)
    keys = open_keys()
    result = None
    try:
        result = record_with_teleop(
            robot,
            leader,
            lambda: _writer(repo_id, root, fps, features, robot.spec.type, use_videos, resume),
            keys,
            plan,
            _progress,
        )
    finally:
        if not resume and (result is None or result.total_episodes == 0) and (root / "meta").is_dir():
            shutil.rmtree(root)  # nothing was kept: the next run starts afresh instead of needing --resume
    click.echo(
        f"recorded {result.saved} episodes, {result.frames} frames ({result.rerecorded} recorded again) "
        f"to {root}: {result.total_episodes} episodes in the dataset; {result.stop}"
    )


def _progress(total: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, unit="episode", desc="recording", dynamic_ncols=True)


def _writer(
    repo_id: str,
    root: Path,
    fps: int,
    features: dict[str, dict[str, Any]],
    robot_type: str,
    use_videos: bool,
    resume: bool,
) -> EpisodeWriter:
    from policyzoo_runtime.lerobot.episodes import create_writer, resume_writer

    if resume:
        return resume_writer(repo_id, root, fps, features)
    return create_writer(repo_id, root, fps, features, robot_type, use_videos)


def _check_root(root: Path, resume: bool) -> None:
    from policyzoo_runtime.writable import check_writable

    check_writable(root, "--dataset.root")
    has_dataset = (root / "meta" / "info.json").is_file()
    if resume and not has_dataset:
        raise BadInput(
            f"--dataset.root={root}: no dataset to resume there (no meta/info.json); leave out "
            "--resume=true to start one"
        )
    if not resume and root.exists() and any(root.iterdir()):
        what = "a dataset" if has_dataset else "files"
        raise BadInput(
            f"--dataset.root={root}: {what} already there; add --resume=true to append episodes to "
            "it, or choose another --dataset.repo_id or --dataset.root"
        )


def _number(name: str, data: dict[str, str], kind: type, least: float, strict: bool = False) -> float:
    text = data[name]
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < least or (strict and value <= least):
        bound = f"> {least}" if strict else f">= {least}"
        raise BadInput(
            f"--dataset.{name}={text}: expected {'a whole number' if kind is int else 'a number'} {bound}"
        )
    return value


def _boolean(text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError:
        raise BadInput(f"--dataset.video={text}: expected true or false") from None
