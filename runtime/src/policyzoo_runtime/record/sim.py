"""Recording episodes from a simulated robot and its scripted expert into a LeRobot v3.0 dataset.

Imports LeRobot when called; datasets get the feature layout a LeRobot recording on the real robot has,
plus `next.reward`, `next.success` and `next.done`. The seed of every episode is kept in
`meta/policyzoo_sim.json` so that `replay` can restart the simulator exactly where the episode started.

Finished episodes are never lost: Ctrl-C, SIGTERM and SIGHUP wait for an episode being saved, drop the one
being recorded and finalize the dataset; before each episode the free disk space is checked against what the
episodes so far needed, and a full disk stops the recording the same way, in one line.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from policyzoo.errors import BadInput
from policyzoo.features import ACTION_KEY, REWARD_KEY, STATE_KEY
from policyzoo.files import describe_os_error
from policyzoo.interrupts import deferred_interrupts, interruption
from policyzoo.registry import get_registry
from policyzoo.spec import CameraSpec, RobotSpec
from policyzoo_runtime.quiet import quiet_lerobot
from policyzoo_runtime.robot import (
    SIM_INSTALL as SIM_INSTALL,  # re-exported: where commands have always found it
)
from policyzoo_runtime.robot import SimulatedRobot, make_robot

SIM_META = "meta/policyzoo_sim.json"
DISK_MARGIN = 64 * 2**20
"""Bytes left free beyond what the next episode needs: room to finalize the dataset (parquet footers, metadata)."""


@dataclass
class Recorded:
    root: Path
    episodes: int
    frames: int
    successes: int
    seconds: float


def dataset_features(spec: RobotSpec, use_videos: bool = False) -> dict[str, dict[str, Any]]:
    """LeRobot features of a dataset recorded on `spec`, with the reward and success signals of a simulator."""
    joints = {"dtype": "float32", "shape": (len(spec.joints),), "names": spec.joint_names}
    features: dict[str, dict[str, Any]] = {STATE_KEY: dict(joints), ACTION_KEY: dict(joints)}
    for camera in spec.cameras:
        features[camera.key] = {
            "dtype": "video" if use_videos else "image",
            "shape": (camera.height, camera.width, 3),
            "names": ["height", "width", "channels"],
        }
    features[REWARD_KEY] = {"dtype": "float32", "shape": (1,), "names": None}
    features["next.success"] = {"dtype": "bool", "shape": (1,), "names": None}
    features["next.done"] = {"dtype": "bool", "shape": (1,), "names": None}
    return features


def make_sim(
    robot_type: str, options: dict[str, str] | None = None, cameras: list[CameraSpec] | None = None
) -> SimulatedRobot:
    """The registered simulator backend of `robot_type` (with `cameras` instead of the robot's own, if given),
    or a BadInput saying what to install (`policyzoo_runtime.robot.make_robot`)."""
    entry = get_registry().robot(robot_type)
    spec = entry.spec if cameras is None else entry.spec.model_copy(update={"cameras": cameras})
    return make_robot(robot_type, "sim", options, spec=spec, simulator=True)


def sim_cameras(robot_type: str, names: list[str]) -> list[CameraSpec]:
    """The simulator cameras `names` (as `--robot.cameras=a,b` or a preset's `cameras` list them), each at the
    size and rate of the robot's own cameras; the simulator says which names it knows."""
    spec = get_registry().robot(robot_type).spec
    if not names or not spec.cameras:
        raise BadInput(
            f"--robot.cameras: name at least one camera of the {robot_type} simulator, e.g. "
            f"{','.join(camera.name for camera in spec.cameras) or 'front'}"
        )
    size = spec.cameras[0]
    return [CameraSpec(name=name, height=size.height, width=size.width, fps=size.fps) for name in names]


def record_episodes(
    robot: SimulatedRobot,
    root: Path,
    repo_id: str,
    episodes: int,
    seed: int = 0,
    progress: bool = True,
    use_videos: bool = False,
) -> Recorded:
    """Record `episodes` scripted-expert episodes (seeds seed, seed+1, ...) into a new dataset at `root`.

    Interrupted, the finished episodes are kept and the interruption propagates; an OSError (a full disk) or
    too little free space for the next episode keeps them too and becomes BadInput."""
    from policyzoo_runtime.lerobot.datasets import create_dataset

    if not hasattr(robot, "expert"):
        raise BadInput(f"--robot.type={robot.spec.type}: its simulator has no scripted expert to record")
    if root.exists() and any(root.iterdir()):
        raise BadInput(f"--dataset.root={root}: the folder exists and is not empty; choose a new one")
    if root.exists():
        root.rmdir()
    start = time.perf_counter()
    kept = Kept()
    bar = tqdm(total=episodes, unit="episode", dynamic_ncols=True, disable=None if progress else True)
    with bar, quiet_lerobot():  # the bar first: LeRobot takes seconds to import
        dataset = create_dataset(
            repo_id,
            root,
            robot.spec.fps,
            dataset_features(robot.spec, use_videos),
            robot.spec.type,
            use_videos,
        )
        try:
            _record_all(robot, dataset, kept, range(seed, seed + episodes), bar if progress else None)
        except KeyboardInterrupt as exc:
            _close(dataset, robot, kept, unsaved=True)
            tqdm.write(
                f"{interruption(exc)}: the {len(kept.seeds)} finished episode(s) are kept in {root}",
                file=sys.stderr,
            )
            raise
        except (OSError, LowDiskSpace) as exc:
            _close(dataset, robot, kept, unsaved=True)
            problem = describe_os_error(exc) if isinstance(exc, OSError) else str(exc)
            raise BadInput(
                f"{root}: recording stopped, {problem}; the {len(kept.seeds)} finished episode(s) are kept"
            ) from None
        _close(dataset, robot, kept)
    return Recorded(root, episodes, kept.frames, sum(kept.successes), time.perf_counter() - start)


@dataclass
class Kept:
    """The episodes saved so far: their seeds, successes and frames."""

    seeds: list[int] = field(default_factory=list)
    successes: list[bool] = field(default_factory=list)
    frames: int = 0


class LowDiskSpace(Exception):
    """Too little free disk space for one more episode; the message says how much is free and needed."""


class DiskSpace:
    """Room on the dataset's disk: before an episode, twice the most space one episode has taken so far (its
    frames while recorded, then its save); before a save, twice the most a save has taken; `DISK_MARGIN` more
    for both, to finalize the dataset."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.episode = self.save = 0
        """The most space one episode, one save, has taken."""
        self.at_start = self.at_save = 0

    def check_episode(self) -> None:
        """Before an episode: LowDiskSpace where too little is free."""
        self.at_start = self._check(self.episode, "the next episode")

    def check_save(self) -> None:
        """Before an episode is saved: LowDiskSpace where too little is free (it is dropped)."""
        self.at_save = self._check(self.save, "saving the episode")

    def saved(self) -> None:
        """After a save: note the space the episode and its save took."""
        free = self._free()
        self.save = max(self.save, self.at_save - free)
        self.episode = max(self.episode, self.at_start - min(free, self.at_save))

    def _check(self, most: int, what: str) -> int:
        free, need = self._free(), 2 * most + DISK_MARGIN
        if free < need:
            raise LowDiskSpace(
                f"only {_megabytes(free)} free on its disk, and {what} needs about "
                f"{_megabytes(need)} (with room to finalize the dataset); free some space"
            )
        return free

    def _free(self) -> int:
        return shutil.disk_usage(self.root).free


def _megabytes(size: int) -> str:
    return f"{size / 2**20:.{1 if size < 10 * 2**20 else 0}f} MB"


def _record_all(robot: SimulatedRobot, dataset: Any, kept: Kept, seeds: range, bar: Any) -> None:
    """One episode per seed, each saved as it ends, with the disk space checked before it and its save."""
    space = DiskSpace(Path(dataset.root))
    for index, episode_seed in enumerate(seeds):
        space.check_episode()
        count, success = _record_one(robot, dataset, episode_seed)
        space.check_save()
        with deferred_interrupts():  # an episode is saved whole or not at all
            dataset.save_episode()
        space.saved()
        kept.seeds.append(episode_seed)
        kept.successes.append(success)
        kept.frames += count
        if bar is not None:
            tqdm.write(f"episode {index}: {count} frames, seed {episode_seed}, success {success}")
            sys.stdout.flush()
            bar.set_postfix_str(f"{sum(kept.successes)} successful", refresh=False)
            bar.update()


def _close(dataset: Any, robot: SimulatedRobot, kept: Kept, unsaved: bool = False) -> None:
    """Finalize the dataset (the episode cut short dropped, with its frames' files: `unsaved`) and write the
    episodes' seeds, whatever signal comes meanwhile."""
    root = Path(dataset.root)
    with deferred_interrupts():
        if unsaved:
            dataset.clear_episode_buffer()
        dataset.finalize()
        _remove_empty_dirs(root / "images")  # LeRobot's image writer leaves its (emptied) folders behind
        (root / SIM_META).write_text(
            json.dumps(
                {
                    "robot_type": robot.spec.type,
                    "task": robot.task,
                    "seeds": kept.seeds,
                    "successes": kept.successes,
                },
                indent=2,
            )
        )


def _record_one(robot: SimulatedRobot, dataset: Any, seed: int) -> tuple[int, bool]:
    observation = robot.reset(seed=seed)
    expert = robot.expert()
    count = 0
    while not expert.done:
        # float32 as stored, so that replaying the stored actions repeats the episode exactly
        action = np.asarray(expert(observation), dtype=np.float32)
        robot.act(action)
        done = expert.done
        frame = {
            key: value
            for key, value in observation.items()
            if key == STATE_KEY or key.startswith("observation.images.")
        }
        frame.update(
            {
                ACTION_KEY: action,
                REWARD_KEY: np.array([robot.reward()], dtype=np.float32),
                "next.success": np.array([robot.success()]),
                "next.done": np.array([done]),
                "task": robot.task,
            }
        )
        dataset.add_frame(frame)
        count += 1
        observation = robot.observe()
    return count, robot.success()


def _remove_empty_dirs(folder: Path) -> None:
    if folder.is_dir() and not any(path.is_file() for path in folder.rglob("*")):
        shutil.rmtree(folder)


def replay_episode(
    robot: SimulatedRobot, root: Path, episode: int, seed: int | None = None
) -> tuple[int, bool]:
    """Play the stored actions of `episode` in the simulator from its recorded seed; (frames, success)."""
    import pyarrow.parquet as pq

    sim_meta = root / SIM_META
    if seed is None:
        if not sim_meta.is_file():
            raise BadInput(
                f"--dataset.root={root}: no {SIM_META} with episode seeds (not recorded in the "
                "simulator); pass --seed=N to pick the starting scene"
            )
        seeds = json.loads(sim_meta.read_text())["seeds"]
        if not 0 <= episode < len(seeds):
            raise BadInput(f"--episode={episode}: the dataset has episodes 0 to {len(seeds) - 1}")
        seed = seeds[episode]
    files = sorted((root / "data").glob("chunk-*/file-*.parquet"))
    table = pq.read_table(files, columns=["episode_index", "frame_index", ACTION_KEY]) if files else None
    if table is None:
        raise BadInput(f"--dataset.root={root}: no data files under data/")
    rows = table.filter(_equals(table["episode_index"], episode)).sort_by("frame_index")
    if rows.num_rows == 0:
        raise BadInput(f"--episode={episode}: the dataset has no such episode")
    robot.reset(seed=seed)
    for action in rows[ACTION_KEY].to_pylist():
        robot.act(np.asarray(action, dtype=np.float32))
    return rows.num_rows, robot.success()


def _equals(column: Any, value: int) -> Any:
    import pyarrow.compute as pc

    return pc.equal(column, value)
