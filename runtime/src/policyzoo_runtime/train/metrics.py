"""Training metrics: `metrics.jsonl`, the loss-curve PNG and the loss indicator on each policy's card."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Literal

from policyzoo.card import TrainingIndicator
from policyzoo.files import write_atomic

METRICS_FILE = "metrics.jsonl"
PLOT_FILE = "loss.png"
DATA_BOUND_SHARE = 0.5
"""Warn when waiting for data takes more than this share of a step."""


def indicator_of(policy_type: str) -> TrainingIndicator | None:
    """What the card of `policy_type` says a healthy loss looks like (None: not installed, or no figures)."""
    from policyzoo.registry import get_registry

    entry = get_registry().policies.get(policy_type)
    guide = entry.card.guide if entry is not None else None
    return guide.indicator if guide is not None else None


class MetricsLog:
    """Rows of `metrics.jsonl` in OUTPUT; a resumed run drops the rows after its checkpoint."""

    def __init__(self, output_dir: Path, resume_step: int | None = None) -> None:
        self.path = Path(output_dir) / METRICS_FILE
        self.rows: list[dict[str, Any]] = []
        lines = self.path.read_text().splitlines() if self.path.is_file() else []
        self.rows = [row for row in map(_row, lines) if row is not None]
        torn = len(self.rows) != sum(1 for line in lines if line.strip())
        if resume_step is not None:
            kept = [row for row in self.rows if row["step"] <= resume_step]
            if len(kept) != len(self.rows) or torn:
                self.rows = kept
                write_atomic(self.path, "".join(json.dumps(row) + "\n" for row in kept))

    def append(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        _append_durable(self.path, json.dumps(row) + "\n")

    def plot(self, policy_type: str) -> Path:
        """Write (replace) the loss-curve PNG beside metrics.jsonl."""
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt

        path = self.path.parent / PLOT_FILE
        steps = [row["step"] for row in self.rows]
        losses = [row["loss"] for row in self.rows]
        figure, axes = plt.subplots(figsize=(6, 3.5), dpi=100)
        axes.plot(steps, losses, marker="." if len(steps) < 50 else None)
        if losses and min(losses) > 0 and max(losses) / min(losses) > 20:
            axes.set_yscale("log")
        indicator = indicator_of(policy_type)
        if indicator and indicator.goal is not None:
            axes.axhline(indicator.goal, color="grey", linestyle="--", linewidth=1, label="card's goal")
            axes.legend()
        axes.set_xlabel("step")
        axes.set_ylabel("loss")
        axes.set_title(f"{policy_type} training loss")
        axes.grid(alpha=0.3)
        figure.tight_layout()
        temporary = path.with_name(f".{path.name}.{os.getpid()}.png")
        figure.savefig(temporary)
        plt.close(figure)
        temporary.replace(path)
        return path


def data_share(data_s: float, update_s: float) -> float:
    total = data_s + update_s
    return data_s / total if total > 0 else 0.0


def verdict(
    policy_type: str,
    first_loss: float | None,
    final_loss: float | None,
    indicator: TrainingIndicator | None | Literal["card"] = "card",
) -> str:
    """One line comparing the loss drop with what the policy's card says a good run looks like, naming the
    figures' source (`TrainingIndicator.note`) once.

    `indicator` defaults to the one on the installed card of `policy_type` (`Guide.indicator`).
    """
    if first_loss is None or final_loss is None:
        return "no loss was logged"
    if not (math.isfinite(first_loss) and math.isfinite(final_loss)):
        return f"the loss went from {first_loss} to {final_loss}"
    drop = f"loss {first_loss:.4g} -> {final_loss:.4g} ({_change(first_loss, final_loss)})"
    if indicator == "card":
        indicator = indicator_of(policy_type)
    if indicator is None:
        return f"{drop}; no reference figures for {policy_type} (its card has no training indicator)"
    if indicator.goal is None:
        return f"{drop}; {policy_type}'s card: {indicator.note}"
    start = f"to start near {indicator.start:g} and " if indicator.start is not None else ""
    reached = "reached" if final_loss < indicator.goal else "not reached yet"
    return f"{drop}; {indicator.note} expects {policy_type} {start}to end below {indicator.goal:g}: {reached}"


def _change(first: float, final: float) -> str:
    if first == 0:
        return "no change" if final == 0 else "up"
    return f"{(final - first) / abs(first) * 100:+.0f}%"


def _row(line: str) -> dict[str, Any] | None:
    """One metrics row; None for a blank line or one a crash tore (it is dropped)."""
    try:
        row = json.loads(line)
    except ValueError:
        return None
    return row if isinstance(row, dict) and isinstance(row.get("step"), int) else None


def _append_durable(path: Path, line: str) -> None:
    """Append one line and flush it to disk (a crash can tear only the line being written)."""
    with Path(path).open("a") as out:
        out.write(line)
        out.flush()
        os.fsync(out.fileno())
