"""The saved-policy folder: finding it, its `policyzoo.json`, and writing folders atomically."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from policyzoo.errors import BadInput
from policyzoo.specs import RobotSpec

META_FILE = "policyzoo.json"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".pkl", ".pickle", ".ckpt")
SAFE_PATTERNS = ["*.json", "*.safetensors", "*.md", "*.png"]
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96}$")


class DatasetRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    repo_id: str | None = None
    fingerprint: str = ""


class CheckpointMeta(BaseModel):
    """Content of `policyzoo.json`, written beside LeRobot's own files."""

    model_config = ConfigDict(extra="forbid")

    format: int = 1
    policy_type: str
    distribution: str
    version: str
    spec: dict[str, Any]
    robot: RobotSpec | None = None
    dataset: DatasetRef | None = None
    training: dict[str, Any] = {}


def read_meta(directory: Path) -> CheckpointMeta | None:
    path = Path(directory) / META_FILE
    if not path.exists():
        return None
    return CheckpointMeta.model_validate_json(path.read_text())


def write_meta(directory: Path, meta: CheckpointMeta) -> None:
    (Path(directory) / META_FILE).write_text(meta.model_dump_json(indent=2) + "\n")


def fingerprint(info: dict[str, Any]) -> str:
    """A short stable hash of a dataset's `meta/info.json` content."""
    canonical = json.dumps(info, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@contextmanager
def atomic_directory(final: Path) -> Iterator[Path]:
    """Yield a temporary sibling folder; on success it replaces `final` in one rename."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    temporary = final.parent / f".{final.name}.partial-{os.getpid()}"
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        yield temporary
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        final.rename(old)
    temporary.rename(final)
    shutil.rmtree(old, ignore_errors=True)


def find_pretrained(directory: Path) -> Path | None:
    """The folder with `config.json` inside a training output dir, a checkpoint, or itself."""
    for candidate in (directory, directory / "pretrained_model", directory / "checkpoints" / "last" / "pretrained_model"):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    return None


def resolve_pretrained(path_or_repo_id: str | Path, flag: str = "--policy.path") -> Path:
    """A local folder holding a saved policy: from a path, or from the Hub (or its cache) by repo id."""
    path = Path(path_or_repo_id).expanduser()
    if path.exists():
        found = find_pretrained(path)
        if found is None:
            raise BadInput(f"{flag}={path_or_repo_id}: no config.json in this folder, its pretrained_model/ "
                           f"or checkpoints/last/; point it at a saved policy")
        return found
    text = str(path_or_repo_id)
    if not _REPO_ID.match(text) or text.startswith((".", "/", "~")):
        raise BadInput(f"{flag}={text}: no such folder, and not a Hub repo id (USER/NAME)")
    return _download(text, flag)


def _download(repo_id: str, flag: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        folder = snapshot_download(repo_id, allow_patterns=SAFE_PATTERNS)
    except RepositoryNotFoundError:
        raise BadInput(f"{flag}={repo_id}: no such model repo on the Hub (or no access: check HF_TOKEN)") from None
    except LocalEntryNotFoundError:
        raise BadInput(f"{flag}={repo_id}: not in the local Hugging Face cache and the Hub cannot be reached "
                       f"(offline?); download it first or pass a local folder") from None
    except (HfHubHTTPError, OSError) as exc:
        raise BadInput(f"{flag}={repo_id}: download failed: {' '.join(str(exc).split())[:200]}") from None
    return Path(folder)


def policy_type_of(directory: Path) -> str:
    """The `type` in a saved policy's config.json, or a clear error."""
    config_path = directory / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"{config_path}: unreadable config.json ({exc}); re-export the checkpoint") from None
    policy_type = config.get("type") if isinstance(config, dict) else None
    if not isinstance(policy_type, str):
        raise BadInput(f"{config_path}: has no \"type\" field; add the policy type (e.g. \"type\": \"act\") "
                       f"or re-export with policyzoo export")
    return policy_type
