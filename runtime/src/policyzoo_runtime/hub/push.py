"""`policyzoo push`: export a checkpoint and upload it to the Hugging Face Hub in one commit.

Every write to the Hub goes through `uploader` (a `HubUploader`); tests replace it.
"""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyzoo.errors import BadInput

# One part of USER/NAME, as the Hub takes it: starts with a letter or digit, ends with a letter, digit or '_'.
_PART = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,94}[A-Za-z0-9_])?")
_BRANCH = re.compile(r"(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}(?<!/)")
_COMMIT_URL = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    revision: str
    commit_url: str
    files: list[str]
    skipped: list[str]


class HubUploader:
    """Creates the repo (and branch) if needed and uploads a folder in one commit; the seam tests replace."""

    def __init__(self, endpoint: str | None = None) -> None:
        self.endpoint = endpoint

    def check(self, token: str) -> None:
        """Ask the Hub whose token this is: fails fast, before the export, when the Hub cannot be reached or
        refuses the token."""
        from huggingface_hub import HfApi

        HfApi(endpoint=self.endpoint, token=token).whoami()

    def upload(
        self,
        folder: Path,
        repo_id: str,
        *,
        token: str,
        private: bool,
        revision: str | None,
        commit_message: str,
    ) -> str | None:
        """Upload every file in `folder`; return the commit's URL (None when the Hub's answer has none)."""
        from huggingface_hub import HfApi

        api = HfApi(endpoint=self.endpoint, token=token)
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
        commit = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="model",
            revision=revision,
            commit_message=commit_message,
        )
        return getattr(commit, "commit_url", None)


uploader: HubUploader = HubUploader()


def push(
    checkpoint: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    revision: str | None = None,
    commit_message: str | None = None,
    license: str = "apache-2.0",
) -> PushResult:
    """Export CHECKPOINT to a temporary folder and upload it to REPO_ID; raises BadInput on any failure."""
    check_repo_id(repo_id)
    if revision is not None and not _BRANCH.fullmatch(revision):
        raise BadInput(
            f"--revision={shown(revision)}: not a valid branch name; use letters, digits, '.', '_', "
            f"'-', '/' (no spaces, '..' or '//')"
        )
    token = find_token()
    with hub_errors(repo_id):
        uploader.check(token)
    from policyzoo_runtime.hub.export import export

    with tempfile.TemporaryDirectory(prefix="policyzoo-push-") as temporary:
        report = export(checkpoint, Path(temporary) / "model", repo_id=repo_id, license=license)
        message = commit_message or f"Upload {report.policy_type} policy with policyzoo"
        url = _upload(
            report.directory, repo_id, token=token, private=private, revision=revision, message=message
        )
        return PushResult(repo_id, revision or "main", url, sorted(report.files), report.skipped)


def check_repo_id(repo_id: str, flag: str = "--repo_id") -> None:
    """BadInput naming what is wrong unless `repo_id` is a USER/NAME the Hub accepts."""
    problem = _repo_id_problem(repo_id or "")
    if problem:
        raise BadInput(
            f"{flag}={shown(repo_id)}: not a Hub repo id ({problem}); write USER/NAME (letters, "
            f"digits, '-', '_', '.')"
        )


def _repo_id_problem(repo_id: str) -> str | None:
    if repo_id != repo_id.strip():
        return "it starts or ends with a space or line break"
    if any(character.isspace() for character in repo_id):
        return "it contains a space"
    parts = repo_id.split("/")
    if len(parts) != 2 or not all(parts):
        return "it needs exactly one '/' between the user or organization and the name"
    if "--" in repo_id or ".." in repo_id:
        return "'--' and '..' are not allowed"
    if repo_id.endswith(".git"):
        return "it may not end in '.git'"
    if not all(_PART.fullmatch(part) for part in parts):
        return "each part must start with a letter or digit, end with a letter, digit or '_', and be at most 96 long"
    return None


def shown(text: str) -> str:
    """`text` as typed when it is plain, else quoted with escapes (a trailing newline or space stays visible)."""
    return text if text.isprintable() and text == text.strip() else json.dumps(text)


def find_token() -> str:
    """The Hugging Face token from HF_TOKEN or the saved login, or a clear error."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise BadInput(
            "no Hugging Face token: set HF_TOKEN=hf_... or run `huggingface-cli login` "
            "(a token with write access)"
        )
    return token


def _upload(
    folder: Path, repo_id: str, *, token: str, private: bool, revision: str | None, message: str
) -> str:
    with hub_errors(repo_id):
        url = uploader.upload(
            folder, repo_id, token=token, private=private, revision=revision, commit_message=message
        )
    if not isinstance(url, str) or not _COMMIT_URL.fullmatch(url):
        raise BadInput(
            f"push to {repo_id}: the Hub's answer has no commit URL (got {_answer(url)}), so the "
            f"upload is not confirmed; look at https://huggingface.co/{repo_id}/commits/"
            f"{revision or 'main'} before pushing again"
        )
    return url


@contextmanager
def hub_errors(repo_id: str) -> Iterator[None]:
    """Network, token and validation errors of the Hub client as one BadInput line each."""
    import httpx  # huggingface_hub >= 1.0 talks to the Hub through httpx
    from huggingface_hub.errors import HfHubHTTPError, HFValidationError, OfflineModeIsEnabled

    network_errors = (httpx.TransportError, OfflineModeIsEnabled)
    try:
        yield
    except network_errors as exc:
        raise BadInput(
            f"push to {repo_id} failed: cannot reach the Hub ({_short(exc)}); check the network "
            f"(and HF_HUB_OFFLINE) and push again; the model was not uploaded"
        ) from None
    except HfHubHTTPError as exc:
        status = getattr(exc.response, "status_code", None)
        why = {
            401: "the token was rejected; log in again (huggingface-cli login)",
            403: f"the token may not write to {repo_id}; use a write token or a namespace you own",
        }.get(status, _short(exc))
        raise BadInput(f"push to {repo_id} failed: {why}; the model was not uploaded") from None
    except HFValidationError as exc:
        raise BadInput(
            f"push to {repo_id} failed: the Hub library refused it ({_short(exc)}); the model was not "
            f"uploaded"
        ) from None


def _answer(value: Any) -> str:
    return " ".join(repr(value).split())[:80]


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
