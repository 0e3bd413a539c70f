"""Training data at real sizes: samples per second of the loader `lerobot-train` (0.6) builds and of policyzoo's
training loader, side by side on the same synthetic dataset, for the window of frames each installed policy type
reads (ACT's one frame and 100 actions, Diffusion's two frames and 64, ...), and the share of a training step that
waits for data (of the type `bench deploy` drives, ACT's)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from typing import Any

import click

from policyzoo_bench.report import report

RATIO_GOAL = 2.0
"""policyzoo's samples/s over LeRobot's, with the same workers."""
SHARE_GOAL = 0.10
"""data_s / (data_s + update_s) of an ACT step at batch 8."""
STEP_SETTINGS = {
    "device": "cpu",
    "pretrained_backbone_weights": "None",
    "dim_model": "256",
    "n_heads": "8",
    "dim_feedforward": "1024",
    "n_encoder_layers": "2",
    "n_vae_encoder_layers": "2",
}
"""The step measurement's settings, where the policy has them: for ACT, LeRobot's ResNet18 and chunk of 100 with
a narrower transformer."""


@dataclass(frozen=True)
class Scale:
    episodes: int
    frames: int
    height: int
    width: int
    batches: int
    """Batches timed per loader, after the ones the workers had ready."""
    steps: int
    """ACT training steps timed."""


FULL = Scale(20, 300, 480, 640, batches=40, steps=6)
QUICK = Scale(2, 40, 48, 64, batches=3, steps=2)


@click.command("data")
@click.option("--quick", is_flag=True, help="Tiny sizes (2 episodes of 40 frames at 48x64) for tests.")
@click.option(
    "--policies",
    default="",
    help="Comma-separated policy types whose windows are compared "
    "(default: every installed type with a LeRobot config).",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=None,
    help="Data workers of both loaders [default: policyzoo train's default here].",
)
@click.option("--batch_size", type=click.IntRange(1, 1024), default=8, show_default=True)
@click.option(
    "--work_dir",
    type=click.Path(path_type=Path),
    default=Path("bench-results/data"),
    show_default=True,
    help="Where the synthetic dataset is built (and reused by the next run).",
)
@click.option("--out_dir", type=click.Path(path_type=Path), default=Path("bench-results"), show_default=True)
def command(
    quick: bool, policies: str, workers: int | None, batch_size: int, work_dir: Path, out_dir: Path
) -> None:
    """Samples/s of LeRobot's training loader (`lerobot-train` 0.6) and policyzoo's on 480x640 AV1 video (goal: 2x), and
    the data share of an ACT step (goal: at most 10%)."""
    from policyzoo_runtime.train.config import default_num_workers

    scale = QUICK if quick else FULL
    load = os.getloadavg()[0]  # a busy machine makes every figure here slower
    workers = default_num_workers() if workers is None else workers
    root, build_s = _dataset(work_dir, scale)
    windows = _windows(policies)
    rates = {
        name: {
            side: _rate(loader, scale.batches, workers, batch_size)
            for side, loader in _loaders(root, config, batch_size, workers).items()
        }
        for name, config in windows.items()
    }
    step = _step(root, scale.steps, workers)
    size = f"{scale.height}x{scale.width}"
    rows = [_rate_row(name, windows[name], rates[name], batch_size, workers) for name in windows]
    share = step["data_share"]
    rows.append(
        [
            f"data share of a {step['policy']} step ({_settings_text(step['spec'])}), batch 8, {size}",
            "-",
            f"{share:.1%} ({step['mean_data_s'] * 1000:.0f} ms of {step['step_s']:.2f} s)",
            "-",
            f"<= {SHARE_GOAL:.0%}: {'met' if share <= SHARE_GOAL else 'MISSED'}",
        ]
    )
    report(
        "data",
        ["measure", f"LeRobot {version('lerobot')}", "policyzoo", "ratio", "goal"],
        rows,
        {
            "dataset": {
                "root": str(root),
                "episodes": scale.episodes,
                "frames_per_episode": scale.frames,
                "cameras": 2,
                "size": size,
                "fps": 30,
                "codec": "av1 (libsvtav1)",
                "build_s": build_s,
            },
            "batch_size": batch_size,
            "num_workers": workers,
            "video_backend": "pyav",
            "batches_timed": scale.batches,
            "samples_per_s": rates,
            "ratio": {name: rate["policyzoo"] / rate["lerobot"] for name, rate in rates.items()},
            "ratio_goal": RATIO_GOAL,
            "step": step,
            "share_goal": SHARE_GOAL,
            "load_average_before": load,
        },
        out_dir,
    )


def _rate_row(name: str, config: Any, rates: dict[str, float], batch_size: int, workers: int) -> list[str]:
    observed = len(config.observation_delta_indices or [0])
    ratio = rates["policyzoo"] / rates["lerobot"]
    return [
        f"samples/s, {name} window ({observed} obs + {len(config.action_delta_indices)} actions), "
        f"batch {batch_size}, {workers} worker(s)",
        f"{rates['lerobot']:.1f}",
        f"{rates['policyzoo']:.1f}",
        f"{ratio:.2f}x",
        f">= {RATIO_GOAL:.0f}x: {'met' if ratio >= RATIO_GOAL else 'MISSED'}",
    ]


def _dataset(work_dir: Path, scale: Scale) -> tuple[Path, float | None]:
    """The synthetic dataset of `scale` in `work_dir` (built now, taking build_s seconds, or found: None)."""
    from policyzoo_runtime.lerobot.synth import SynthSize, write

    root = work_dir / f"synth_{scale.episodes}x{scale.frames}_{scale.height}x{scale.width}"
    if (root / "meta" / "info.json").is_file():
        return root, None
    partial = root.with_name(root.name + ".partial")  # renamed once complete: an interrupted build is redone
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    click.echo(
        f"building the synthetic dataset {root} ({scale.episodes} episodes of {scale.frames} frames, "
        f"two cameras at {scale.height}x{scale.width}, AV1)"
    )
    written = write(partial, SynthSize(scale.episodes, scale.frames, scale.height, scale.width))
    partial.rename(root)
    click.echo(f"built in {written.seconds:.0f} s")
    return root, round(written.seconds, 1)


def _loaders(root: Path, config: Any, batch_size: int, workers: int) -> dict[str, Iterable[dict[str, Any]]]:
    from policyzoo_runtime.lerobot.reference_loader import lerobot_train_loader
    from policyzoo_runtime.lerobot.synth import REPO_ID

    return {
        "lerobot": lerobot_train_loader(REPO_ID, root, config, batch_size, workers),
        "policyzoo": _policyzoo_loader(root, config, batch_size, workers),
    }


def _policyzoo_loader(root: Path, config: Any, batch_size: int, workers: int) -> Iterable[dict[str, Any]]:
    """What `policyzoo train` reads for a policy with `config`'s delta indices: `open_dataset`, `training_frames`,
    `resume.data_loader` (its sampler and settings) and the trainer-side `float_batches`."""
    import torch
    from accelerate import Accelerator

    from policyzoo.features import ACTION_KEY
    from policyzoo_runtime.datasets import read_meta
    from policyzoo_runtime.lerobot.datasets import open_dataset
    from policyzoo_runtime.lerobot.frames import float_batches, sample_positions, training_frames
    from policyzoo_runtime.lerobot.synth import REPO_ID
    from policyzoo_runtime.train.config import TrainConfig
    from policyzoo_runtime.train.prepare import DatasetPlace
    from policyzoo_runtime.train.resume import data_loader

    meta = read_meta(root)
    place = DatasetPlace(REPO_ID, root, meta.info, meta.features)
    indices = {ACTION_KEY: list(config.action_delta_indices)}
    if config.observation_delta_indices is not None:
        for key in (*meta.features.state, *meta.features.visual):
            indices[key] = list(config.observation_delta_indices)
    dataset = training_frames(open_dataset(place, indices))
    settings = TrainConfig(batch_size=batch_size, num_workers=workers)
    positions = sample_positions(dataset, getattr(config, "drop_n_last_frames", 0))
    loader = data_loader(dataset, positions, settings, torch.device("cpu"), 0, Accelerator(cpu=True))
    return float_batches(loader, dataset.frame_keys)


def _rate(loader: Iterable[dict[str, Any]], batches: int, workers: int, batch_size: int) -> float:
    """Samples per second once the batches the workers prepared ahead are used up (the steady rate)."""
    batch_iterator = iter(loader)
    for _ in range(2 + 4 * workers):  # at most this many were ready when the first arrived
        next(batch_iterator)
    started = time.perf_counter()
    for _ in range(batches):
        next(batch_iterator)
    rate = batches * batch_size / (time.perf_counter() - started)
    del batch_iterator  # stops the workers
    return round(rate, 2)


def _windows(policies: str) -> dict[str, Any]:
    """LeRobot's default config of each policy type named (or installed): its delta indices are the window."""
    from policyzoo.registry import get_registry
    from policyzoo_runtime.lerobot.reference_loader import policy_config

    names = [name for name in policies.split(",") if name] or sorted(get_registry().policies)
    windows = {}
    for name in names:
        try:
            windows[name] = policy_config(name)
        except ValueError:  # not a LeRobot policy type: no loader of lerobot-train's to compare with
            click.echo(f"{name}: LeRobot has no such policy type; its window is left out", err=True)
    return windows


def _settings_text(spec: dict[str, str]) -> str:
    return ", ".join(f"{key}={value}" for key, value in spec.items() if key != "device")


def _step(root: Path, steps: int, workers: int) -> dict[str, Any]:
    """data_s and update_s of the `bench deploy` policy (ACT's card picks it), trained by `policyzoo train` on the
    dataset at batch 8."""
    from policyzoo.registry import get_registry
    from policyzoo_bench.deploy import pick_policy
    from policyzoo_runtime.lerobot.synth import REPO_ID
    from policyzoo_runtime.train import prepare
    from policyzoo_runtime.train.config import TrainConfig
    from policyzoo_runtime.train.loop import train

    policy_type = pick_policy(None)
    fields = get_registry().policy(policy_type).spec.model_fields
    spec = {key: value for key, value in STEP_SETTINGS.items() if key in fields}
    with tempfile.TemporaryDirectory() as work:
        config = TrainConfig(
            policy_type=policy_type,
            dataset_repo_id=REPO_ID,
            dataset_root=str(root),
            policy=spec,
            batch_size=8,
            steps=steps + 1,
            log_freq=steps + 1,
            save_checkpoint=False,
            num_workers=workers,
            output_dir=str(Path(work) / "run"),
            command="policyzoo bench data",
        )
        summary = train(prepare.plan(config)).summary
    return {
        "policy": policy_type,
        "spec": spec,
        "batch_size": 8,
        "steps_timed": steps,
        "num_workers": workers,
        "data_share": summary["data_share"],
        "mean_data_s": summary["mean_data_s"],
        "mean_update_s": summary["mean_update_s"],
        "step_s": summary["mean_data_s"] + summary["mean_update_s"],
    }
