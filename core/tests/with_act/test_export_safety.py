"""What export must never take along (links out of the folder, tokens in safetensors metadata) and bad Hub input."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from policyzoo.errors import BadInput
from policyzoo_runtime.hub import export as export_module
from policyzoo_runtime.hub import push as push_module

from .conftest import FAKE_TOKEN, REPO_ID, as_cache_snapshot

WEIGHTS = "model.safetensors"
SECRET = "aws_secret_access_key = do-not-upload-me"


def one_line_error(code: int, err: str) -> None:
    assert code == 2, err
    assert err.startswith("policyzoo: error: ") and err.count("\n") == 1 and "Traceback" not in err


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    path = tmp_path / "credentials"
    path.write_text(SECRET)
    return path


@pytest.fixture
def uploader(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The Hub seam replaced: records each upload, answers with a commit URL."""
    calls: list[Path] = []

    class Recording:
        def check(self, token: str) -> None:
            """The Hub answers."""

        def upload(self, folder: Path, repo_id: str, **_: object) -> str:
            calls.append(folder)
            return f"https://huggingface.co/{repo_id}/commit/0123456789abcdef"

    monkeypatch.setattr(push_module, "uploader", Recording())
    monkeypatch.setenv("HF_TOKEN", "hf_" + "T" * 34)
    return calls


@pytest.fixture
def no_slow_work(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Records whether export went past its cheap checks (reading the policy type comes next)."""
    reached: list[Path] = []
    monkeypatch.setattr(export_module, "policy_type_of", lambda folder: reached.append(folder) or "act")
    return reached


# -- links out of the checkpoint folder --------------------------------------------------------------------


@pytest.mark.slow
def test_a_linked_json_file_is_left_out_and_named(checkpoint, credentials, run_cli, tmp_path):
    os.symlink(credentials, checkpoint / "notes.json")
    (checkpoint / "extra.json").write_text('{"mine": true}')
    code, out, err = run_cli("export", str(checkpoint), "--to", str(tmp_path / "out"))
    assert code == 0, err
    exported = {path.name for path in (tmp_path / "out").iterdir()}
    assert "notes.json" not in exported and "extra.json" not in exported
    assert all(SECRET not in path.read_text(errors="replace") for path in (tmp_path / "out").iterdir())
    left_out = [line for line in out.splitlines() if "left out" in line]
    assert len(left_out) == 1
    assert "notes.json (a link to outside the checkpoint folder)" in left_out[0]
    assert "extra.json" in left_out[0] and "extra_state.pt" in left_out[0]


@pytest.mark.parametrize("name", ["config.json", WEIGHTS, "policyzoo.json"])
def test_a_model_file_linking_outside_is_refused(checkpoint, run_cli, tmp_path, name):
    outside = tmp_path / f"elsewhere-{name}"
    shutil.move(checkpoint / name, outside)
    os.symlink(outside, checkpoint / name)
    code, _, err = run_cli("export", str(checkpoint), "--to", str(tmp_path / "out"))
    one_line_error(code, err)
    assert f"{name}: links outside the checkpoint folder (to {outside})" in err
    assert not (tmp_path / "out").exists()


def test_a_hugging_face_cache_snapshot_exports(checkpoint, tmp_path):
    """Snapshot files are links to ../../blobs of the same cache repo: followed, not refused."""
    snapshot = as_cache_snapshot(checkpoint, tmp_path / "hub")
    report = export_module.export(snapshot, tmp_path / "out", verify=False)
    assert WEIGHTS in report.files and not (tmp_path / "out" / WEIGHTS).is_symlink()
    assert report.skipped == ["extra_state.pt"]


# -- safetensors metadata ----------------------------------------------------------------------------------


def test_clean_weights_are_copied_byte_for_byte(exported, act_run):
    folder, _ = exported
    original = act_run / "checkpoints" / "000010" / "pretrained_model" / WEIGHTS
    assert (folder / WEIGHTS).read_bytes() == original.read_bytes()


@pytest.mark.slow
def test_a_token_in_safetensors_metadata_is_scrubbed(checkpoint, tmp_path):
    import torch
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    tensors = load_file(checkpoint / WEIGHTS)
    save_file(
        tensors,
        checkpoint / WEIGHTS,
        metadata={"format": "pt", "note": f"pushed with {FAKE_TOKEN} from /home/someone/runs/act"},
    )
    report = export_module.export(checkpoint, tmp_path / "out")
    out = tmp_path / "out"
    with safe_open(str(out / WEIGHTS), framework="pt") as handle:
        assert handle.metadata() == {"format": "pt", "note": "pushed with <redacted> from act"}
    assert FAKE_TOKEN.encode() not in (out / WEIGHTS).read_bytes()
    exported = load_file(out / WEIGHTS)
    assert exported.keys() == tensors.keys() and all(torch.equal(exported[k], tensors[k]) for k in tensors)
    assert ("model.safetensors", "__metadata__.note") in {(c.file, c.where) for c in report.scrubbed}
    assert "metadata of `model.safetensors`" in (out / "README.md").read_text()
    assert report.lerobot_checked
    config = PreTrainedConfig.from_pretrained(str(out))
    get_policy_class("act").from_pretrained(str(out), config=config, strict=True)


# -- bad Hub input -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("repo_id", "problem"),
    [
        ("a/b--c", "'--' and '..' are not allowed"),
        ("someone/act-tiny\n", "starts or ends with a space or line break"),
        ("someone/act-tiny  ", "starts or ends with a space or line break"),
        (" someone/act-tiny", "starts or ends with a space or line break"),
        ("someone/act-", "each part must start with a letter or digit, end with a letter, digit or '_'"),
    ],
)
def test_bad_repo_id_is_one_line(run_cli, checkpoint, uploader, no_slow_work, tmp_path, repo_id, problem):
    for args in (
        ["push", str(checkpoint), "--repo-id", repo_id],
        ["export", str(checkpoint), "--to", str(tmp_path / "out"), "--repo-id", repo_id],
    ):
        code, _, err = run_cli(*args)
        one_line_error(code, err)
        assert f"--repo_id={push_module.shown(repo_id)}: not a Hub repo id (" in err and problem in err
    assert uploader == [] and no_slow_work == []


def test_revision_with_a_line_break(run_cli, checkpoint, uploader):
    code, _, err = run_cli("push", str(checkpoint), "--repo-id", REPO_ID, "--revision", "main\n")
    one_line_error(code, err)
    assert '--revision="main\\n": not a valid branch name' in err


@pytest.mark.slow
def test_a_hub_answer_without_url_is_not_reported_as_pushed(run_cli, act_run, uploader, monkeypatch):
    monkeypatch.setattr(push_module.uploader, "upload", lambda folder, repo_id, **_: None)
    code, out, err = run_cli("push", str(act_run), "--repo-id", REPO_ID)
    one_line_error(code, err)
    assert "pushed" not in out
    assert (
        f"push to {REPO_ID}: the Hub's answer has no commit URL (got None), so the upload is not confirmed"
        in err
    )


@pytest.mark.parametrize(
    "answer", ["", "None", {"oid": "abc"}, "https://huggingface.co/x/commit/1\nline two"]
)
def test_answers_without_a_commit_url(exported, monkeypatch, answer):
    monkeypatch.setattr(push_module.uploader, "upload", lambda folder, repo_id, **_: answer)
    folder, _ = exported
    with pytest.raises(BadInput, match="the Hub's answer has no commit URL") as caught:
        push_module._upload(folder, REPO_ID, token="hf_x", private=False, revision=None, message="x")
    assert "\n" not in str(caught.value)


def test_the_real_seam_returns_none_without_a_commit_url(monkeypatch, tmp_path):
    import huggingface_hub

    class Api:
        def __init__(self, **_: object) -> None: ...
        def create_repo(self, *_: object, **__: object) -> None: ...
        def upload_folder(self, **_: object) -> dict[str, str]:
            return {"oid": "abc"}

    monkeypatch.setattr(huggingface_hub, "HfApi", Api)
    url = push_module.HubUploader().upload(
        tmp_path, REPO_ID, token="hf_x", private=False, revision=None, commit_message="x"
    )
    assert url is None


# -- bad output folders: refused before any slow work ------------------------------------------------------


def test_export_to_an_existing_file(run_cli, checkpoint, no_slow_work, tmp_path):
    (tmp_path / "taken.txt").write_text("mine")
    code, _, err = run_cli("export", str(checkpoint), "--to", str(tmp_path / "taken.txt"))
    one_line_error(code, err)
    assert f"--to={tmp_path / 'taken.txt'}: is a file, not a folder" in err
    assert no_slow_work == [] and (tmp_path / "taken.txt").read_text() == "mine"


def test_export_under_a_regular_file(run_cli, checkpoint, no_slow_work, tmp_path):
    (tmp_path / "taken.txt").write_text("mine")
    target = tmp_path / "taken.txt" / "sub" / "model"
    code, _, err = run_cli("export", str(checkpoint), "--to", str(target))
    one_line_error(code, err)
    assert f"--to={target}: {tmp_path / 'taken.txt'} is a file, not a folder (a file is in the way)" in err
    assert no_slow_work == []


def test_export_into_a_folder_without_write_permission(
    run_cli, checkpoint, no_slow_work, tmp_path, monkeypatch
):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    if os.geteuid() == 0:  # root writes anywhere, so os.access says yes: answer as for any other user
        real_access = os.access
        monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode))
    try:
        code, _, err = run_cli("export", str(checkpoint), "--to", str(locked / "new" / "model"))
    finally:
        locked.chmod(0o755)
    one_line_error(code, err)
    assert f"no permission to write in {locked}; choose another --to" in err
    assert no_slow_work == [] and not (locked / "new").exists()
