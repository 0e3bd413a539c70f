"""`policyzoo bench policies`: size, speed and memory of every installed policy type on this machine (on its
CUDA GPU when it has one), and the overhead of policyzoo's handle over calling the same LeRobot policy and
processors directly.

Handle and direct calls run on the same objects and inputs, interleaved (alternating which goes first),
so drift in machine load hits both alike. Torch and LeRobot are imported when the command runs.
"""

from __future__ import annotations

import gc
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from policyzoo_bench.report import report

TRAIN_GOAL = 1.03
SELECT_GOAL = 1.05
BATCH_SIZE = 8
IMAGE_SIZE = (96, 128)
QUICK_IMAGE_SIZE = (48, 64)
MAX_EPISODE = 20
WARM_UP_S = 2.0
WARM_UP_PAIRS = 5


# -- memory -------------------------------------------------------------------------------------------


class PeakMemory:
    """Peak RSS growth over a block, in MB: Linux's resettable high-water mark, else ru_maxrss; on a CUDA
    `device` also the peak of GPU memory allocated during the block (the model's weights included), in MB."""

    def __init__(self, device: Any = None) -> None:
        self.device = device if device is not None and device.type == "cuda" else None
        self.gpu_mb: float | None = None

    def __enter__(self) -> PeakMemory:
        gc.collect()
        self.resettable = _reset_peak()
        self.start = _status_mb("VmRSS") if self.resettable else _maxrss_mb()
        self.mb = 0.0
        if self.device is not None:
            import torch

            torch.cuda.synchronize(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
        return self

    def __exit__(self, *exc: object) -> None:
        peak = _status_mb("VmHWM") if self.resettable else _maxrss_mb()
        self.mb = max(0.0, peak - self.start)
        if self.device is not None:
            import torch

            torch.cuda.synchronize(self.device)
            self.gpu_mb = torch.cuda.max_memory_allocated(self.device) / 2**20


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- timing -------------------------------------------------------------------------------------------


def interleaved(
    ours: Callable[[], Any], direct: Callable[[], Any] | None, repeats: int, warm_up: bool = True
) -> tuple[list[float], list[float]]:
    """Seconds per call of `ours` and `direct` after warm-up calls, alternating which runs first.

    Warm-up runs pairs until WARM_UP_S has passed (at least one, at most WARM_UP_PAIRS): the first few
    calls of a fresh model are slower (allocator, kernel selection)."""
    started = time.perf_counter()
    for _ in range(WARM_UP_PAIRS if warm_up else 0):
        ours()
        if direct is not None:
            direct()
        if time.perf_counter() - started > WARM_UP_S:
            break
    ours_s: list[float] = []
    direct_s: list[float] = []
    for repeat in range(repeats):
        pair = (
            [(ours, ours_s), (direct, direct_s)] if repeat % 2 == 0 else [(direct, direct_s), (ours, ours_s)]
        )
        for function, times in pair:
            if function is None:
                continue
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
    return ours_s, direct_s


def synchronized(function: Callable[[], Any], device: Any) -> Callable[[], Any]:
    """`function`, returning once the GPU has finished the work it queued (so a timing covers it); as it is
    on the CPU."""
    if device.type != "cuda":
        return function
    import torch

    def call() -> Any:
        result = function()
        torch.cuda.synchronize(device)
        return result

    return call


def bench_device() -> Any:
    """Where the benchmark runs: the CUDA GPU when there is one, else the CPU."""
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_label(device: Any) -> str:
    """`cpu`, or `cuda (GPU NAME)` as the claims bench reads it."""
    import torch

    return f"cuda ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else device.type


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def ratio(ours: list[float], direct: list[float]) -> float | None:
    return statistics.median(ours) / statistics.median(direct) if ours and direct else None


# -- one policy ---------------------------------------------------------------------------------------


def bench_features(spec: Any, card: Any, quick: bool) -> Any:
    """The first of: two cameras, one camera, one square camera, that this policy type accepts."""
    from policyzoo_runtime.synthetic import bimanual_so101_features

    height, width = QUICK_IMAGE_SIZE if quick else IMAGE_SIZE
    flags = {"has_reward": card.needs_reward, "has_language": card.needs_language}
    candidates = [
        bimanual_so101_features(("top", "wrist"), height, width, **flags),
        bimanual_so101_features(("top",), height, width, **flags),
        bimanual_so101_features(("top",), height, height, **flags),
    ]
    for features in candidates:
        problems = spec.check_features(features)
        if not problems:
            return features
    raise ValueError("; ".join(str(problem) for problem in problems))


def bench_policy(entry: Any, quick: bool, repeats: int, workdir: Path) -> dict[str, Any]:
    import torch

    from policyzoo.api import build_policy
    from policyzoo.capabilities import ChunkingSpec
    from policyzoo_runtime.lerobot.handle import LeRobotHandle, batched
    from policyzoo_runtime.synthetic import handle_observation, random_batch, random_stats, robot_observation

    factory = entry.load_factory()
    bench_settings = getattr(factory, "bench_settings", None)
    settings = bench_settings(quick, workdir) if bench_settings else {}
    device = bench_device()
    spec = entry.spec(**{"device": str(device), **settings})
    features = bench_features(spec, entry.card, quick)
    stats = random_stats(features)
    handle = build_policy(spec, features, stats)
    parameters = sum(p.numel() for p in handle.parameters())
    direct_possible = isinstance(handle, LeRobotHandle)  # then LeRobot's own path is timed beside ours
    policy = handle.policy if direct_possible else None
    preprocessor = handle.preprocessor if direct_possible else None
    postprocessor = handle.postprocessor if direct_possible else None
    task = "pick up the cube" if features.has_language else None

    # training step
    batch = random_batch(features, stats, handle.delta_indices(), BATCH_SIZE)
    optimizer, _ = handle.optimizer_and_scheduler(None, 1000)
    handle.train_mode(True)

    def step(loss: torch.Tensor) -> None:
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    with PeakMemory(device) as train_memory:
        train_ours, train_direct = interleaved(
            synchronized(lambda: step(handle.loss(batch)[0]), device),
            synchronized(lambda: step(policy.forward(preprocessor(batch))[0]), device)
            if direct_possible
            else None,
            repeats,
        )
    handle.train_mode(False)

    # acting: a fresh chunk after reset (handle and LeRobot in turn), then the queued actions of that
    # chunk popped alternately by the handle and by LeRobot: the same queue, call by call
    observation = handle_observation(robot_observation(features, stats, seed=0), task)
    episode = max(1, min(spec.n_action_steps if isinstance(spec, ChunkingSpec) else 1, MAX_EPISODE))
    fresh_ours: list[float] = []
    fresh_direct: list[float] = []
    queued_ours: list[float] = []
    queued_direct: list[float] = []

    def select() -> Any:
        return handle.select_action(observation)

    def direct() -> Any:
        with torch.inference_mode():
            return postprocessor(policy.select_action(preprocessor(batched(observation))))

    ours_select, direct_select = synchronized(select, device), synchronized(direct, device)

    def fresh(select: Callable[[], Any], reset: Callable[[], Any], times: list[float]) -> None:
        reset()
        times.append(_timed(select))

    def round_(index: int) -> None:
        pair = [(ours_select, handle.reset, fresh_ours)]
        if direct_possible:
            pair.append((direct_select, policy.reset, fresh_direct))
        for select, reset, times in pair if index % 2 == 0 else pair[::-1]:
            fresh(select, reset, times)
        for call in range(episode - 1):  # the queue of the last chunk, popped by both in turn
            if direct_possible and (call + index) % 2:
                queued_direct.append(_timed(direct_select))
            else:
                queued_ours.append(_timed(ours_select))

    with PeakMemory(device) as act_memory:
        started = time.perf_counter()
        for _ in range(WARM_UP_PAIRS):
            round_(0)
            if time.perf_counter() - started > WARM_UP_S:
                break
        for warm_up_times in (fresh_ours, fresh_direct, queued_ours, queued_direct):
            warm_up_times.clear()
        for index in range(repeats):
            round_(index)
        chunk_s, _ = interleaved(
            synchronized(lambda: handle.predict_chunk(observation), device), None, repeats, warm_up=False
        )

    def episode_s(fresh_s: list[float], queued_s: list[float]) -> float | None:
        if not fresh_s:
            return None
        return statistics.median(fresh_s) + (episode - 1) * (statistics.median(queued_s) if queued_s else 0.0)

    ours_episode, direct_episode = episode_s(fresh_ours, queued_ours), episode_s(fresh_direct, queued_direct)
    return {
        "type": entry.type,
        "distribution": entry.distribution,
        "settings": settings,
        "features": {
            "cameras": {k: list(v) for k, v in features.visual.items()},
            "state_dim": features.state_dim,
            "action_dim": features.action_dim,
            "reward": features.has_reward,
            "language": features.has_language,
        },
        "parameters": parameters,
        "batch_size": BATCH_SIZE,
        "repeats": repeats,
        "episode_length": episode,
        "train_step_s": statistics.median(train_ours),
        "train_step_direct_s": _median(train_direct),
        "train_ratio": ratio(train_ours, train_direct),
        "chunk_p50_s": percentile(chunk_s, 50),
        "chunk_p99_s": percentile(chunk_s, 99),
        "fresh_select_s": statistics.median(fresh_ours),
        "fresh_ratio": ratio(fresh_ours, fresh_direct),
        "queued_p50_s": percentile(queued_ours, 50) if queued_ours else None,
        "queued_p99_s": percentile(queued_ours, 99) if queued_ours else None,
        "queued_ratio": ratio(queued_ours, queued_direct),
        "select_ratio": ours_episode / direct_episode if ours_episode and direct_episode else None,
        "device": device_label(device),
        "train_peak_mb": train_memory.mb,
        "act_peak_mb": act_memory.mb,
        "train_gpu_peak_mb": train_memory.gpu_mb,
        "act_gpu_peak_mb": act_memory.gpu_mb,
        "memory_method": "VmHWM reset" if train_memory.resettable else "ru_maxrss",
    }


def _timed(function: Callable[[], Any]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


# -- the command --------------------------------------------------------------------------------------


def run(types: tuple[str, ...], quick: bool, repeats: int | None, out_dir: Path) -> list[dict[str, Any]]:
    import torch

    from policyzoo.registry import get_registry

    registry = get_registry()
    chosen = list(types) or [t for t, entry in sorted(registry.policies.items()) if _buildable(entry)]
    repeats = repeats or (10 if quick else 2)
    if len(chosen) > 1:  # one process per policy, so no policy's memory figure inherits another's allocations
        results = [_measure_in_child(policy_type, quick, repeats) for policy_type in chosen]
    else:
        results = [_measure(registry.policy(chosen[0], flag="--policy"), quick, repeats)]
    device = bench_device()
    gpu = device.type == "cuda"
    rows = [_row(result, gpu) for result in results]
    measured = [r for r in results if "error" not in r]
    verdict = {
        "train_goal": TRAIN_GOAL,
        "select_goal": SELECT_GOAL,
        "train_ok": all(r["train_ratio"] is None or r["train_ratio"] <= TRAIN_GOAL for r in measured),
        "select_ok": all(r["select_ratio"] is None or r["select_ratio"] <= SELECT_GOAL for r in measured),
    }
    report(
        "policies",
        [
            "policy",
            "params M",
            "train step s",
            "train ratio",
            "chunk p50 ms",
            "chunk p99 ms",
            "queued p50 ms",
            "select ratio",
            "queued ratio",
            "train peak MB",
            "act peak MB",
            *(["train GPU peak MB", "act GPU peak MB"] if gpu else []),
        ],
        rows,
        {
            "quick": quick,
            "device": device_label(device),
            "torch_threads": torch.get_num_threads(),
            "results": results,
            **verdict,
        },
        out_dir,
    )
    click.echo(
        f"\nhandle / LeRobot: train step goal <= {TRAIN_GOAL} {'met' if verdict['train_ok'] else 'MISSED'}; "
        f"select_action goal <= {SELECT_GOAL} {'met' if verdict['select_ok'] else 'MISSED'}"
    )
    return results


def _measure(entry: Any, quick: bool, repeats: int) -> dict[str, Any]:
    import torch

    click.echo(
        f"bench {entry.type} ({'quick' if quick else 'default'} size, {repeats} repeats) ...", err=True
    )
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory(prefix="policyzoo-bench-") as workdir:
        try:
            return bench_policy(entry, quick, repeats, Path(workdir))
        except Exception as exc:  # one policy failing must not lose the others' numbers
            message = " ".join(str(exc).split())
            return {"type": entry.type, "error": f"{type(exc).__name__}: {message}"[:300]}


def _measure_in_child(policy_type: str, quick: bool, repeats: int) -> dict[str, Any]:
    """`_measure` in a fresh `policyzoo bench policies --policy TYPE` process; its table is not printed."""
    with tempfile.TemporaryDirectory(prefix="policyzoo-bench-") as out_dir:
        command = [
            sys.executable,
            "-m",
            "policyzoo",
            "bench",
            "policies",
            "--policy",
            policy_type,
            "--repeats",
            str(repeats),
            "--out_dir",
            out_dir,
            *(["--quick"] if quick else []),
        ]
        finished = subprocess.run(command, stdout=subprocess.DEVNULL)
        result_file = Path(out_dir) / "policies.json"
        if finished.returncode != 0 or not result_file.exists():
            return {"type": policy_type, "error": f"the benchmark process exited {finished.returncode}"}
        return json.loads(result_file.read_text())["results"][0]


def _buildable(entry: Any) -> bool:
    """Whether a registered type points at a factory that builds policies (test plugins may not)."""
    if hasattr(entry.load_factory(), "build"):
        return True
    click.echo(f"skipping {entry.type} ({entry.distribution}): its factory builds no policy", err=True)
    return False


def _row(result: dict[str, Any], gpu: bool) -> list[Any]:
    """One table row; with `gpu`, the peak GPU memory columns too."""
    if "error" in result:
        return [result["type"], "error: " + result["error"][:80], *[""] * (11 if gpu else 9)]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:.1f}"

    def x(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    def mb(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    return [
        result["type"],
        f"{result['parameters'] / 1e6:.1f}",
        f"{result['train_step_s']:.3f}",
        x(result["train_ratio"]),
        ms(result["chunk_p50_s"]),
        ms(result["chunk_p99_s"]),
        ms(result["queued_p50_s"]),
        x(result["select_ratio"]),
        x(result["queued_ratio"]),
        f"{result['train_peak_mb']:.0f}",
        f"{result['act_peak_mb']:.0f}",
        *([mb(result.get("train_gpu_peak_mb")), mb(result.get("act_gpu_peak_mb"))] if gpu else []),
    ]


@click.command("policies")
@click.option("--policy", "types", multiple=True, metavar="TYPE", help="Only this policy type (repeatable).")
@click.option(
    "--quick", is_flag=True, help="Small models and 48x64 images instead of LeRobot's default sizes."
)
@click.option(
    "--repeats",
    type=click.IntRange(1, 1000),
    default=None,
    help="Timed repeats per measurement, after a warm-up [default: 2, or 10 with --quick].",
)
@click.option("--out_dir", type=click.Path(path_type=Path), default=Path("bench-results"), show_default=True)
def command(types: tuple[str, ...], quick: bool, repeats: int | None, out_dir: Path) -> None:
    """Per installed policy: parameters, train-step time (batch 8, two 96x128 cameras where accepted),
    chunk and queued-action latency, peak memory (and peak GPU memory), and policyzoo's overhead over LeRobot
    called directly; on the CUDA GPU when there is one."""
    run(types, quick, repeats, out_dir)
