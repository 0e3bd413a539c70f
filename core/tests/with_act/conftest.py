"""A tiny ACT training output, built once, and its export: shared by the hub tests."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from policyzoo import Features
from policyzoo.checkpoint import DatasetRef, read_meta, write_meta
from policyzoo.spec import CameraSpec, JointSpec, RobotSpec

FAKE_TOKEN = "hf_" + "Q" * 34
LOCAL_DATA = "/home/someone/private/so101_data"
LOCAL_MODEL = "/home/someone/models/act-local"
REPO_ID = "someone/act-tiny"
JOINTS = [
    f"{side}_{motor}"
    for side in ("left", "right")
    for motor in ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
]


def png_bytes(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG (what the training loop's loss plot is, as far as export cares)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80\x40\x20" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def tiny_act(device: str = "cpu"):
    import policyzoo

    spec = policyzoo.get_spec("act")(
        device=device,
        chunk_size=5,
        n_action_steps=5,
        dim_model=16,
        n_heads=2,
        dim_feedforward=32,
        n_encoder_layers=1,
        n_decoder_layers=1,
        n_vae_encoder_layers=1,
        latent_dim=4,
    )
    features = Features(
        state={"observation.state": (12,)},
        visual={"observation.images.left_top": (3, 24, 24)},
        action={"action": (12,)},
        state_names=[f"{j}.pos" for j in JOINTS],
        action_names=[f"{j}.pos" for j in JOINTS],
        fps=30,
    )
    stats = {
        "observation.state": {
            "mean": [1.0] * 12,
            "std": [20.0] * 12,
            "min": [-90.0] * 12,
            "max": [90.0] * 12,
        },
        "action": {"mean": [2.0] * 12, "std": [25.0] * 12, "min": [-90.0] * 12, "max": [90.0] * 12},
        "observation.images.left_top": {
            "mean": [[[0.5]]] * 3,
            "std": [[[0.25]]] * 3,
            "min": [[[0.0]]] * 3,
            "max": [[[1.0]]] * 3,
        },
    }
    return policyzoo.build_policy(spec, features, stats)


@pytest.fixture(scope="session")
def act_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUTPUT/checkpoints/000010/{pretrained_model,training_state}, `last`, loss.png, metrics.jsonl.

    The checkpoint carries what must never be exported: a local path in config.json, a token and local
    paths in the training summary, a pickle file and the training state.
    """
    run = tmp_path_factory.mktemp("act_run")
    step = run / "checkpoints" / "000010"
    pretrained = step / "pretrained_model"
    tiny_act().save(pretrained)
    (step / "training_state").mkdir()
    (step / "training_state" / "training_step.json").write_text('{"step": 10}')
    (step / "training_state" / "optimizer_state.safetensors").write_bytes(b"state")
    os.symlink("000010", run / "checkpoints" / "last")
    (run / "loss.png").write_bytes(png_bytes())
    (run / "metrics.jsonl").write_text('{"step": 10, "loss": 0.5}\n')
    (pretrained / "extra_state.pt").write_bytes(b"not a pickle you want to load")
    config = json.loads((pretrained / "config.json").read_text())
    config["repo_id"] = LOCAL_MODEL
    (pretrained / "config.json").write_text(json.dumps(config, indent=4))
    meta = read_meta(pretrained)
    robot = RobotSpec(
        type="so101_bimanual",
        joints=[JointSpec(name=j, unit="deg", lower=-90, upper=90) for j in JOINTS],
        cameras=[CameraSpec(name="left_top", height=24, width=24)],
    )
    write_meta(
        pretrained,
        meta.model_copy(
            update={
                "robot": robot,
                "dataset": DatasetRef(repo_id="policyzoo/so101_bimanual_sample", fingerprint="0123abcd"),
                "training": {
                    "status": "completed",
                    "steps": 10,
                    "batch_size": 2,
                    "first_loss": 9.5,
                    "final_loss": 0.5,
                    "dataset": "policyzoo/so101_bimanual_sample",
                    "wall_s": 3.2,
                    "command": f"policyzoo train --dataset.root={LOCAL_DATA} --policy.type=act --steps=10 "
                    f"--output_dir={run}",
                    "note": f"logged in with {FAKE_TOKEN}",
                },
            }
        ),
    )
    return run


class CardSection:
    """A plugin adding to every model card through the `model_card_sections` hook."""

    from policyzoo import hookimpl

    @hookimpl
    def model_card_sections(self, meta):
        return f"## From a plugin\n\nTrained for {meta['training']['steps']} steps (said the hook).\n"


def as_cache_snapshot(folder: Path, hub: Path) -> Path:
    """`folder` laid out as a Hugging Face cache snapshot: each file a link to ../../blobs of its repo."""
    repo = hub / "models--someone--act"
    snapshot = repo / "snapshots" / ("0" * 40)
    (repo / "blobs").mkdir(parents=True)
    snapshot.mkdir(parents=True)
    for index, path in enumerate(sorted(folder.iterdir())):
        shutil.copyfile(path, repo / "blobs" / f"blob{index}")
        os.symlink(f"../../blobs/blob{index}", snapshot / path.name)
    return snapshot


@pytest.fixture
def checkpoint(act_run: Path, tmp_path: Path) -> Path:
    """A writable copy of the tiny ACT checkpoint's pretrained_model folder (real files, no links)."""
    copy = tmp_path / "checkpoint"
    shutil.copytree(act_run / "checkpoints" / "000010" / "pretrained_model", copy)
    return copy


@pytest.fixture(scope="session")
def exported(act_run: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, object]]:
    """(folder, ExportReport) of `policyzoo export` on the training output dir, with a card plugin."""
    from policyzoo.plugins import get_plugins
    from policyzoo_runtime.hub.export import export

    plugins = get_plugins()
    plugins.add(CardSection(), "card-section-test")
    try:
        target = tmp_path_factory.mktemp("exported") / "model"
        report = export(act_run, target, repo_id=REPO_ID)
    finally:
        plugins.remove("card-section-test")
    yield target, report


@pytest.fixture
def hf_home(monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's HF_HOME, also where an already imported huggingface_hub looks (it reads it at import)."""
    import huggingface_hub.constants as constants

    home = Path(os.environ["HF_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(constants, "HF_HOME", str(home))
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    return home
