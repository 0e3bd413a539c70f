"""One run per output folder, resume that survives torn files and broken links, and a full disk while saving."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from safetensors import SafetensorError

from policyzoo.errors import BadInput
from policyzoo.flags import Flags
from policyzoo_runtime.train import prepare
from policyzoo_runtime.train.checkpoint_dirs import require_last
from policyzoo_runtime.train.config import CONFIG_FILE, TrainConfig, parse_flags, resolve
from policyzoo_runtime.train.lock import OWNER_FILE
from policyzoo_runtime.train.metrics import MetricsLog

HOLD_LOCK = """
import sys, time
from pathlib import Path
from policyzoo_runtime.train.lock import output_dir_lock
with output_dir_lock(Path(sys.argv[1]), "policyzoo train --steps=99 (the first run)"):
    print("holding", flush=True)
    time.sleep(120)
"""


def config_of(args: list[str]) -> TrainConfig:
    return resolve(parse_flags(Flags(args)), "policyzoo train " + " ".join(args))


def stored_run(output: Path, **values: Any) -> TrainConfig:
    output.mkdir(parents=True, exist_ok=True)
    config = TrainConfig(dataset_root="/data", policy_type="act", steps=100, output_dir=str(output), **values)
    (output / CONFIG_FILE).write_text(config.to_json())
    return config


def fake_checkpoint(output: Path, step: int, training_state: bool = True) -> Path:
    folder = output / "checkpoints" / f"{step:06d}"
    (folder / "pretrained_model").mkdir(parents=True)
    (folder / "pretrained_model" / "model.safetensors").write_bytes(b"")
    if training_state:
        (folder / "training_state").mkdir()
        (folder / "training_state" / "training_step.json").write_text(json.dumps({"step": step}))
    return folder


# -- the lock -------------------------------------------------------------------------------------------------


def test_a_second_run_into_a_locked_folder_names_the_holder(tmp_path: Path, tiny_dataset: Path) -> None:
    from policyzoo_runtime.train.loop import train

    output = tmp_path / "run"
    output.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(output)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        config = TrainConfig(
            dataset_root=str(tiny_dataset),
            policy_type="act",
            steps=2,
            output_dir=str(output),
            resume=True,
            num_workers=0,
            policy={"device": "cpu"},
        )
        plan = prepare.Plan(config, prepare.locate_dataset(config), None, None, None, output, {})
        with pytest.raises(
            BadInput,
            match=rf"another training is writing to it \(pid {holder.pid} on .*the first "
            rf"run\)\); wait for it to finish or stop it, or pick another",
        ):
            train(plan)
    finally:
        holder.kill()
        holder.wait()
    assert sorted(path.name for path in output.iterdir()) == [
        ".train.lock",
        OWNER_FILE,
    ]  # nothing else touched


def test_two_new_runs_into_one_folder_the_later_one_refuses(tmp_path: Path, tiny_dataset: Path) -> None:
    from policyzoo_runtime.train.loop import train

    output = tmp_path / "run"
    config = TrainConfig(
        dataset_root=str(tiny_dataset),
        policy_type="act",
        steps=2,
        output_dir=str(output),
        num_workers=0,
        policy={"device": "cpu"},
    )
    plan = prepare.plan(config)  # checked while the folder did not exist yet
    output.mkdir()  # ... and then the other run created it
    with pytest.raises(
        BadInput, match=r"another run created it just now; continue that run with --resume=true"
    ):
        train(plan)


# -- resume ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("flag", "stored"), [("--optimizer.lr=1e-3", "None"), ("--batch_size=32", "8")])
def test_resume_refuses_a_changed_learning_rate_or_batch_size(tmp_path: Path, flag: str, stored: str) -> None:
    stored_run(tmp_path)
    name = flag.split("=")[0]
    with pytest.raises(BadInput, match=rf"{name}: cannot change when resuming \(the run used {stored}\)"):
        config_of(["--resume=true", f"--output_dir={tmp_path}", flag])


def test_a_torn_train_config_falls_back_to_the_last_checkpoints_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stored = stored_run(tmp_path, seed=7)
    copy = fake_checkpoint(tmp_path, 10) / "pretrained_model" / CONFIG_FILE
    copy.write_text(stored.to_json())
    os.symlink("000010", tmp_path / "checkpoints" / "last")
    (tmp_path / CONFIG_FILE).write_text('{"dataset_root": "/da')
    assert config_of(["--resume=true", f"--output_dir={tmp_path}", "--steps=200"]).seed == 7
    assert "is damaged" in capsys.readouterr().err
    copy.write_text("")
    with pytest.raises(
        BadInput, match=r"train_config.json is damaged .* and no checkpoint holds a readable copy"
    ):
        config_of(["--resume=true", f"--output_dir={tmp_path}", "--steps=200"])


def test_resume_falls_back_to_the_newest_intact_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_checkpoint(tmp_path, 10)
    fake_checkpoint(tmp_path, 20)
    fake_checkpoint(tmp_path, 30, training_state=False)  # killed between the model and the training state
    os.symlink("000040", tmp_path / "checkpoints" / "last")  # dangling
    folder, step = require_last(tmp_path)
    assert (folder.name, step) == ("000020", 20)
    assert "resuming from the newest intact checkpoint, 000020 (step 20)" in capsys.readouterr().err
    for name in ("000010", "000020"):
        (tmp_path / "checkpoints" / name / "training_state" / "training_step.json").write_text("")
    with pytest.raises(BadInput, match=r"no intact checkpoint to resume from"):
        require_last(tmp_path)


def test_a_torn_metrics_line_is_dropped_on_resume(tmp_path: Path) -> None:
    rows = [{"step": 1, "loss": 1.0}, {"step": 2, "loss": 0.5}]
    (tmp_path / "metrics.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in rows) + '{"step": 3, "lo'
    )
    log = MetricsLog(tmp_path, resume_step=2)
    assert log.rows == rows
    log.append({"step": 3, "loss": 0.25})
    assert [json.loads(line)["step"] for line in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [
        1,
        2,
        3,
    ]


# -- a full disk ----------------------------------------------------------------------------------------------

FULL_DISK = {
    "os": OSError(errno.ENOSPC, "No space left on device"),
    "safetensors": SafetensorError(
        "Error while serializing: IoError(Os { code: 28, kind: StorageFull, message: "
        '"No space left on device" })'
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("raised_by", FULL_DISK)
def test_a_full_disk_while_saving_stops_with_one_line_and_keeps_the_last_checkpoint(
    raised_by: str, tmp_path: Path, tiny_dataset: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyzoo_runtime.train import loop, state

    real_save, calls = state.save, []

    def fill_the_disk(*args: Any) -> None:
        calls.append(time.time())
        if len(calls) == 2:
            raise FULL_DISK[raised_by]
        real_save(*args)

    monkeypatch.setattr(state, "save", fill_the_disk)
    output = tmp_path / "run"
    config = TrainConfig(
        dataset_root=str(tiny_dataset),
        policy_type="act",
        steps=4,
        save_freq=2,
        batch_size=2,
        output_dir=str(output),
        num_workers=0,
        log_freq=1,
        policy={
            "device": "cpu",
            "chunk_size": "5",
            "n_action_steps": "5",
            "dim_model": "16",
            "n_heads": "2",
            "dim_feedforward": "32",
            "n_encoder_layers": "1",
            "vision_backbone": "resnet18",
        },
    )
    with pytest.raises(
        loop.TrainingStopped,
        match=r"could not save the checkpoint of step 4 in .* \(No space left "
        r"on device\)\. The last good checkpoint \(step 2\) is kept",
    ):
        loop.train(prepare.plan(config))
    checkpoints = output / "checkpoints"
    assert sorted(path.name for path in checkpoints.iterdir()) == ["000002", "last"]  # no half-written folder
    assert (checkpoints / "last").resolve().name == "000002"
    resumed = config_of(["--resume=true", f"--output_dir={output}"])
    assert prepare.plan(resumed).last == checkpoints / "000002"


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)]
)
def test_a_closed_terminal_stops_a_run_between_steps_as_ctrl_c_does(signum: int, code: int) -> None:
    from policyzoo_runtime.train.signals import exit_code, stop_signals

    with stop_signals() as stop:
        os.kill(os.getpid(), signum)
        time.sleep(0.01)  # the handler runs at the next bytecode boundary
        assert stop.signum == signum
    assert exit_code(stop.signum) == code
