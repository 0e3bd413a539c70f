"""The guide's claims (inference rate, memory, size) beside this machine's bench results.

A policy's claims are on its card (`PolicyCard.bench.claims`): every installed card's, first-party or not, is
checked the same way; a card without a bench has none. Two claims are about policyzoo itself and live here:
asynchronous inference (the deploy bench) and the start-up time of the CLI.

`compare(results)` takes what the other benches wrote to OUT_DIR (`policies.json`, `deploy.json`, `cli.json`,
`train.json`) and says, per claim, whether the local figures support it, contradict it, or cannot test it
here (a GPU claim on a CPU-only machine, a policy that was not measured, a bench run with --quick).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import click

from policyzoo.card import PolicyCard
from policyzoo_bench.report import report

Kind = Literal[
    "inference_hz",
    "control_hz",
    "chunk_s",
    "train_memory_gb",
    "parameters_m",
    "speedup",
    "async",
    "startup_s",
]
Outcome = Literal["supported", "contradicted", "cannot test here"]


@dataclass(frozen=True)
class Claim:
    id: str
    policy: str
    """The policy type whose card makes the claim; '-' for a claim about policyzoo itself."""
    text: str
    kind: Kind
    value: float | tuple[float, float]
    source: str
    hardware: str | None = None
    """The GPU the claim was measured on; None when the claim names none."""
    versus: str | None = None
    """For a speed-up: the policy type it is compared with."""


CORE_CLAIMS: tuple[Claim, ...] = (
    Claim(
        "async-inference",
        "-",
        "Asynchronous inference keeps the control loop from waiting for chunks",
        "async",
        0,
        "SmolVLA paper (async cut task time about 30%)",
    ),
    Claim(
        "cli-startup",
        "-",
        "`policyzoo policies list` starts in under 0.4 s",
        "startup_s",
        0.4,
        "policyzoo design goal",
    ),
)
"""Claims about policyzoo rather than about one policy."""

KIND_ORDER: tuple[str, ...] = (
    "control_hz",
    "inference_hz",
    "chunk_s",
    "speedup",
    "parameters_m",
    "train_memory_gb",
)
"""The table lists rates first, then sizes, then memory; within a kind, in the order the plugins load."""


def card_claims(cards: dict[str, PolicyCard]) -> list[Claim]:
    """The claims on these cards (policy type -> card), as TYPE-ID claims, sorted by kind."""
    found = [
        Claim(
            f"{policy_type}-{claim.id}",
            policy_type,
            claim.text,
            claim.kind,
            claim.value,
            claim.source,
            claim.hardware,
            claim.versus,
        )
        for policy_type, card in cards.items()
        for claim in (card.bench.claims if card.bench else ())
    ]
    return sorted(found, key=lambda claim: KIND_ORDER.index(claim.kind))


def all_claims() -> list[Claim]:
    """Every installed card's claims, then policyzoo's own."""
    return [*card_claims(installed_cards()), *CORE_CLAIMS]


def installed_cards() -> dict[str, PolicyCard]:
    from policyzoo.registry import get_registry

    return {entry.type: entry.card for entry in get_registry().policies.values()}


SPEEDUP_TOLERANCE = 0.8
"""A speed-up claim counts as supported from 80% of the claimed factor."""
PARAMETER_TOLERANCE = 0.1
STAND_IN_SHARE = 0.25
"""A parameter count under this share of the claim means the bench built a reduced stand-in, not the model."""


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


def compare(
    results: dict[str, dict[str, Any]], gpu: str | None = None, claims: list[Claim] | None = None
) -> list[Verdict]:
    """A verdict per claim (default: `all_claims()`); `gpu` names the GPU the policies bench ran on (None: the
    CPU)."""
    claims = all_claims() if claims is None else claims
    measured = {
        row["type"]: row
        for row in results.get("policies", {}).get("results", [])
        if isinstance(row, dict) and "error" not in row and "type" in row
    }
    quick = bool(results.get("policies", {}).get("quick"))
    return [_judge(claim, measured, quick, results, gpu) for claim in claims]


def _judge(
    claim: Claim,
    measured: dict[str, dict[str, Any]],
    quick: bool,
    results: dict[str, dict[str, Any]],
    gpu: str | None,
) -> Verdict:
    policy = claim.policy
    if claim.kind == "async":  # whichever policy the deploy bench drove
        policy = str((results.get("deploy") or {}).get("policy", claim.policy))

    def verdict(local: str, outcome: Outcome, why: str) -> Verdict:
        return Verdict(claim.id, policy, claim.text, claim.source, local, outcome, why)

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
        return verdict(
            "-",
            "cannot test here",
            f"{claim.policy} was not measured (not installed, or its bench "
            f"failed): run `policyzoo bench policies`",
        )
    if claim.kind == "train_memory_gb":
        return _judge_memory(claim, row, gpu, verdict)
    if quick:
        return verdict("-", "cannot test here", "the policies bench ran with --quick (reduced model sizes)")
    if claim.kind == "parameters_m":
        millions = row["parameters"] / 1e6
        if millions < claim.value * STAND_IN_SHARE:
            return verdict(
                f"{millions:.1f} M",
                "cannot test here",
                "the bench measured a reduced stand-in (e.g. a tiny offline backbone), not the real model",
            )
        close = abs(millions - claim.value) <= PARAMETER_TOLERANCE * claim.value
        return verdict(
            f"{millions:.1f} M",
            "supported" if close else "contradicted",
            f"within {PARAMETER_TOLERANCE:.0%}" if close else f"off by more than {PARAMETER_TOLERANCE:.0%}",
        )
    if claim.kind == "speedup":
        other = measured.get(claim.versus or "")
        if other is None:
            return verdict(
                "-", "cannot test here", f"{claim.versus} was not measured: run `policyzoo bench policies`"
            )
        factor = other["chunk_p50_s"] / row["chunk_p50_s"]
        outcome = "supported" if factor >= SPEEDUP_TOLERANCE * claim.value else "contradicted"
        return verdict(
            f"{factor:.1f}x",
            outcome,
            f"chunk prediction p50 against {claim.versus}, both at their default settings, same machine",
        )
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
        return verdict(
            local,
            "supported",
            f"reached {where}" + (" (the claim is for a GPU)" if claim.hardware and not gpu else ""),
        )
    if claim.hardware and not gpu:
        return verdict(
            local, "cannot test here", f"the claim is for a {claim.hardware}; this machine has no GPU"
        )
    return verdict(
        local,
        "contradicted",
        f"not reached {where}" + ("" if claim.hardware else "; the claim names no hardware"),
    )


def _judge_memory(claim: Claim, row: dict[str, Any], gpu: str | None, verdict: Any) -> Verdict:
    low, high = claim.value  # type: ignore[misc]
    gpu_mb = row.get("train_gpu_peak_mb")
    if gpu_mb is None or not gpu:
        rss = row.get("train_peak_mb")
        local = f"CPU RSS +{rss:.0f} MB" if isinstance(rss, (int, float)) else "-"
        return verdict(
            local,
            "cannot test here",
            "the claim is GPU memory while training at batch 8; this "
            "machine has no GPU (CPU memory is not comparable)",
        )
    gigabytes = gpu_mb / 1024
    outcome: Outcome = "supported" if gigabytes <= high else "contradicted"
    return verdict(f"{gigabytes:.1f} GB", outcome, f"peak GPU memory at batch {row.get('batch_size', '?')}")


def _judge_async(claim: Claim, deploy: dict[str, Any] | None, verdict: Any) -> Verdict:
    runs = (deploy or {}).get("results", {})
    if "sync" not in runs or "async" not in runs:
        return verdict(
            "-", "cannot test here", "no deploy.json with sync and async runs: run `policyzoo bench deploy`"
        )
    sync, background = runs["sync"], runs["async"]
    local = (
        f"on time: sync {sync['on_time_pct']:.1f}%, async {background['on_time_pct']:.1f}%; missed "
        f"deadlines {sync['missed_deadlines']} vs {background['missed_deadlines']}"
    )
    better = background["missed_deadlines"] < sync["missed_deadlines"] or (
        background["missed_deadlines"] == sync["missed_deadlines"] == 0
    )
    return verdict(
        local,
        "supported" if better else "contradicted",
        f"{deploy.get('policy', 'the deploy bench policy')} on the simulator at {deploy.get('fps', '?')} "
        f"Hz, both modes in one run",
    )


def run(out_dir: Path) -> list[Verdict]:
    """Print the comparison as a markdown table and write OUT_DIR/claims.json."""
    results = load_results(out_dir)
    device = str(results.get("policies", {}).get("device", "cpu"))
    gpu = device if device.startswith("cuda") else None
    claims = all_claims()
    verdicts = compare(results, gpu=gpu, claims=claims)
    unclaimed = sorted(policy_type for policy_type, card in installed_cards().items() if card.bench is None)
    rows = [[v.policy, v.text, v.source, v.local, v.outcome, v.why] for v in verdicts]
    counts = {
        outcome: sum(v.outcome == outcome for v in verdicts)
        for outcome in ("supported", "contradicted", "cannot test here")
    }
    report(
        "claims",
        ["policy", "claim", "source", "here", "verdict", "why"],
        rows,
        {
            "benches_found": sorted(results),
            "device": device,
            "counts": counts,
            "claims": [asdict(claim) for claim in claims],
            "verdicts": [asdict(v) for v in verdicts],
        },
        out_dir,
    )
    click.echo("\nguide claims: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    if unclaimed:
        click.echo(f"not checked: {', '.join(unclaimed)} (no PolicyCard.bench on the card, so no claims)")
    return verdicts


@click.command("claims")
@click.option("--out_dir", type=click.Path(path_type=Path), default=Path("bench-results"), show_default=True)
def command(out_dir: Path) -> None:
    """Compare the results already in OUT_DIR with the guide's claims (run the other benches first)."""
    run(out_dir)
