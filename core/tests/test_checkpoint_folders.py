"""Saved-policy folders as users point at them: a folder of runs names its newest run, a damaged
`policyzoo.json` is one line naming the file, and `policyzoo.json` is written in one rename."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from policyzoo.checkpoint import CheckpointMeta, read_meta, resolve_pretrained, write_meta
from policyzoo.errors import BadInput


def _run(root: Path, name: str, when: float) -> Path:
    run = root / name
    (run / "checkpoints" / "000010" / "pretrained_model").mkdir(parents=True)
    (run / "checkpoints" / "000010" / "pretrained_model" / "config.json").write_text('{"type": "act"}')
    os.symlink("000010", run / "checkpoints" / "last")
    os.utime(run / "checkpoints" / "last", (when, when), follow_symlinks=False)
    return run


def test_a_folder_of_runs_names_its_newest_run(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs" / "train"
    _run(outputs, "2026-12-06/09-00-00_act", 1_000)
    newest = _run(outputs, "2026-12-07/10-00-00_act", 2_000)
    (outputs / "2026-12-07" / "11-00-00_act").mkdir()  # a run stopped before its first checkpoint
    with pytest.raises(
        BadInput, match=f"no config.json in this folder.*the newest run under it is {newest}$"
    ):
        resolve_pretrained(outputs)
    assert resolve_pretrained(newest) == newest / "checkpoints" / "last" / "pretrained_model"
    with pytest.raises(BadInput, match="point it at a saved policy$"):
        resolve_pretrained(tmp_path / "outputs" / "train" / "2026-12-07" / "11-00-00_act")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"format": 1, "policy_type": "act", "distri', "Invalid JSON"),
        ('{"format": 1, "policy_type": "act"}', "distribution: Field required"),
        ("[1, 2]", "Input should be an object"),
    ],
)
def test_a_damaged_policyzoo_json_is_one_line(tmp_path: Path, content: str, problem: str) -> None:
    (tmp_path / "policyzoo.json").write_text(content)
    with pytest.raises(
        BadInput,
        match=f"policyzoo.json: damaged \\(.*{problem}.*\\); copy the checkpoint again, or "
        f"delete policyzoo.json to load the folder as LeRobot saved it",
    ):
        read_meta(tmp_path)


def test_policyzoo_json_is_replaced_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    meta = CheckpointMeta(policy_type="act", distribution="policyzoo-act", version="1", spec={"type": "act"})
    write_meta(tmp_path, meta)

    def crash(*_args: object) -> None:
        raise OSError("the machine lost power")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        write_meta(tmp_path, meta.model_copy(update={"version": "2"}))
    assert read_meta(tmp_path) == meta
    assert [path.name for path in tmp_path.iterdir()] == ["policyzoo.json"]
