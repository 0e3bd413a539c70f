"""`policyzoo train` in-process: flags, training state, sampling, metrics, and short runs of every policy type."""

from __future__ import annotations

import itertools
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from policyzoo import hookimpl, list_policies
from policyzoo.errors import BadInput
from policyzoo.features import check_compatibility
from policyzoo.flags import Flags
from policyzoo.registry import get_registry
from policyzoo_runtime.train import prepare, state
from policyzoo_runtime.train.config import CONFIG_FILE, TrainConfig, parse_flags, resolve
from policyzoo_runtime.train.data import StepBatchSampler
from policyzoo_runtime.train.metrics import MetricsLog, verdict

GUIDE_LINE = [
    "--dataset.repo_id=USER/DATA",
    "--policy.type=act",
    "--policy.device=cuda",
    "--batch_size=2",
    "--policy.use_amp=true",
    "--steps=100000",
]
# Settings beyond each plugin's own `quick_settings` so that it fits the 48x48 test images.
EXTRA_SETTINGS: dict[str, dict[str, Any]] = {"diffusion": {"crop_shape": (40, 40)}}


def config_of(args: list[str]) -> TrainConfig:
    return resolve(parse_flags(Flags(args)), "policyzoo train " + " ".join(args))


def test_guide_line_parses_and_asks_for_no_repo_id() -> None:
    config = config_of(GUIDE_LINE)
    assert (config.dataset_repo_id, config.policy_type, config.batch_size, config.steps) == (
        "USER/DATA",
        "act",
        2,
        100_000,
    )
    assert config.policy == {"device": "cuda", "use_amp": "true"}
    assert not config.push_to_hub and config.repo_id is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--policy.type=act", "--stepz=3"], "--stepz: unknown flag. Did you mean --steps?"),
        (["--policy.type=act", "--steps=0"], "--steps=0: expected an integer of at least 1"),
        (["--policy.type=act", "--batch_size=two"], "--batch_size=two: expected an integer of at least 1"),
        (
            ["--policy.type=act", "--wandb.mode=loud"],
            "--wandb.mode=loud: allowed values are online, offline, disabled",
        ),
        (
            ["--policy.type=act", "--policy.push_to_hub=true"],
            "--policy.push_to_hub=true needs --policy.repo_id",
        ),
        (["--policy.type=act", "--optimizer.lr=-1"], "--optimizer.lr=-1: expected a number greater than 0"),
        (["--resume=true"], "--resume=true needs --output_dir=DIR"),
        ([], "--policy.type: which policy to train?"),
    ],
)
def test_bad_flags_name_the_flag(args: list[str], message: str) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        config_of(args)


def test_resume_keeps_the_run_and_takes_only_safe_changes(tmp_path: Path) -> None:
    stored = TrainConfig(
        dataset_root="/data",
        policy_type="act",
        policy={"chunk_size": "10"},
        steps=100,
        seed=3,
        output_dir=str(tmp_path),
    )
    (tmp_path / CONFIG_FILE).write_text(stored.to_json())
    resumed = config_of(["--resume=true", f"--output_dir={tmp_path}", "--steps=200", "--policy.device=cpu"])
    assert (resumed.dataset_root, resumed.seed, resumed.steps, resumed.resume) == ("/data", 3, 200, True)
    assert resumed.policy == {"chunk_size": "10", "device": "cpu"}
    with pytest.raises(BadInput, match=r"--policy.chunk_size: cannot change when resuming"):
        config_of(["--resume=true", f"--output_dir={tmp_path}", "--policy.chunk_size=20"])
    with pytest.raises(BadInput, match=r"--seed: cannot change when resuming"):
        config_of(["--resume=true", f"--output_dir={tmp_path}", "--seed=4"])


def test_training_state_round_trips_without_pickle(tmp_path: Path) -> None:
    def optimizer_and_scheduler() -> tuple[torch.optim.Optimizer, Any]:
        torch.manual_seed(0)
        model = torch.nn.Linear(3, 2)
        optimizer = torch.optim.AdamW(model.parameters(), lr=0.1)
        return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 / (step + 1))

    optimizer, scheduler = optimizer_and_scheduler()
    for _ in range(3):
        sum(p.sum() for group in optimizer.param_groups for p in group["params"]).backward()
        optimizer.step()
        scheduler.step()
    random.seed(1)
    np.random.seed(2)
    torch.manual_seed(3)
    state.save(tmp_path, 3, optimizer, scheduler, None)
    expected = (random.random(), np.random.rand(), torch.rand(2))

    fresh, fresh_scheduler = optimizer_and_scheduler()
    step, rng = state.load(tmp_path, fresh, fresh_scheduler, None)
    assert step == 3 and fresh_scheduler.last_epoch == 3
    assert fresh.param_groups[0]["lr"] == pytest.approx(optimizer.param_groups[0]["lr"])
    for key, values in optimizer.state_dict()["state"].items():
        for name, value in values.items():
            assert torch.equal(fresh.state_dict()["state"][key][name], value)
    state.set_rng_state(rng)
    assert (random.random(), np.random.rand()) == expected[:2] and torch.equal(torch.rand(2), expected[2])
    assert {path.suffix for path in tmp_path.iterdir()} == {".json", ".safetensors"}


def test_sampler_resumes_mid_stream_and_splits_across_processes() -> None:
    from accelerate.data_loader import BatchSamplerShard

    unbroken = list(itertools.islice(iter(StepBatchSampler(range(10), 4, seed=7)), 8))
    resumed = list(itertools.islice(iter(StepBatchSampler(range(10), 4, seed=7, start=5)), 3))
    assert resumed == unbroken[5:8]
    assert sorted(itertools.chain(*unbroken[:5])) == sorted(
        list(range(10)) * 2
    )  # whole epochs, each index once
    # What `accelerator.prepare` makes of the loader for two processes: each takes every other batch, so
    # one step of two processes at batch 2 covers one process's batch of 4.
    ranks = [iter(BatchSamplerShard(StepBatchSampler(range(10), 2, seed=7), 2, rank)) for rank in (0, 1)]
    for single in unbroken[:4]:
        assert next(ranks[0]) + next(ranks[1]) == single


def test_metrics_resume_drops_later_rows_and_plots(tmp_path: Path) -> None:
    log = MetricsLog(tmp_path)
    for step in (1, 5, 10, 15):
        log.append({"step": step, "loss": 1 / step})
    resumed = MetricsLog(tmp_path, resume_step=10)
    assert [row["step"] for row in resumed.rows] == [1, 5, 10]
    assert len(log.path.read_text().splitlines()) == 3
    assert resumed.plot("act").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_verdict_compares_with_the_guide() -> None:
    assert "the guide expects act to start near 1 and to end below 0.1: reached" in verdict("act", 1.1, 0.05)
    assert verdict("act", 1.0, 0.5).endswith(": not reached yet")
    assert "the guide expects diffusion to start near 10 and to end below 1: reached" in verdict(
        "diffusion", 9.0, 0.8
    )
    assert "no reference figure" in verdict("tdmpc", 4.0, 1.0)


# -- short real runs --------------------------------------------------------------------------------------------


def trainable_types() -> list[str]:
    """Installed policy types whose plugin builds models (test-only plugins may register a type and no model)."""
    return [entry.type for entry in list_policies() if entry.load_factory() is not None]


def quick_settings(policy_type: str, workdir: Path) -> dict[str, Any]:
    factory = get_registry().policy(policy_type).load_factory()
    settings = factory.bench_settings(True, workdir) if hasattr(factory, "bench_settings") else {}
    return {"device": "cpu", **settings, **EXTRA_SETTINGS.get(policy_type, {})}


def train_config(
    dataset: Path, output: Path, policy_type: str, settings: dict[str, Any], **run: Any
) -> TrainConfig:
    values = {"steps": 12, "batch_size": 4, "log_freq": 1, "save_freq": 100, "num_workers": 0, **run}
    return TrainConfig(
        dataset_root=str(dataset), policy_type=policy_type, policy=settings, output_dir=str(output), **values
    )


class Recorder:
    """A lifecycle-hook plugin that records what it is told."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    @hookimpl
    def on_train_start(self, run: Any) -> None:
        self.calls.append(("start", run))

    @hookimpl
    def on_train_step(self, step: int, metrics: dict[str, float]) -> None:
        self.calls.append(("step", (step, metrics)))

    @hookimpl
    def on_checkpoint_saved(self, step: int, path: Path) -> None:
        self.calls.append(("checkpoint", (step, path)))

    @hookimpl
    def on_train_end(self, summary: dict[str, Any]) -> None:
        self.calls.append(("end", summary))


@pytest.mark.slow
@pytest.mark.parametrize("policy_type", trainable_types())
def test_short_run_lowers_the_loss(
    policy_type: str,
    tiny_dataset: Path,
    tiny_dataset_one_camera: Path,
    tmp_path: Path,
    register_plugin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from policyzoo_runtime.train.loop import train

    settings = quick_settings(policy_type, tmp_path)
    spec = get_registry().policy(policy_type).spec(**settings)
    two_cameras = not check_compatibility(spec, prepare.read_dataset_meta(tiny_dataset).features)
    dataset = tiny_dataset if two_cameras else tiny_dataset_one_camera
    recorder = Recorder()
    register_plugin(recorder, "recorder")
    result = train(prepare.plan(train_config(dataset, tmp_path / "out", policy_type, settings, save_freq=6)))

    rows = [json.loads(line) for line in result.metrics.read_text().splitlines()]
    assert [row["step"] for row in rows] == list(range(1, 13))
    losses = [row["loss"] for row in rows]
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses
    assert set(rows[0]) >= {"loss", "grad_norm", "lr", "update_s", "data_s"}
    assert result.checkpoint == tmp_path / "out" / "checkpoints" / "000012"
    assert (tmp_path / "out" / "checkpoints" / "last").resolve() == result.checkpoint
    meta = json.loads((result.checkpoint / "pretrained_model" / "policyzoo.json").read_text())
    assert meta["policy_type"] == policy_type and meta["dataset"]["fingerprint"]
    assert meta["training"]["steps"] == 12 and meta["training"]["final_loss"] == pytest.approx(losses[-1])
    assert result.plot.is_file()
    kinds = [kind for kind, _ in recorder.calls]
    assert kinds == ["start", *["step"] * 6, "checkpoint", *["step"] * 6, "checkpoint", "end"]
    assert recorder.calls[-1][1]["status"] == "finished"
    if two_cameras and "image_key" in type(spec).model_fields:
        assert f"{policy_type} takes one: using observation.images.top (the first" in capsys.readouterr().out


class _Failing:
    """Wraps a real handle; its loss misbehaves from call `at` on."""

    def __init__(self, handle: Any, at: int, failure: Any) -> None:
        self._handle, self._at, self._failure, self._calls = handle, at, failure, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._handle, name)

    def loss(self, batch: dict[str, Any]) -> Any:
        self._calls += 1
        loss, info = self._handle.loss(batch)
        return (self._failure(loss), info) if self._calls >= self._at else (loss, info)


def _raise_oom(loss: Any) -> Any:
    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (
            lambda loss: loss * float("nan"),
            "the loss became nan at step 4; training stopped. The last good checkpoint (step 2) is kept",
        ),
        (
            _raise_oom,
            "CUDA ran out of memory at step 4 with --batch_size=4. Lower --batch_size (e.g. --batch_size=2) "
            "or add --policy.use_amp=true",
        ),
    ],
)
def test_a_failing_step_stops_and_keeps_the_last_checkpoint(
    failure: Any, message: str, tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyzoo_runtime.train import build, loop

    real_build = build.build_policy
    monkeypatch.setattr(build, "build_policy", lambda *args: _Failing(real_build(*args), 4, failure))
    config = train_config(tiny_dataset, tmp_path / "out", "act", quick_settings("act", tmp_path), save_freq=2)
    with pytest.raises(loop.TrainingStopped) as stopped:
        loop.train(prepare.plan(config))
    assert message in str(stopped.value) and stopped.value.exit_code == 1
    last = (tmp_path / "out" / "checkpoints" / "last").resolve()
    assert last.name == "000002" and (last / "training_state" / "training_step.json").is_file()
    assert sorted(p.name for p in last.parent.iterdir()) == ["000002", "last"]
    assert (
        json.loads((last / "pretrained_model" / "policyzoo.json").read_text())["training"]["status"]
        == "running"
    )


@pytest.mark.slow
def test_wandb_logs_offline_and_the_end_pushes(
    tiny_dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from policyzoo_runtime.cli.train import run
    from policyzoo_runtime.hub import push as hub_push

    pushed: list[tuple[Path, str]] = []
    monkeypatch.setattr(hub_push, "find_token", lambda: "hf_test")
    monkeypatch.setattr(
        hub_push, "push", lambda checkpoint, repo_id: pushed.append((Path(checkpoint), repo_id))
    )
    monkeypatch.setenv("WANDB_MODE", "offline")
    config = train_config(
        tiny_dataset,
        tmp_path / "out",
        "act",
        quick_settings("act", tmp_path),
        steps=2,
        wandb_enable=True,
        wandb_mode="offline",
        push_to_hub=True,
        repo_id="me/tiny-act",
    )
    run(config)  # the command pushes at the end; training itself does not know the Hub
    runs = list((tmp_path / "out").glob("wandb/offline-run-*/run-*.wandb"))
    assert len(runs) == 1, list((tmp_path / "out").rglob("*"))
    expected = (b"train/loss", b"train/grad_norm", b"checkpoint_step", b"final_loss", b"finished")
    deadline = time.monotonic() + 60  # W&B's service process may still be writing the file on a busy machine
    while True:
        record = runs[0].read_bytes()  # protobuf records: the logged keys and summary strings appear verbatim
        missing = [text for text in expected if text not in record]
        if not missing or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert not missing, missing
    assert pushed == [(tmp_path / "out" / "checkpoints" / "000002" / "pretrained_model", "me/tiny-act")]
