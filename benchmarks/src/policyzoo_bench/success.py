"""`policyzoo bench success`: train every installed policy type on scripted demos of a simulator task with the
settings its plugin declares (`PolicyCard.bench.presets`), evaluate every checkpoint on seeds no demo used,
and report success rates side by side: the comparison table, measured.

Everything lands in `--work_dir` (demos, one training run per type, one evaluation per checkpoint), so an
interrupted benchmark resumes where it stopped and a finished one reprints its table without recomputing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import click

from policyzoo.card import FinishPhase, TaskPresets, TrainingPreset
from policyzoo.errors import BadInput
from policyzoo.flags import flag_text
from policyzoo.interrupts import Terminated
from policyzoo_bench.report import report
from policyzoo_runtime.counts import MAX_EPISODES
from policyzoo_runtime.evaluation.sim import UNSEEN_SEED, sim_env_for_task

STATE_FILE = "bench_state.json"
FINISH_DIR = "finish"
"""The folder, inside a run, of its preset's finishing phase (`TrainingPreset.finish`)."""
PLOT_FILE = "success.png"
HEADERS = [
    "policy",
    "demos",
    "cameras",
    "steps",
    "train wall",
    "success",
    "95% interval",
    "mean stage",
    "chunk p50",
    "peak train RSS",
    "eval steps/s",
]


@dataclass
class RunState:
    """What the benchmark knows of one training run beyond its checkpoints (kept across resumes)."""

    train_wall_s: float = 0.0
    peak_rss_mb: float = 0.0
    settings: dict[str, Any] | None = None
    """The preset the run was started with (`run_settings`); None for runs from before it was kept."""


@click.command("success")
@click.option(
    "--task", required=True, help="Simulator task: a robot's sim_task, e.g. lift (one arm) or transfer."
)
@click.option(
    "--policies",
    default="",
    help="Comma-separated policy types (default: every installed type "
    "whose plugin declares settings for the task).",
)
@click.option(
    "--scale",
    type=click.Choice(["auto", "cpu", "gpu"]),
    default="auto",
    show_default=True,
    help="Which of the plugin's settings to run; auto: gpu when CUDA is present.",
)
@click.option(
    "--episodes",
    type=click.IntRange(1, MAX_EPISODES),
    default=20,
    show_default=True,
    help="Evaluation episodes per checkpoint.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=os.cpu_count() or 1,
    show_default=True,
    help="Evaluation worker processes.",
)
@click.option(
    "--demos",
    type=click.IntRange(1, MAX_EPISODES),
    default=None,
    help="Override the number of scripted demos of every preset.",
)
@click.option(
    "--steps",
    type=click.IntRange(1, 10_000_000),
    default=None,
    help="Override the training steps of every preset.",
)
@click.option(
    "--work_dir",
    type=click.Path(path_type=Path),
    default=Path("bench-results/success"),
    show_default=True,
    help="Demos, training runs and evaluations; rerun to resume.",
)
@click.option("--out_dir", type=click.Path(path_type=Path), default=Path("bench-results"), show_default=True)
def command(
    task: str,
    policies: str,
    scale: str,
    episodes: int,
    workers: int,
    demos: int | None,
    steps: int | None,
    work_dir: Path,
    out_dir: Path,
) -> None:
    """Success rate in the simulator of every policy type, trained with its plugin's settings for TASK."""
    robot_type = sim_env_for_task(task).removesuffix("_sim")
    scale = resolve_scale(scale)
    chosen = presets_for(task, [name for name in policies.split(",") if name])
    rows, results = [], []
    for policy_type, presets in chosen.items():
        preset = presets.at(scale)
        if preset is None:
            reason = presets.note or f"its plugin declares no {scale} settings for {task}"
            rows.append([policy_type, *["-"] * 4, f"not run: {reason}", *["-"] * 5])
            results.append({"policy": policy_type, "scale": scale, "not_run": reason})
            continue
        if demos is not None or steps is not None:
            preset = preset.model_copy(
                update={
                    key: value for key, value in (("demos", demos), ("steps", steps)) if value is not None
                }
            )
        demo_root = ensure_demos(work_dir, task, robot_type, preset.demos, preset.cameras)
        run_dir = (
            work_dir
            / "runs"
            / f"{task}-{policy_type}-{scale}-{preset.demos}demos{camera_suffix(preset.cameras)}"
        )
        run = train_run(policy_type, preset, scale, demo_root, run_dir)
        curve = evaluate_checkpoints(run_dir, robot_type, episodes, workers)
        if not curve:
            raise BadInput(
                f"bench success: {policy_type} left no checkpoint in {run_dir}; see its training log"
            )
        last_dir = run_dir
        if preset.finish is not None:
            last_dir = run_dir / FINISH_DIR
            finish = finish_run(policy_type, preset.finish, preset.batch_size, demo_root, run_dir)
            run.train_wall_s += finish.train_wall_s
            run.peak_rss_mb = max(run.peak_rss_mb, finish.peak_rss_mb)
            curve += evaluate_checkpoints(
                last_dir, robot_type, episodes, workers, step_offset=curve[-1]["step"]
            )
        final = curve[-1]
        latency = chunk_latency_ms(last_dir, robot_type)
        result = {
            "policy": policy_type,
            "scale": scale,
            "demos": preset.demos,
            "cameras": camera_names(demo_root),
            "steps": final["step"],
            "train_wall_s": round(run.train_wall_s, 1),
            "peak_train_rss_mb": round(run.peak_rss_mb),
            "chunk_latency_p50_ms": round(latency, 1),
            "final": final,
            "curve": curve,
            "preset": preset.model_dump(),
            "run_dir": str(run_dir),
        }
        results.append(result)
        rows.append(table_row(result))
    measured = [result for result in results if "curve" in result]
    plot = plot_curves(measured, task, out_dir / f"success-{task}.png") if measured else None
    report(
        f"success-{task}",
        HEADERS,
        rows,
        {
            "task": task,
            "robot": robot_type,
            "scale": scale,
            "episodes": episodes,
            "eval_seed": UNSEEN_SEED,
            "results": results,
            "plot": str(plot) if plot else None,
        },
        out_dir,
    )
    if plot:
        click.echo(f"success against training steps: {plot}")


# -- what to run --------------------------------------------------------------------------------------------


def resolve_scale(scale: str) -> str:
    if scale != "auto":
        return scale
    import torch

    return "gpu" if torch.cuda.is_available() else "cpu"


def presets_for(task: str, wanted: list[str]) -> dict[str, TaskPresets]:
    """policy type -> its plugin's settings for `task` (all installed types that declare some, or `wanted`)."""
    from policyzoo.registry import get_registry

    entries = get_registry().policies
    for name in wanted:
        get_registry().policy(name, flag="--policies")  # unknown or not installed: one clear line
    declared = {name: entry.card.bench.presets if entry.card.bench else {} for name, entry in entries.items()}
    names = wanted or sorted(name for name, presets in declared.items() if task in presets)
    if not names:
        raise BadInput(
            f"--task={task}: no installed policy plugin declares settings for it "
            f"(PolicyCard.bench.presets['{task}'])"
        )
    chosen: dict[str, TaskPresets] = {}
    for name in names:
        presets = declared[name].get(task)
        if presets is None:
            raise BadInput(
                f"--policies={name}: its plugin declares no settings for task '{task}' "
                f"(PolicyCard.bench.presets); tasks it has: {', '.join(declared[name]) or 'none'}"
            )
        chosen[name] = presets
    return chosen


# -- demos, training, evaluation ----------------------------------------------------------------------------


def camera_suffix(cameras: tuple[str, ...] | None) -> str:
    """How demo and run folders name cameras other than the robot's: '-left_top+right_wrist', or ''."""
    return f"-{'+'.join(cameras)}" if cameras else ""


def ensure_demos(
    work_dir: Path, task: str, robot_type: str, count: int, cameras: tuple[str, ...] | None = None
) -> Path:
    """`count` scripted episodes of `task` (seeds 0 to count-1) seen by `cameras` (default: the robot's own),
    recorded once and reused; the folder is named by the count and any cameras other than the robot's."""
    from policyzoo.checkpoint import atomic_directory
    from policyzoo_runtime.record.sim import SIM_META, make_sim, record_episodes, sim_cameras

    root = work_dir / "demos" / f"{task}-{count}{camera_suffix(cameras)}"
    if (root / SIM_META).is_file():
        return root
    click.echo(f"[{task}] recording {count} scripted demos into {root}")
    robot = make_sim(robot_type, cameras=sim_cameras(robot_type, list(cameras)) if cameras else None)
    try:
        with atomic_directory(root) as partial:
            recorded = record_episodes(robot, partial, f"local/{task}-{count}", count, seed=0, progress=False)
    finally:
        robot.disconnect()
    if recorded.successes != count:
        click.echo(f"[{task}] warning: {count - recorded.successes} of the scripted demos failed", err=True)
    return root


def train_run(policy_type: str, preset: TrainingPreset, scale: str, demos: Path, run_dir: Path) -> RunState:
    """Train (or resume, or skip when done) one policy type in its own process; wall time and peak RSS."""
    state = run_state(policy_type, run_settings(preset), run_dir)
    policy = {"device": "cuda" if scale == "gpu" else "cpu", **preset.policy}
    fresh = [
        f"--dataset.root={demos}",
        f"--policy.type={policy_type}",
        *run_flags(preset.batch_size, preset.save_freq, preset.flags),
        *(f"--policy.{key}={flag_text(value)}" for key, value in policy.items()),
    ]
    label = f"training {preset.steps} steps on {demos.name} ({scale} settings)"
    return train_phase(policy_type, run_dir, preset.steps, fresh, label, state)


def finish_run(policy_type: str, phase: FinishPhase, batch_size: int, demos: Path, run_dir: Path) -> RunState:
    """Train (or resume, or skip when done) a finishing `phase` from the last checkpoint of `run_dir`, in
    `run_dir/finish`; started again when the phase's settings or the checkpoint it starts from change."""
    from policyzoo_runtime.train.checkpoint_dirs import PRETRAINED

    start = checkpoint_dirs(run_dir)[-1]
    settings = {"finish": phase.model_dump(mode="json", exclude={"steps"}), "from_step": int(start.name)}
    finish_dir = run_dir / FINISH_DIR
    state = run_state(policy_type, settings, finish_dir)
    # the same demos: the checkpoint's statistics are theirs, and its config keeps the first phase's device
    fresh = [
        f"--dataset.root={demos}",
        f"--policy.path={start / PRETRAINED}",
        "--keep_checkpoint_stats=true",
        *run_flags(batch_size, phase.save_freq, phase.flags),
    ]
    label = f"finishing: {phase.steps} steps from the checkpoint of step {int(start.name)}"
    return train_phase(policy_type, finish_dir, phase.steps, fresh, label, state)


def run_flags(batch_size: int, save_freq: int, flags: dict[str, Any]) -> list[str]:
    """The `policyzoo train` flags every benchmark run has, then a preset's own."""
    return [
        f"--batch_size={batch_size}",
        f"--save_freq={save_freq}",
        f"--log_freq={max(1, save_freq // 10)}",
        "--num_workers=1",
        *(f"--{name}={flag_text(value)}" for name, value in flags.items()),
    ]


def train_phase(
    policy_type: str, run_dir: Path, steps: int, fresh: list[str], label: str, state: RunState
) -> RunState:
    """Run `policyzoo train` into `run_dir` until `steps`: resumed from its last checkpoint, or started with the
    flags `fresh`; its wall time and peak RSS are added to `state`, which is saved beside the run."""
    from policyzoo_runtime.train.checkpoint_dirs import last_checkpoint

    done = completed_steps(run_dir)
    if done >= steps:
        return state
    command = [sys.executable, "-m", "policyzoo", "train", f"--output_dir={run_dir}", f"--steps={steps}"]
    if last_checkpoint(run_dir) is not None:
        click.echo(f"[{policy_type}] resuming {run_dir.name} at step {done} of {steps}")
        command.append("--resume=true")
    else:
        click.echo(f"[{policy_type}] {label}")
        command += fresh
        shutil.rmtree(run_dir, ignore_errors=True)  # a run stopped before its first checkpoint starts over
    start = time.perf_counter()
    process = subprocess.Popen(command)
    try:
        _, status, usage = os.wait4(process.pid, 0)
    except KeyboardInterrupt as exc:  # it saves a checkpoint when stopped: the next run resumes there
        if isinstance(exc, Terminated):  # Ctrl-C reached the whole process group; a signal only this process
            process.send_signal(exc.signum)
        process.wait()
        raise
    process.returncode = os.waitstatus_to_exitcode(status)
    run_dir.mkdir(parents=True, exist_ok=True)
    state.train_wall_s += time.perf_counter() - start
    state.peak_rss_mb = max(state.peak_rss_mb, usage.ru_maxrss / 1024)
    (run_dir / STATE_FILE).write_text(json.dumps(asdict(state), indent=2) + "\n")
    if process.returncode != 0:
        raise BadInput(
            f"bench success: training {policy_type} failed (exit {process.returncode}); rerun the same "
            f"command to resume from its last checkpoint"
        )
    return state


def run_state(policy_type: str, settings: dict[str, Any], run_dir: Path) -> RunState:
    """The state of the run in `run_dir`; a run trained with other `settings` is removed first."""
    state_path = run_dir / STATE_FILE
    state = RunState(**json.loads(state_path.read_text())) if state_path.is_file() else RunState()
    if state.settings not in (None, settings):
        click.echo(
            f"[{policy_type}] its plugin's settings changed since {run_dir} was trained: training again"
        )
        shutil.rmtree(run_dir)
        state = RunState()
    state.settings = settings
    return state


def run_settings(preset: TrainingPreset) -> dict[str, Any]:
    """What a run was trained with, as JSON keeps it: the preset but for its step count (a longer --steps resumes
    the run), its note and its finishing phase (which trains in a folder of its own)."""
    return preset.model_dump(mode="json", exclude={"steps", "note", "finish"})


def camera_names(demos: Path) -> list[str]:
    from policyzoo_runtime.datasets import read_meta

    return read_meta(demos).cameras


def completed_steps(run_dir: Path) -> int:
    steps = [int(path.name) for path in checkpoint_dirs(run_dir)]
    return max(steps, default=0)


def checkpoint_dirs(run_dir: Path) -> list[Path]:
    from policyzoo_runtime.train.checkpoint_dirs import CHECKPOINTS, PRETRAINED

    folder = run_dir / CHECKPOINTS
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.iterdir()
        if path.name.isdigit() and not path.is_symlink() and (path / PRETRAINED).is_dir()
    )


def evaluate_checkpoints(
    run_dir: Path, robot_type: str, episodes: int, workers: int, step_offset: int = 0
) -> list[dict[str, Any]]:
    """Success of every checkpoint on the same `episodes` seeds; each result is kept beside the run. A finishing
    phase's checkpoints count their steps after the `step_offset` steps of the phase before."""
    from policyzoo_runtime.evaluation.sim import SUMMARY_FILE, EvalConfig, evaluate
    from policyzoo_runtime.train.checkpoint_dirs import PRETRAINED

    curve = []
    for checkpoint in checkpoint_dirs(run_dir):
        out = run_dir / "evals" / f"{checkpoint.name}-{episodes}x{UNSEEN_SEED}"
        if not (out / SUMMARY_FILE).is_file():
            config = EvalConfig(
                policy_path=str(checkpoint / PRETRAINED),
                env=f"{robot_type}_sim",
                episodes=episodes,
                seed=UNSEEN_SEED,
                output_dir=out,
                videos=2,
                device="cpu",
                workers=workers,
                overwrite=True,
            )  # no summary: redo
            name = f"{run_dir.parent.name}/{run_dir.name}" if step_offset else run_dir.name
            click.echo(
                f"[{name}] evaluating step {step_offset + int(checkpoint.name)} on {episodes} unseen scenes"
            )
            evaluate(
                config,
                progress=lambda episode: click.echo(
                    f"  episode {episode.index}: {'success' if episode.success else 'failure'}, stage {episode.max_stage}, "
                    f"{episode.length} steps"
                ),
            )
        summary = json.loads((out / SUMMARY_FILE).read_text())
        point = {
            "step": step_offset + int(checkpoint.name),
            "episodes": summary["episodes"],
            "successes": sum(e["success"] for e in summary["per_episode"]),
            "success_rate": summary["success_rate"],
            "success_interval_95": summary["success_interval_95"],
            "mean_max_stage": summary["mean_max_stage"],
            "stages": summary["stages"],
            "env_steps_per_s": (summary.get("timing") or {}).get("env_steps_per_s"),
            "videos": str(out),
        }
        click.echo(
            f"[{summary['policy']['type']}] step {point['step']}: {point['successes']}/{point['episodes']} "
            f"succeeded, mean stage {point['mean_max_stage']}"
        )
        curve.append(point)
    return curve


def chunk_latency_ms(run_dir: Path, robot_type: str, repeats: int = 10) -> float:
    """Median time of one chunk prediction of the last checkpoint on a simulator observation (CPU)."""
    import statistics

    import torch

    from policyzoo.api import load_policy
    from policyzoo_runtime.deploy.predictor import to_policy_observation
    from policyzoo_runtime.evaluation.sim import sim_fitted_to
    from policyzoo_runtime.train.checkpoint_dirs import PRETRAINED

    policy = load_policy(checkpoint_dirs(run_dir)[-1] / PRETRAINED, device="cpu")
    robot = sim_fitted_to(robot_type, "sim", policy)
    try:
        observation = to_policy_observation(robot.reset(seed=UNSEEN_SEED), robot.task, policy.device)
    finally:
        robot.disconnect()
    times = []
    with torch.no_grad():
        for _ in range(repeats + 1):
            policy.reset()
            start = time.perf_counter()
            policy.predict_chunk(observation)
            times.append(time.perf_counter() - start)
    return statistics.median(times[1:]) * 1000


# -- output -------------------------------------------------------------------------------------------------


def table_row(result: dict[str, Any]) -> list[Any]:
    final = result["final"]
    low, high = final["success_interval_95"]
    stage = "-" if final["mean_max_stage"] is None else f"{final['mean_max_stage']:.2f} / {final['stages']}"
    return [
        result["policy"],
        result["demos"],
        ", ".join(result["cameras"]),
        result["steps"],
        f"{result['train_wall_s'] / 60:.1f} min",
        f"{final['successes']}/{final['episodes']} ({final['success_rate']:.0%})",
        f"{low:.0%}-{high:.0%}",
        stage,
        f"{result['chunk_latency_p50_ms']:.0f} ms",
        f"{result['peak_train_rss_mb']:.0f} MB",
        f"{final['env_steps_per_s'] or 0:.1f}",
    ]


def plot_curves(results: list[dict[str, Any]], task: str, path: Path) -> Path:
    """Success rate (with its 95% interval) against training steps, one line per policy type."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4))
    for result in results:
        steps = [point["step"] for point in result["curve"]]
        axes.plot(
            steps, [point["success_rate"] for point in result["curve"]], marker="o", label=result["policy"]
        )
        axes.fill_between(
            steps,
            [point["success_interval_95"][0] for point in result["curve"]],
            [point["success_interval_95"][1] for point in result["curve"]],
            alpha=0.15,
        )
    axes.set(
        xlabel="training step",
        ylabel="success rate",
        ylim=(-0.02, 1.02),
        title=f"{task}: success on {results[0]['final']['episodes']} unseen scenes",
    )
    axes.grid(alpha=0.3)
    axes.legend()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(figure)
    return path
