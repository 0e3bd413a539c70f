"""Reading a LeRobot v3.0 dataset's metadata without importing LeRobot or torch."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from policyzoo.errors import BadInput
from policyzoo.specs import IMAGE_PREFIX, REWARD_KEY, Features


@dataclass
class DatasetMeta:
    root: Path
    info: dict
    features: Features
    tasks: list[str] = field(default_factory=list)

    @property
    def episodes(self) -> int:
        return int(self.info.get("total_episodes", 0))

    @property
    def frames(self) -> int:
        return int(self.info.get("total_frames", 0))

    @property
    def fps(self) -> int:
        return int(self.info.get("fps", 0))

    @property
    def robot_type(self) -> str | None:
        return self.info.get("robot_type")

    @property
    def cameras(self) -> list[str]:
        return [key.removeprefix(IMAGE_PREFIX) for key in self.features.visual]

    @property
    def has_reward(self) -> bool:
        return REWARD_KEY in self.info.get("features", {})


def lerobot_home() -> Path:
    """Where LeRobot keeps datasets: $HF_LEROBOT_HOME, else $HF_HOME/lerobot."""
    if os.environ.get("HF_LEROBOT_HOME"):
        return Path(os.environ["HF_LEROBOT_HOME"]).expanduser()
    hf_home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")) / "huggingface"
    return Path(hf_home).expanduser() / "lerobot"


def resolve_root(root: str | None, repo_id: str | None) -> Path:
    """The local folder of a dataset given `--dataset.root` or `--dataset.repo_id` (in LeRobot's cache)."""
    if root:
        return Path(root).expanduser()
    if repo_id:
        path = lerobot_home() / repo_id
        if not path.is_dir():
            raise BadInput(
                f"--dataset.repo_id={repo_id}: not in LeRobot's local cache ({path}); download it "
                f"(huggingface-cli download --repo-type dataset {repo_id} --local-dir {path}) "
                "or pass --dataset.root=DIR"
            )
        return path
    raise BadInput("--dataset.root: give --dataset.root=DIR or --dataset.repo_id=USER/NAME")


def read_meta(root: Path, flag: str = "--dataset.root") -> DatasetMeta:
    """Features, episodes, frames and tasks of the LeRobot v3 dataset at `root`, or a BadInput."""
    root = Path(root)
    if not root.is_dir():
        raise BadInput(
            f"{flag}={root}: no such folder; record one (policyzoo record) or make the sample "
            "(policyzoo dataset sample --output DIR)"
        )
    info_path = root / "meta" / "info.json"
    if not info_path.is_file():
        raise BadInput(f"{flag}={root}: not a LeRobot dataset (no meta/info.json)")
    try:
        info = json.loads(info_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"{flag}={root}: meta/info.json is unreadable ({exc})") from None
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v3"):
        raise BadInput(
            f"{flag}={root}: a LeRobot {version or 'unknown-version'} dataset; policyzoo reads v3.0 "
            "(convert it with LeRobot's convert_dataset_v21_to_v30)"
        )
    return DatasetMeta(root=root, info=info, features=Features.from_info(info), tasks=_tasks(root))


def _tasks(root: Path) -> list[str]:
    path = root / "meta" / "tasks.parquet"
    if not path.is_file():
        return []
    try:
        import pyarrow.parquet as pq
    except ImportError:  # the core alone has no pyarrow; the task list is optional
        return []
    table = pq.read_table(path)
    if "task" in table.column_names:
        return [str(task) for task in table["task"].to_pylist()]
    index = table.schema.pandas_metadata or {}
    names = index.get("index_columns", [])
    return [str(task) for task in table[names[0]].to_pylist()] if names and isinstance(names[0], str) else []
