"""`policyzoo push`: export a checkpoint and upload it to the Hugging Face Hub in one commit.

Every write to the Hub goes through `uploader` (a `HubUploader`); tests replace it.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

from policyzoo.errors import BadInput

_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}$")
_BRANCH = re.compile(r"^(?!/)(?!.*//)(?!.*\.\.)[A-Za-z0-9._/-]{1,200}(?<!/)$")


@dataclass(frozen=True)
class PushResult:
    repo_id: str
    revision: str
    commit_url: str
    files: list[str]


class HubUploader:
    """Creates the repo (and branch) if needed and uploads a folder in one commit; the seam tests replace."""

    def __init__(self, endpoint: str | None = None) -> None:
        self.endpoint = endpoint

    def upload(self, folder: Path, repo_id: str, *, token: str, private: bool, revision: str | None,
               commit_message: str) -> str:
        """Upload every file in `folder`; return the commit's URL."""
        from huggingface_hub import HfApi

        api = HfApi(endpoint=self.endpoint, token=token)
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        if revision:
            api.create_branch(repo_id, branch=revision, repo_type="model", exist_ok=True)
        commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model",
                                   revision=revision, commit_message=commit_message)
        return str(getattr(commit, "commit_url", commit))


uploader: HubUploader = HubUploader()


def push(checkpoint: str | Path, repo_id: str, *, private: bool = False, revision: str | None = None,
         commit_message: str | None = None, license: str = "apache-2.0") -> PushResult:
    """Export CHECKPOINT to a temporary folder and upload it to REPO_ID; raises BadInput on any failure."""
    check_repo_id(repo_id)
    if revision is not None and not _BRANCH.match(revision):
        raise BadInput(f"--revision={revision}: not a valid branch name; use letters, digits, '.', '_', '-', '/'")
    token = find_token()
    from policyzoo.hub.export import export

    with tempfile.TemporaryDirectory(prefix="policyzoo-push-") as temporary:
        report = export(checkpoint, Path(temporary) / "model", repo_id=repo_id, license=license)
        message = commit_message or f"Upload {report.policy_type} policy with policyzoo"
        url = _upload(report.directory, repo_id, token=token, private=private, revision=revision,
                      message=message)
        return PushResult(repo_id, revision or "main", url, sorted(report.files))


def check_repo_id(repo_id: str, flag: str = "--repo-id") -> None:
    if not _REPO_ID.match(repo_id or "") or ".." in repo_id or repo_id.endswith((".git", ".")):
        raise BadInput(f"{flag}={repo_id}: not a Hub repo id; write USER/NAME (letters, digits, '-', '_', '.')")


def find_token() -> str:
    """The Hugging Face token from HF_TOKEN or the saved login, or a clear error."""
    from huggingface_hub import get_token

    token = get_token()
    if not token:
        raise BadInput("no Hugging Face token: set HF_TOKEN=hf_... or run `huggingface-cli login` "
                       "(a token with write access)")
    return token


def _upload(folder: Path, repo_id: str, *, token: str, private: bool, revision: str | None, message: str) -> str:
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    try:
        import requests

        network_errors: tuple[type[BaseException], ...] = (requests.ConnectionError, requests.Timeout,
                                                           OfflineModeIsEnabled)
    except ImportError:  # pragma: no cover - huggingface_hub < 1.0 always has requests
        network_errors = (OfflineModeIsEnabled,)
    try:
        url = uploader.upload(folder, repo_id, token=token, private=private, revision=revision,
                              commit_message=message)
    except network_errors as exc:
        raise BadInput(f"push to {repo_id} failed: cannot reach the Hub ({_short(exc)}); check the network "
                       f"(and HF_HUB_OFFLINE) and push again; the model was not uploaded") from None
    except HfHubHTTPError as exc:
        status = getattr(exc.response, "status_code", None)
        why = {401: "the token was rejected; log in again (huggingface-cli login)",
               403: f"the token may not write to {repo_id}; use a write token or a namespace you own"}.get(
            status, _short(exc))
        raise BadInput(f"push to {repo_id} failed: {why}; the model was not uploaded") from None
    if not url:
        raise BadInput(f"push to {repo_id} failed: the Hub returned no commit; the model was not uploaded")
    return url


def _short(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__
