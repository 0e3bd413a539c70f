"""`policyzoo push`: one seam for every upload; clear errors; a failed upload is never reported as done."""

from __future__ import annotations

from pathlib import Path

import pytest

from policyzoo.errors import BadInput
from policyzoo_runtime.hub import push as push_module

from .conftest import REPO_ID


class RecordingUploader:
    """Stands in for the Hub: records each upload and the files it was given."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.calls: list[dict] = []
        self.fail = fail

    def check(self, token: str) -> None:
        """The Hub answers (a failing upload fails at the upload, after the export)."""

    def upload(
        self,
        folder: Path,
        repo_id: str,
        *,
        token: str,
        private: bool,
        revision: str | None,
        commit_message: str,
    ) -> str:
        self.calls.append(
            {
                "files": sorted(p.name for p in folder.iterdir()),
                "repo_id": repo_id,
                "token": token,
                "private": private,
                "revision": revision,
                "message": commit_message,
                "card": (folder / "README.md").read_text(),
            }
        )
        if self.fail is not None:
            raise self.fail
        return f"https://huggingface.co/{repo_id}/commit/0123456789abcdef"


@pytest.fixture
def uploader(monkeypatch: pytest.MonkeyPatch) -> RecordingUploader:
    fake = RecordingUploader()
    monkeypatch.setattr(push_module, "uploader", fake)
    return fake


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> str:
    value = "hf_" + "T" * 34
    monkeypatch.setenv("HF_TOKEN", value)
    return value


@pytest.mark.slow
def test_push_uploads_the_export_in_one_commit(run_cli, act_run, uploader, token):
    code, out, err = run_cli(
        "push",
        str(act_run / "checkpoints" / "000010"),
        "--repo-id",
        REPO_ID,
        "--private",
        "--revision",
        "tiny-v1",
        "--commit-message",
        "First tiny ACT",
    )
    assert code == 0, err
    assert len(uploader.calls) == 1
    call = uploader.calls[0]
    assert call["files"] == sorted(
        [
            "README.md",
            "config.json",
            "loss.png",
            "model.safetensors",
            "policy_postprocessor.json",
            "policy_postprocessor_step_0_unnormalizer_processor.safetensors",
            "policy_preprocessor.json",
            "policy_preprocessor_step_3_normalizer_processor.safetensors",
            "policyzoo.json",
        ]
    )
    assert (call["repo_id"], call["private"], call["revision"], call["message"]) == (
        REPO_ID,
        True,
        "tiny-v1",
        "First tiny ACT",
    )
    assert call["token"] == token
    assert f'load_policy("{REPO_ID}")' in call["card"] and token not in call["card"]
    assert f"pushed 9 files to https://huggingface.co/{REPO_ID} (revision tiny-v1)" in out


@pytest.mark.slow
def test_a_failed_upload_is_not_reported_as_done(run_cli, act_run, monkeypatch, token):
    import httpx

    failing = RecordingUploader(fail=httpx.ConnectError("All connection attempts failed"))
    monkeypatch.setattr(push_module, "uploader", failing)
    code, out, err = run_cli("push", str(act_run), "--repo-id", REPO_ID)
    assert code == 2 and len(failing.calls) == 1
    assert "pushed" not in out
    assert err.startswith(f"policyzoo: error: push to {REPO_ID} failed: cannot reach the Hub")
    assert "the model was not uploaded" in err and err.count("\n") == 1


def test_missing_token(run_cli, act_run, uploader, hf_home, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    code, out, err = run_cli("push", str(act_run), "--repo-id", REPO_ID)
    assert code == 2 and "no Hugging Face token: set HF_TOKEN" in err
    assert uploader.calls == []


def test_saved_login_token_is_used(hf_home, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    (hf_home / "token").write_text("hf_" + "L" * 34)
    assert push_module.find_token() == "hf_" + "L" * 34


@pytest.mark.parametrize("repo_id", ["noslash", "a/b/c", "/abs/path", "user/", "user/name..x", "us er/name"])
def test_malformed_repo_id(run_cli, act_run, uploader, token, repo_id):
    code, _, err = run_cli("push", str(act_run), "--repo-id", repo_id)
    assert code == 2 and f"--repo_id={repo_id}: not a Hub repo id (" in err and "write USER/NAME" in err
    assert uploader.calls == []


def test_bad_branch_name(run_cli, act_run, uploader, token):
    code, _, err = run_cli("push", str(act_run), "--repo-id", REPO_ID, "--revision", "a..b")
    assert code == 2 and "--revision=a..b: not a valid branch name" in err


def test_real_uploader_reports_an_unreachable_hub(exported, monkeypatch):
    """The real seam against an endpoint nothing listens on: a network failure, said in one line."""
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(push_module, "uploader", push_module.HubUploader(endpoint="http://127.0.0.1:9"))
    folder, _ = exported
    with pytest.raises(BadInput, match=r"cannot reach the Hub .*the model was not uploaded"):
        push_module._upload(
            folder, REPO_ID, token="hf_" + "T" * 34, private=False, revision=None, message="x"
        )


def test_offline_mode_is_a_network_failure(exported, monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(push_module, "uploader", push_module.HubUploader())
    folder, _ = exported
    with pytest.raises(BadInput, match=r"cannot reach the Hub .*HF_HUB_OFFLINE"):
        push_module._upload(
            folder, REPO_ID, token="hf_" + "T" * 34, private=False, revision=None, message="x"
        )


def test_rejected_token(exported, monkeypatch):
    import httpx
    from huggingface_hub.errors import HfHubHTTPError

    response = httpx.Response(403, request=httpx.Request("POST", "https://huggingface.co/api/repos/create"))
    monkeypatch.setattr(
        push_module, "uploader", RecordingUploader(fail=HfHubHTTPError("403 Forbidden", response=response))
    )
    folder, _ = exported
    with pytest.raises(BadInput, match=f"the token may not write to {REPO_ID}"):
        push_module._upload(folder, REPO_ID, token="hf_x", private=False, revision=None, message="x")


def test_push_offline_says_so_before_exporting(run_cli, act_run, token, monkeypatch):
    """The Hub is asked first (whoami through the real seam), so an offline push fails at once, in one line."""
    import huggingface_hub.constants

    from policyzoo_runtime.hub import export as export_module

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(push_module, "uploader", push_module.HubUploader())
    monkeypatch.setattr(
        export_module, "export", lambda *args, **kwargs: pytest.fail("exported before asking")
    )
    code, _, err = run_cli("push", str(act_run), "--repo-id", REPO_ID)
    assert code == 2 and err.count("\n") == 1, err
    assert f"push to {REPO_ID} failed: cannot reach the Hub" in err and "the model was not uploaded" in err
