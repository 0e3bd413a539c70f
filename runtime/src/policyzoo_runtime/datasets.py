"""Finding a dataset (local folder, LeRobot's cache, the Hub, a plugin's sample) and reading its LeRobot v3.0
metadata, without importing LeRobot or torch."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from policyzoo.errors import BadInput
from policyzoo.features import IMAGE_PREFIX, REWARD_KEY, Features
from policyzoo_runtime.dataset_check import check_files, check_info


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


INFO_FILE = Path("meta") / "info.json"


@dataclass(frozen=True)
class DatasetLocation:
    """Where a dataset's files are, and the flag that named it (for messages)."""

    repo_id: str
    root: Path
    flag: str


Fetch = Callable[[str, Path], Path]
"""fetch(repo_id, cache folder) -> local root with meta/info.json; raises BadInput when it cannot."""


def locate(
    root: str | None, repo_id: str | None, fetch: Fetch | None = None, sample: bool = True
) -> DatasetLocation | None:
    """The one way to find a dataset from `--dataset.root` / `--dataset.repo_id`.

    A root is a local folder (its repo id is the given one, or `local/<folder name>`). A repo id alone is
    looked up in LeRobot's cache (`lerobot_home() / repo_id`); when it is not there, `fetch` gets it from the
    Hub (none given: a BadInput saying how to download it; HF_HUB_OFFLINE set: a BadInput saying so).
    Neither: the sample dataset a plugin embeds (when `sample`), else None.
    """
    if root:
        path = Path(root).expanduser()
        return DatasetLocation(repo_id or f"local/{path.resolve().name}", path, "--dataset.root")
    if repo_id:
        flag = "--dataset.repo_id"
        if repo_id.count("/") != 1 or repo_id.startswith("/") or repo_id.endswith("/"):
            raise BadInput(f"{flag}={repo_id}: expected USER/NAME (a local folder goes in --dataset.root)")
        cached = lerobot_home() / repo_id
        if (cached / INFO_FILE).is_file():
            return DatasetLocation(repo_id, cached, flag)
        if fetch is None:
            raise BadInput(
                f"{flag}={repo_id}: not in LeRobot's local cache ({cached}); download it "
                f"(huggingface-cli download --repo-type dataset {repo_id} --local-dir {cached}) "
                "or pass --dataset.root=DIR"
            )
        if _offline():
            raise BadInput(
                f"{flag}={repo_id}: not in the local cache ({cached}) and HF_HUB_OFFLINE is set; "
                f"download it first, or pass a local copy with --dataset.root=DIR"
            )
        return DatasetLocation(repo_id, fetch(repo_id, cached), flag)
    if not sample:
        return None
    found = sample_dataset(None)
    if not found:
        return None
    return DatasetLocation(str(found[0]), Path(found[1]), "the sample dataset")


def sample_dataset(task: str | None) -> tuple[str, str] | None:
    """(repo id, local root) of the embedded sample of `task` (None: the default one) some plugin provides."""
    from policyzoo.plugins import get_plugins

    found = get_plugins().first_result("sample_dataset", task=task)
    return (str(found[0]), str(found[1])) if found else None


def fetch_info(repo_id: str, _cache: Path) -> Path:
    """Only `meta/info.json` of a Hub dataset (into the Hugging Face cache); its folder's root."""
    flag = f"--dataset.repo_id={repo_id}"
    try:
        from huggingface_hub import hf_hub_download
    except ImportError:
        raise BadInput(
            f"{flag}: not in the local LeRobot cache; pass --dataset.root=DIR "
            f"(or install huggingface_hub to read it from the Hub)"
        ) from None
    try:
        return Path(hf_hub_download(repo_id, INFO_FILE.as_posix(), repo_type="dataset")).parent.parent
    except Exception as exc:  # offline, missing repo, no access: all mean the same to the user
        raise BadInput(
            f"{flag}: cannot read meta/info.json from the Hub ({type(exc).__name__}); "
            f"pass --dataset.root=DIR for a local copy"
        ) from None


def _offline() -> bool:
    try:
        from huggingface_hub import constants
    except ImportError:  # fetch says what is missing
        return False
    return bool(constants.HF_HUB_OFFLINE)


def read_meta(root: Path, flag: str = "--dataset.root") -> DatasetMeta:
    """Features, episodes, frames and tasks of the LeRobot v3 dataset at `root`, checked against its files
    (`policyzoo_runtime.dataset_check`), or a BadInput naming the file that is wrong."""
    root = Path(root)
    if root.exists() and not root.is_dir():
        raise BadInput(
            f"{flag}={root}: is a file, not a folder; a LeRobot dataset is a folder with meta/info.json"
        )
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
    if not isinstance(info, dict):
        raise BadInput(f"{info_path}: not a JSON object; restore the dataset's original meta/info.json")
    version = str(info.get("codebase_version", ""))
    if not version.startswith("v3"):
        raise BadInput(
            f"{flag}={root}: a LeRobot {version or 'unknown-version'} dataset; policyzoo reads v3.0 "
            "(convert it with LeRobot's convert_dataset_v21_to_v30)"
        )
    check_info(info, info_path)
    # A Hub dataset's copy in LeRobot's cache may lack data and videos: LeRobot downloads them when opening it.
    check_files(root, info, complete=flag != "--dataset.repo_id")
    return DatasetMeta(root=root, info=info, features=Features.from_info(info), tasks=_tasks(root))


def _tasks(root: Path) -> list[str]:
    path = root / "meta" / "tasks.parquet"
    if not path.is_file():
        return []
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # the core alone has no pyarrow; the task list is optional
        return []
    try:
        table = pq.ParquetFile(path).read()  # not pq.read_table, which imports pandas (seconds)
    except (OSError, pa.ArrowException) as exc:
        raise BadInput(
            f"{path}: unreadable ({' '.join(str(exc).split())[:120]}), it is damaged; copy the dataset "
            "again, or record it again"
        ) from None
    if "task" in table.column_names:
        return [str(task) for task in table["task"].to_pylist()]
    index = table.schema.pandas_metadata or {}
    names = index.get("index_columns", [])
    return [str(task) for task in table[names[0]].to_pylist()] if names and isinstance(names[0], str) else []
