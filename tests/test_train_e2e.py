"""`policyzoo train` and `policyzoo demo` through the CLI: bad input, SIGKILL and resume, Ctrl-C, accelerate."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

# ACT's quick settings (policyzoo_act.model.ACTFactory.quick_settings) as flags, on the CPU.
TINY_ACT = [
    "--policy.type=act",
    "--policy.device=cpu",
    "--policy.dim_model=32",
    "--policy.n_heads=2",
    "--policy.dim_feedforward=64",
    "--policy.n_encoder_layers=1",
    "--policy.n_vae_encoder_layers=1",
    "--policy.latent_dim=8",
    "--policy.chunk_size=10",
    "--policy.n_action_steps=5",
    "--batch_size=4",
]
# The resumed run replays the same float operations in the same order on the same CPU threads (model,
# optimizer, scheduler and RNG states restored bit for bit, data order a function of the step), so its
# losses equal the unbroken run's; the tolerance only absorbs the last digit of the JSON float round trip.
RESUME_RTOL = 1e-6


def losses(output: Path) -> dict[int, float]:
    text = (output / "metrics.jsonl").read_text()
    whole_lines = text[: text.rfind("\n") + 1]  # a running trainer may be halfway through a line
    rows = [json.loads(line) for line in whole_lines.splitlines()]
    return {row["step"]: row["loss"] for row in rows}


def checkpoint_step(output: Path) -> int:
    return json.loads(
        (output / "checkpoints" / "last" / "training_state" / "training_step.json").read_text()
    )["step"]


def wait_for(condition: Callable[[], bool], process: subprocess.Popen[str], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def edited_copy(dataset: Path, target: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    """A copy of a dataset with an edited info.json, its data files holding only the features it declares."""
    import pyarrow.parquet as pq

    shutil.copytree(dataset, target)
    info = json.loads((target / "meta" / "info.json").read_text())
    edit(info)
    (target / "meta" / "info.json").write_text(json.dumps(info))
    for path in (target / "data").glob("*/*.parquet"):
        table = pq.read_table(path)
        pq.write_table(table.select([name for name in table.column_names if name in info["features"]]), path)
    return target


def test_bad_input_is_one_line_and_exit_2(
    run_cli: Callable[..., tuple[int, str, str]], tiny_dataset: Path, tmp_path: Path
) -> None:
    no_action = edited_copy(tiny_dataset, tmp_path / "no-action", lambda info: info["features"].pop("action"))
    no_reward = edited_copy(
        tiny_dataset, tmp_path / "no-reward", lambda info: info["features"].pop("next.reward")
    )
    (tmp_path / "taken").mkdir()
    cases = [
        (
            [f"--dataset.root={tmp_path / 'missing'}", "--policy.type=act"],
            "--dataset.root=",
            "no such folder",
        ),
        ([f"--dataset.root={tmp_path}", "--policy.type=act"], "not a LeRobot dataset", "meta/info.json"),
        ([f"--dataset.root={no_action}", "--policy.type=act"], "cannot train on", "has no 'action' feature"),
        (
            [f"--dataset.root={no_reward}", "--policy.type=tdmpc"],
            "--policy.type=tdmpc cannot train on",
            "learns from rewards",
        ),
        (
            [f"--dataset.root={tiny_dataset}", "--policy.type=act", "--policy.chunk_sise=5"],
            "--policy.chunk_sise",
            "Did you mean --policy.chunk_size?",
        ),
        (
            [f"--dataset.root={tiny_dataset}", "--policy.type=actt"],
            "--policy.type=actt",
            "Did you mean 'act'?",
        ),
        (
            [f"--dataset.root={tiny_dataset}", "--policy.type=act", f"--output_dir={tmp_path / 'taken'}"],
            "already exists",
            "--resume=true",
        ),
        (
            ["--dataset.repo_id=nobody/nothing", "--policy.type=act"],
            "--dataset.repo_id=nobody/nothing",
            "HF_HUB_OFFLINE",
        ),
        (
            [f"--dataset.root={tiny_dataset}", "--resume=true", f"--output_dir={tmp_path / 'taken'}"],
            "nothing to resume",
            "train_config.json",
        ),
        (
            [f"--dataset.root={tiny_dataset}", "--policy.type=act", "--policy.device=cuda:9x"],
            "--policy.device",
            "cuda:N",
        ),
        (
            [
                f"--dataset.root={tiny_dataset}",
                "--policy.type=act",
                "--policy.push_to_hub=true",
                "--policy.repo_id=not a repo",
            ],
            "--policy.repo_id=not a repo",
            "USER/NAME",
        ),
        (
            [
                f"--dataset.root={tiny_dataset}",
                "--policy.type=act",
                "--policy.push_to_hub=true",
                "--policy.repo_id=me/model",
            ],
            "no Hugging Face token",
            "HF_TOKEN",
        ),
    ]
    for args, *expected in cases:
        code, out, err = run_cli("train", *args)
        assert code == 2, (args, out, err)
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
        for text in expected:
            assert text in err, (args, err)


def test_demo_without_a_sample_dataset_says_so(
    run_cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import policyzoo_runtime.datasets

    monkeypatch.setattr(
        policyzoo_runtime.datasets, "sample_dataset", lambda task: None
    )  # what every sample lookup asks
    code, _, err = run_cli("demo")
    assert code == 2 and "no installed plugin provides a sample dataset of task 'lift'" in err
    assert "pip install" in err


@pytest.mark.slow
def test_sigkill_then_resume_continues_like_an_unbroken_run(
    run_cli: Callable[..., tuple[int, str, str]],
    tiny_dataset: Path,
    tiny_dataset_seven_joints: Path,
    tmp_path: Path,
) -> None:
    args = [
        f"--dataset.root={tiny_dataset}",
        *TINY_ACT,
        "--steps=10",
        "--log_freq=1",
        "--save_freq=4",
        "--seed=5",
        "--num_workers=0",
    ]
    unbroken, broken = tmp_path / "unbroken", tmp_path / "broken"
    code, _, err = run_cli("train", *args, f"--output_dir={unbroken}")
    assert code == 0, err

    process = subprocess.Popen(
        [sys.executable, "-m", "policyzoo", "train", *args, f"--output_dir={broken}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: (broken / "checkpoints" / "000004").is_dir(), process)
    process.kill()
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert checkpoint_step(broken) == 4

    code, out, err = run_cli("train", "--resume=true", f"--output_dir={broken}")
    assert code == 0, err
    assert "step:5 " in out and "step:4 " not in out
    assert checkpoint_step(broken) == 10
    reference, continued = losses(unbroken), losses(broken)
    assert sorted(continued) == list(range(1, 11))
    for step in range(5, 11):
        assert continued[step] == pytest.approx(reference[step], rel=RESUME_RTOL), step
    assert not list((broken / "checkpoints").glob(".*partial*"))

    # The result fine-tunes on data like its own, and refuses data with other joints.
    code, out, err = run_cli(
        "train",
        f"--policy.path={broken}",
        f"--dataset.root={tiny_dataset}",
        "--steps=1",
        "--num_workers=0",
        f"--output_dir={tmp_path / 'finetuned'}",
    )
    assert code == 0, err
    assert (
        json.loads(
            (
                tmp_path / "finetuned" / "checkpoints" / "last" / "pretrained_model" / "policyzoo.json"
            ).read_text()
        )["spec"]["dim_model"]
        == 32
    )
    code, _, err = run_cli("train", f"--policy.path={broken}", f"--dataset.root={tiny_dataset_seven_joints}")
    assert (
        code == 2
        and (
            "the policy's 'observation.state' has shape [6], dataset local/seven has [7]; fine-tune on data "
            "with the same joints"
        )
        in err
    ), err


@pytest.mark.slow
def test_ctrl_c_saves_a_resumable_checkpoint_and_exits_130(
    run_cli: Callable[..., tuple[int, str, str]], tiny_dataset: Path, tmp_path: Path
) -> None:
    output = tmp_path / "out"
    args = [
        f"--dataset.root={tiny_dataset}",
        *TINY_ACT,
        "--log_freq=1",
        "--save_freq=1000",
        "--num_workers=1",
    ]
    # Its own process group, as in a terminal: Ctrl-C reaches the trainer and its data worker.
    process = subprocess.Popen(
        [sys.executable, "-m", "policyzoo", "train", *args, "--steps=100000", f"--output_dir={output}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    wait_for(lambda: (output / "metrics.jsonl").is_file() and len(losses(output)) >= 2, process)
    os.killpg(process.pid, signal.SIGINT)
    _, err = process.communicate(timeout=300)
    assert process.returncode == 130, err
    step = checkpoint_step(output)
    assert f"interrupted at step {step}; checkpoint saved" in err and "--resume=true" in err
    assert "Traceback" not in err

    code, _, err = run_cli("train", "--resume=true", f"--output_dir={output}", f"--steps={step + 2}")
    assert code == 0, err
    assert checkpoint_step(output) == step + 2 and max(losses(output)) == step + 2
    code, _, err = run_cli("train", "--resume=true", f"--output_dir={output}")
    assert code == 2 and f"--steps={step + 2}: the run in {output} is already at step {step + 2}" in err


@pytest.mark.slow
def test_accelerate_launch_runs_on_the_cpu(tiny_dataset: Path, tmp_path: Path) -> None:
    accelerate = Path(sys.executable).with_name("accelerate")
    done = subprocess.run(
        [
            str(accelerate),
            "launch",
            "--cpu",
            "--num_processes=1",
            "--num_machines=1",
            "--mixed_precision=no",
            "--dynamo_backend=no",
            "-m",
            "policyzoo",
            "train",
            f"--dataset.root={tiny_dataset}",
            *TINY_ACT,
            "--steps=2",
            "--num_workers=0",
            f"--output_dir={tmp_path / 'out'}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert checkpoint_step(tmp_path / "out") == 2


@pytest.mark.slow
def test_demo_trains_on_the_sample_evaluates_and_says_where_things_are(
    run_cli: Callable[..., tuple[int, str, str]], tmp_path: Path
) -> None:
    code, out, err = run_cli(
        "demo", "--steps=2", "--log_freq=1", "--eval_episodes=2", f"--output_dir={tmp_path / 'demo'}"
    )
    assert code == 0, err[-2000:]
    summary = json.loads((tmp_path / "demo" / "eval" / "eval_summary.json").read_text())
    assert summary["env"] == "so101_sim" and [e["seed"] for e in summary["per_episode"]] == [100_000, 100_001]
    assert f"success rate: {sum(e['success'] for e in summary['per_episode'])}/2 (" in out
    assert f"videos:     {tmp_path / 'demo' / 'eval'}/episode_000.mp4" in out
    assert (tmp_path / "demo" / "eval" / "episode_000.mp4").is_file()
    checkpoint = tmp_path / "demo" / "checkpoints" / "000002" / "pretrained_model"
    assert f"checkpoint: {checkpoint}" in out
    assert f"metrics:    {tmp_path / 'demo' / 'metrics.jsonl'}" in out
    assert f"loss plot:  {tmp_path / 'demo' / 'loss.png'}" in out
    meta = json.loads((checkpoint / "policyzoo.json").read_text())
    assert meta["policy_type"] == "act" and meta["dataset"]["repo_id"] and meta["training"]["steps"] == 2


def normalizer_state(folder: Path) -> dict[str, Any]:
    """The statistics a saved policy's preprocessor normalizes with, by policy key and statistic."""
    from safetensors.torch import load_file

    steps = json.loads((folder / "policy_preprocessor.json").read_text())["steps"]
    step = next(step for step in steps if step["registry_name"] == "normalizer_processor")
    return load_file(folder / step["state_file"])


@pytest.mark.slow
def test_fine_tuning_takes_the_new_datasets_stats_names_and_settings(
    run_cli: Callable[..., tuple[int, str, str]],
    tiny_dataset: Path,
    tiny_dataset_other_names: Path,
    tmp_path: Path,
) -> None:
    import torch

    import policyzoo
    from policyzoo_runtime.testing import fill_hf_cache, folder_files

    base = tmp_path / "base"
    quick = ["--steps=1", "--num_workers=0"]
    code, _, err = run_cli(
        "train", f"--dataset.root={tiny_dataset}", *TINY_ACT, *quick, f"--output_dir={base}"
    )
    assert code == 0, err
    saved = base / "checkpoints" / "last" / "pretrained_model"
    other = tiny_dataset_other_names
    rename = {
        "observation.images.front": "observation.images.top",
        "observation.images.side": "observation.images.wrist",
    }

    # Other camera names: refused with the rename map that fixes it.
    code, _, err = run_cli("train", f"--policy.path={base}", f"--dataset.root={other}", *quick)
    assert code == 2 and f"add --rename_map='{json.dumps(rename)}'" in err, err
    # A setting that changes the weights' shapes is refused; one that keeps them is taken.
    code, _, err = run_cli(
        "train",
        f"--policy.path={base}",
        f"--dataset.root={other}",
        "--policy.dim_model=64",
        f"--rename_map={json.dumps(rename)}",
        *quick,
    )
    assert code == 2 and "--policy.dim_model=64: changes the shape of the saved weights" in err, err
    code, _, err = run_cli(
        "train", f"--dataset.root={tiny_dataset}", *TINY_ACT, f"--rename_map={json.dumps(rename)}"
    )
    assert code == 2 and "--rename_map: renames the dataset's keys to those a pretrained policy" in err, err

    # Through the Hub cache, offline, as `--policy.path=USER/NAME`.
    fill_hf_cache(Path(os.environ["HF_HOME"]) / "hub", "someone/tiny-act", folder_files(saved))
    tuned = tmp_path / "tuned"
    code, out, err = run_cli(
        "train",
        "--policy.path=someone/tiny-act",
        f"--dataset.root={other}",
        "--policy.n_action_steps=3",
        f"--rename_map={json.dumps(rename)}",
        *quick,
        f"--output_dir={tuned}",
    )
    assert code == 0, err
    assert "normalization statistics of local/data" in out
    result = tuned / "checkpoints" / "last" / "pretrained_model"
    stats = json.loads((other / "meta" / "stats.json").read_text())
    state = normalizer_state(result)
    assert torch.allclose(state["observation.state.mean"], torch.tensor(stats["observation.state"]["mean"]))
    assert torch.allclose(state["action.std"], torch.tensor(stats["action"]["std"]))
    assert not torch.allclose(state["action.mean"], normalizer_state(saved)["action.mean"])
    handle = policyzoo.load_policy(result)
    assert set(handle.features.visual) == set(rename)  # it takes the new dataset's names ...
    assert set(handle.config.input_features) >= set(rename.values())  # ... and renames them for the model
    assert handle.spec.n_action_steps == 3 and handle.spec.dim_model == 32

    # The checkpoint's own statistics when asked for.
    kept = tmp_path / "kept"
    code, out, err = run_cli(
        "train",
        f"--policy.path={base}",
        f"--dataset.root={other}",
        "--keep_checkpoint_stats=true",
        f"--rename_map={json.dumps(rename)}",
        *quick,
        f"--output_dir={kept}",
    )
    assert code == 0, err
    assert torch.equal(
        normalizer_state(kept / "checkpoints" / "last" / "pretrained_model")["action.mean"],
        normalizer_state(saved)["action.mean"],
    )
