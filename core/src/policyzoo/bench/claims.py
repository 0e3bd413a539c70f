"""The guide's claims (inference rate, memory, size) beside this machine's bench results.

`compare(out_dir)` reads what the other benches wrote there (`policies.json`, `deploy.json`, `cli.json`,
`train.json`) and says, per claim, whether the local figures support it, contradict it, or cannot test it
here (a GPU claim on a CPU-only machine, a policy that was not measured, a bench run with --quick).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import click

from policyzoo.bench.report import report

Kind = Literal["inference_hz", "control_hz", "chunk_s", "train_memory_gb", "parameters_m", "speedup", "async",
               "startup_s"]
Outcome = Literal["supported", "contradicted", "cannot test here"]


@dataclass(frozen=True)
class Claim:
    id: str
    policy: str
    text: str
    kind: Kind
    value: float | tuple[float, float]
    source: str
    hardware: str | None = None
    """The GPU the claim was measured on; None when the claim names none."""


# Facts and their sources: ../shared/LEROBOT_NOTES.md ("Numbers worth quoting").
CLAIMS: tuple[Claim, ...] = (
    Claim("act-control-hz", "act", "ACT controls the robot at 50 Hz (about 10 ms per inference)", "control_hz",
          50, "ACT paper (Zhao et al. 2023)", "RTX 2080 Ti"),
    Claim("diffusion-control-hz", "diffusion", "Diffusion Policy sends commands at 10 Hz (0.1 s per inference)",
          "control_hz", 10, "Diffusion Policy paper, 10 DDIM steps", "RTX 3080"),
    Claim("tdmpc-hz", "tdmpc", "TD-MPC runs inference at about 20 Hz", "inference_hz", 20,
          "the guide (no source given)"),
    Claim("vqbet-hz", "vqbet", "VQ-BeT runs inference at about 30 Hz", "inference_hz", 30,
          "the guide (no source given)"),
    Claim("smolvla-chunk", "smolvla", "SmolVLA predicts a 50-action chunk in about 207 ms", "chunk_s", 0.207,
          "SmolVLA paper", "RTX 4090"),
    Claim("vqbet-vs-diffusion", "vqbet", "VQ-BeT infers about 5x faster than Diffusion Policy", "speedup", 5,
          "VQ-BeT paper"),
    Claim("smolvla-params", "smolvla", "SmolVLA has about 450 M parameters", "parameters_m", 450,
          "SmolVLA paper"),
    Claim("act-memory", "act", "ACT trains in 2-6 GB of GPU memory at batch 8", "train_memory_gb", (2, 6),
          "LeRobot hardware guide", "GPU"),
    Claim("vqbet-memory", "vqbet", "VQ-BeT trains in 2-6 GB of GPU memory at batch 8", "train_memory_gb", (2, 6),
          "LeRobot hardware guide", "GPU"),
    Claim("tdmpc-memory", "tdmpc", "TD-MPC trains in 2-6 GB of GPU memory at batch 8", "train_memory_gb", (2, 6),
          "LeRobot hardware guide", "GPU"),
    Claim("diffusion-memory", "diffusion", "Diffusion Policy trains in 8-14 GB of GPU memory at batch 8",
          "train_memory_gb", (8, 14), "LeRobot hardware guide", "GPU"),
    Claim("smolvla-memory", "smolvla", "SmolVLA trains in 10-16 GB of GPU memory at batch 8", "train_memory_gb",
          (10, 16), "LeRobot hardware guide", "GPU"),
    Claim("async-inference", "act", "Asynchronous inference keeps the control loop from waiting for chunks",
          "async", 0, "SmolVLA paper (async cut task time about 30%)"),
    Claim("cli-startup", "-", "`policyzoo policies list` starts in under 0.4 s", "startup_s", 0.4,
          "policyzoo design goal"),
)

SPEEDUP_TOLERANCE = 0.8
"""A speed-up claim counts as supported from 80% of the claimed factor."""
PARAMETER_TOLERANCE = 0.1


@dataclass
class Verdict:
    claim: str
    policy: str
    text: str
    source: str
    local: str
    outcome: Outcome
    why: str


def load_results(out_dir: Path) -> dict[str, dict[str, Any]]:
    """The JSON results of the other benches found in `out_dir`, by bench name."""
    found = {}
    for name in ("policies", "deploy", "cli", "train"):
        path = Path(out_dir) / f"{name}.json"
        if path.is_file():
            try:
                found[name] = json.loads(path.read_text())
            except json.JSONDecodeError:
                continue
    return found


def compare(results: dict[str, dict[str, Any]], gpu: str | None = None) -> list[Verdict]:
    """A verdict per claim; `gpu` names the GPU the policies bench ran on (None: the CPU)."""
    measured = {row["type"]: row for row in results.get("policies", {}).get("results", [])
                if isinstance(row, dict) and "error" not in row and "type" in row}
    quick = bool(results.get("policies", {}).get("quick"))
    return [_judge(claim, measured, quick, results, gpu) for claim in CLAIMS]


def _judge(claim: Claim, measured: dict[str, dict[str, Any]], quick: bool, results: dict[str, dict[str, Any]],
           gpu: str | None) -> Verdict:
    def verdict(local: str, outcome: Outcome, why: str) -> Verdict:
        return Verdict(claim.id, claim.policy, claim.text, claim.source, local, outcome, why)

    if claim.kind == "async":
        return _judge_async(claim, results.get("deploy"), verdict)
    if claim.kind == "startup_s":
        cli = results.get("cli", {}).get("results", {}).get("policyzoo policies list")
        if not cli:
            return verdict("-", "cannot test here", "no cli.json: run `policyzoo bench cli`")
        seconds = cli["median_s"]
        outcome: Outcome = "supported" if seconds <= claim.value else "contradicted"
        return verdict(f"{seconds:.3f} s", outcome, "median of repeated runs on this machine")
    row = measured.get(claim.policy)
    if row is None:
        return verdict("-", "cannot test here", f"{claim.policy} was not measured (not installed, or its bench "
                                                f"failed): run `policyzoo bench policies`")
    if claim.kind == "train_memory_gb":
        return _judge_memory(claim, row, gpu, verdict)
    if quick:
        return verdict("-", "cannot test here", "the policies bench ran with --quick (reduced model sizes)")
    if claim.kind == "parameters_m":
        millions = row["parameters"] / 1e6
        if claim.policy == "smolvla" and millions < claim.value / 4:
            return verdict(f"{millions:.1f} M", "cannot test here",
                           "measured with a tiny offline SmolVLM backbone, not the real one")
        close = abs(millions - claim.value) <= PARAMETER_TOLERANCE * claim.value
        return verdict(f"{millions:.1f} M", "supported" if close else "contradicted",
                       f"within {PARAMETER_TOLERANCE:.0%}" if close else f"off by more than {PARAMETER_TOLERANCE:.0%}")
    if claim.kind == "speedup":
        other = measured.get("diffusion")
        if other is None:
            return verdict("-", "cannot test here", "Diffusion Policy was not measured")
        factor = other["chunk_p50_s"] / row["chunk_p50_s"]
        outcome = "supported" if factor >= SPEEDUP_TOLERANCE * claim.value else "contradicted"
        return verdict(f"{factor:.1f}x", outcome, "chunk prediction p50, both at LeRobot's default settings "
                                                  "(Diffusion: DDPM, 100 steps), same machine")
    return _judge_rate(claim, row, gpu, verdict)


def _judge_rate(claim: Claim, row: dict[str, Any], gpu: str | None, verdict: Any) -> Verdict:
    chunk_s = row["chunk_p50_s"]
    where = f"on {gpu}" if gpu else "on this CPU"
    if claim.kind == "chunk_s":
        local, meets = f"{chunk_s * 1000:.0f} ms per chunk", chunk_s <= claim.value
    elif claim.kind == "inference_hz":
        local, meets = f"{1 / chunk_s:.1f} Hz", 1 / chunk_s >= claim.value
    else:
        steps = max(1, int(row.get("episode_length") or 1))
        queued = row.get("queued_p50_s") or 0.0
        hz = steps / (chunk_s + (steps - 1) * queued)
        local, meets = f"{hz:.1f} Hz over {steps}-action chunks", hz >= claim.value
    if meets:
        return verdict(local, "supported", f"reached {where}" + (" (the claim is for a GPU)" if claim.hardware
                                                                  and not gpu else ""))
    if claim.hardware and not gpu:
        return verdict(local, "cannot test here", f"the claim is for a {claim.hardware}; this machine has no GPU")
    return verdict(local, "contradicted", f"not reached {where}"
                   + ("" if claim.hardware else "; the claim names no hardware"))


def _judge_memory(claim: Claim, row: dict[str, Any], gpu: str | None, verdict: Any) -> Verdict:
    low, high = claim.value  # type: ignore[misc]
    gpu_mb = row.get("train_gpu_peak_mb")
    if gpu_mb is None or not gpu:
        rss = row.get("train_peak_mb")
        local = f"CPU RSS +{rss:.0f} MB" if isinstance(rss, (int, float)) else "-"
        return verdict(local, "cannot test here", "the claim is GPU memory while training at batch 8; this "
                                                  "machine has no GPU (CPU memory is not comparable)")
    gigabytes = gpu_mb / 1024
    outcome: Outcome = "supported" if gigabytes <= high else "contradicted"
    return verdict(f"{gigabytes:.1f} GB", outcome, f"peak GPU memory at batch {row.get('batch_size', '?')}")


def _judge_async(claim: Claim, deploy: dict[str, Any] | None, verdict: Any) -> Verdict:
    runs = (deploy or {}).get("results", {})
    if "sync" not in runs or "async" not in runs:
        return verdict("-", "cannot test here", "no deploy.json with sync and async runs: run `policyzoo bench "
                                                "deploy`")
    sync, background = runs["sync"], runs["async"]
    local = (f"on time: sync {sync['on_time_pct']:.1f}%, async {background['on_time_pct']:.1f}%; missed "
             f"deadlines {sync['missed_deadlines']} vs {background['missed_deadlines']}")
    better = (background["missed_deadlines"] < sync["missed_deadlines"]
              or (background["missed_deadlines"] == sync["missed_deadlines"] == 0))
    return verdict(local, "supported" if better else "contradicted",
                   f"ACT on the simulator at {deploy.get('fps', '?')} Hz, both modes in one run")


def run(out_dir: Path) -> list[Verdict]:
    """Print the comparison as a markdown table and write OUT_DIR/claims.json."""
    results = load_results(out_dir)
    device = str(results.get("policies", {}).get("device", "cpu"))
    gpu = device if device.startswith("cuda") else None
    verdicts = compare(results, gpu=gpu)
    rows = [[v.policy, v.text, v.source, v.local, v.outcome, v.why] for v in verdicts]
    counts = {outcome: sum(v.outcome == outcome for v in verdicts)
              for outcome in ("supported", "contradicted", "cannot test here")}
    report("claims", ["policy", "claim", "source", "here", "verdict", "why"], rows,
           {"benches_found": sorted(results), "device": device, "counts": counts,
            "claims": [asdict(claim) for claim in CLAIMS], "verdicts": [asdict(v) for v in verdicts]}, out_dir)
    click.echo("\nguide claims: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    return verdicts


@click.command("claims")
@click.option("--out-dir", type=click.Path(path_type=Path), default=Path("bench-results"), show_default=True)
def command(out_dir: Path) -> None:
    """Compare the results already in OUT_DIR with the guide's claims (run the other benches first)."""
    run(out_dir)
