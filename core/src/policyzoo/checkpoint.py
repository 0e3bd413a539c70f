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

from pydantic import BaseModel, ConfigDict, ValidationError

from policyzoo.errors import BadInput
from policyzoo.files import write_atomic
from policyzoo.spec import RobotSpec

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
    """The folder's `policyzoo.json` (None without one); a damaged one is a BadInput naming the file."""
    path = Path(directory) / META_FILE
    if not path.exists():
        return None
    try:
        return CheckpointMeta.model_validate_json(path.read_text())
    except (ValidationError, UnicodeDecodeError) as exc:
        raise BadInput(
            f"{path}: damaged ({_first_problem(exc)}); copy the checkpoint again, or delete "
            f"{META_FILE} to load the folder as LeRobot saved it"
        ) from None


def _first_problem(exc: ValidationError | UnicodeDecodeError) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where + ': ' if where else ''}{error['msg']}"


def write_meta(directory: Path, meta: CheckpointMeta) -> None:
    """Write `policyzoo.json` in one rename, so a crash never leaves it torn."""
    write_atomic(Path(directory) / META_FILE, meta.model_dump_json(indent=2) + "\n")


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
    for candidate in (
        directory,
        directory / "pretrained_model",
        directory / "checkpoints" / "last" / "pretrained_model",
    ):
        if (candidate / CONFIG_FILE).is_file():
            return candidate
    return None


def newest_run_below(folder: Path, depth: int = 2) -> Path | None:
    """The most recently saved training run within `depth` levels below `folder` (`outputs/train` holds
    DATE/TIME_JOB runs), or None."""
    runs = [
        run
        for level in range(1, depth + 1)
        for run in folder.glob("/".join(["*"] * level))
        if (run / "checkpoints" / "last" / "pretrained_model" / CONFIG_FILE).is_file()
    ]
    return max(runs, key=lambda run: (run / "checkpoints" / "last").lstat().st_mtime, default=None)


def resolve_pretrained(path_or_repo_id: str | Path, flag: str = "--policy.path") -> Path:
    """A local folder holding a saved policy: from a path, or from the Hub (or its cache) by repo id."""
    path = Path(path_or_repo_id).expanduser()
    if path.exists():
        found = find_pretrained(path)
        if found is None:
            newest = newest_run_below(path) if path.is_dir() else None
            hint = f"; the newest run under it is {newest}" if newest else ""
            raise BadInput(
                f"{flag}={path_or_repo_id}: no config.json in this folder, its pretrained_model/ "
                f"or checkpoints/last/; point it at a saved policy{hint}"
            )
        return found
    text = str(path_or_repo_id)
    if not _REPO_ID.match(text) or text.startswith((".", "/", "~")):
        raise BadInput(f"{flag}={text}: no such folder, and not a Hub repo id (USER/NAME)")
    return _download(text, flag)


def _download(repo_id: str, flag: str) -> Path:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        HfHubHTTPError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    try:
        folder = snapshot_download(repo_id, allow_patterns=SAFE_PATTERNS)
    except HFValidationError as exc:
        raise BadInput(
            f"{flag}={repo_id}: not a valid Hub repo id ({exc}); no such local folder either"
        ) from None
    except RepositoryNotFoundError:
        raise BadInput(
            f"{flag}={repo_id}: no such model repo on the Hub (or no access: check HF_TOKEN)"
        ) from None
    except LocalEntryNotFoundError:
        raise BadInput(
            f"{flag}={repo_id}: not in the local Hugging Face cache and the Hub cannot be reached "
            f"(offline?); download it first or pass a local folder"
        ) from None
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
        raise BadInput(
            f'{config_path}: has no "type" field; add the policy type (e.g. "type": "act") '
            f"or re-export with policyzoo export"
        )
    return policy_type


def check_saved_policy(directory: Path) -> None:
    """Raise a clear BadInput when a saved-policy folder is incomplete or damaged; reads no tensors.

    A LeRobot-loadable policy's processor files are checked by the runtime's LeRobot adapter before LeRobot
    reads them (`policyzoo_runtime.processor_files.check_processor_files`).
    """
    directory = Path(directory)
    policy_type_of(directory)
    weights = directory / WEIGHTS_FILE
    if not weights.is_file():
        pickles = sorted(p.name for p in directory.iterdir() if p.suffix in PICKLE_SUFFIXES)
        extra = f" ({', '.join(pickles)} found: pickle files are never loaded)" if pickles else ""
        raise BadInput(f"{directory}: no {WEIGHTS_FILE}{extra}; save or export the policy again")
    safetensors_header(weights)


def safetensors_header(path: Path) -> dict[str, Any]:
    """The JSON header of a safetensors file, after checking the file holds every tensor it declares."""
    size = path.stat().st_size
    try:
        with path.open("rb") as handle:
            length = int.from_bytes(handle.read(8), "little")
            if size < 8 or length > size - 8:
                raise ValueError("header longer than the file")
            header = json.loads(handle.read(length))
        end = max(
            (entry["data_offsets"][1] for key, entry in header.items() if key != "__metadata__"), default=0
        )
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        raise BadInput(
            f"{path}: not a valid safetensors file ({exc}); the download or copy is damaged, fetch it again"
        ) from None
    if size < 8 + length + end:
        raise BadInput(
            f"{path}: truncated ({size} bytes, the header declares {8 + length + end}); the download "
            f"or copy is incomplete, fetch it again"
        )
    return header


def load_error(directory: Path, exc: BaseException) -> BadInput | None:
    """A clear error for a weights file that does not fit its config (e.g. 14 vs 12 action dims)."""
    text = " ".join(str(exc).split())
    if "size mismatch" in text or ("shape" in text and "mismatch" in text):
        detail = text[text.find("size mismatch") :][:240] if "size mismatch" in text else text[:240]
        return BadInput(
            f"{directory}: {WEIGHTS_FILE} does not match config.json ({detail}); the files come from "
            f"different checkpoints"
        )
    if "Missing key" in text or "Unexpected key" in text:
        return BadInput(f"{directory}: {WEIGHTS_FILE} does not fit this policy type ({text[:240]})")
    return None
