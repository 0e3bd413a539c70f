"""What a run tells its user and writes as metrics: the log lines, `metrics.jsonl` rows and the summary."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from policyzoo_runtime.train.config import TrainConfig
from policyzoo_runtime.train.metrics import DATA_BOUND_SHARE, MetricsLog, data_share, verdict


def say(message: str, err: bool = False) -> None:
    """A line above the progress bar (stderr for warnings), shown at once even where the output is a pipe."""
    stream = sys.stderr if err else sys.stdout
    tqdm.write(message, file=stream)
    stream.flush()


def starting(what: str) -> None:
    """A line before slow start-up work (importing torch and LeRobot, building the policy, opening the data),
    so that a run is never silent before its progress bar shows; printed by the main process only (accelerate
    gives the others a RANK above 0), and usable before torch is imported."""
    if os.environ.get("RANK", "0") == "0":
        say(f"{what} ...")


def warn(message: str) -> None:
    say(message, err=True)


@dataclass
class Window:
    """Sums since the last log line."""

    steps: int = 0
    sums: dict[str, float] = field(default_factory=dict)

    def add(self, values: dict[str, float]) -> None:
        self.steps += 1
        for key, value in values.items():
            self.sums[key] = self.sums.get(key, 0.0) + value

    def means(self) -> dict[str, float]:
        return {key: value / self.steps for key, value in self.sums.items()}


class RunLog:
    """The run's numbers: a window of step values per log line, totals for the summary, and (on the main
    process) `metrics.jsonl`; a resumed run keeps the rows up to its checkpoint."""

    def __init__(
        self, config: TrainConfig, policy_type: str, output_dir: Path, start_step: int, main: bool
    ) -> None:
        self.config, self.policy_type, self.start_step, self.main = config, policy_type, start_step, main
        self.metrics = MetricsLog(output_dir, start_step if config.resume else None) if main else None
        self.window = Window()
        self.totals = Window()
        self.warned_data = False
        self.started = time.perf_counter()

    def add(self, step: int, values: dict[str, float]) -> None:
        """The values of step `step` (loss, grad_norm, update_s, data_s, the policy's terms)."""
        self.window.add(values)
        if step > self.start_step + 1:  # the first step's time includes warm-up
            self.totals.add({"update_s": values["update_s"], "data_s": values["data_s"]})

    def log(self, step: int, lr: float) -> dict[str, Any] | None:
        """Print and append the mean row since the last one (main process, when there is one)."""
        if not self.main or not self.window.steps:
            return None
        means = self.window.means()
        row = {
            "step": step,
            "loss": means.pop("loss"),
            "grad_norm": means.pop("grad_norm"),
            "lr": lr,
            "update_s": means.pop("update_s"),
            "data_s": means.pop("data_s"),
            **means,
        }
        self.window = Window()
        say(
            f"step:{row['step']} loss:{row['loss']:.4f} grad_norm:{row['grad_norm']:.3f} lr:{row['lr']:.2e} "
            f"update_s:{row['update_s']:.3f} data_s:{row['data_s']:.3f}"
        )
        assert self.metrics is not None
        self.metrics.append(row)
        return row

    def warn_if_data_bound(self, row: dict[str, Any]) -> None:
        """Once per run: waiting for data takes most of each step."""
        assert self.metrics is not None
        share = data_share(row["data_s"], row["update_s"])
        if share > DATA_BOUND_SHARE and len(self.metrics.rows) > 2 and not self.warned_data:
            self.warned_data = True
            warn(f"warning: waiting for data takes {share:.0%} of each step; " + workers_hint(self.config))

    @property
    def rows(self) -> list[dict[str, Any]]:
        return self.metrics.rows if self.metrics else []

    def plot(self) -> None:
        if self.metrics is not None and self.metrics.rows:
            self.metrics.plot(self.policy_type)

    def summary(self, status: str, step: int) -> dict[str, Any]:
        """The training summary written to policyzoo.json and passed to `on_train_end`."""
        rows = self.rows
        first = rows[0]["loss"] if rows else None
        final = rows[-1]["loss"] if rows else None
        totals = self.totals.sums
        return {
            "status": status,
            "steps": step,
            "start_step": self.start_step,
            "batch_size": self.config.batch_size,
            "first_loss": first,
            "final_loss": final,
            "verdict": verdict(self.policy_type, first, final),
            "data_share": round(data_share(totals.get("data_s", 0.0), totals.get("update_s", 0.0)), 4),
            "mean_data_s": round(totals.get("data_s", 0.0) / max(1, self.totals.steps), 5),
            "mean_update_s": round(totals.get("update_s", 0.0) / max(1, self.totals.steps), 5),
            "wall_s": round(time.perf_counter() - self.started, 1),
            "command": self.config.command,
        }

    def say_done(self, summary: dict[str, Any], step: int) -> None:
        say(f"done: {step - self.start_step} steps in {summary['wall_s']:.0f} s; {summary['verdict']}")
        if summary["data_share"] > DATA_BOUND_SHARE:
            say(
                f"note: waiting for data took {summary['data_share']:.0%} of the step time; "
                + workers_hint(self.config)
            )


def workers_hint(config: TrainConfig) -> str:
    """What shortens the wait for data, for this run's settings (`policyzoo bench data` measures the loader)."""
    hints = [
        f"raise --num_workers (now {config.num_workers}; this machine has {os.cpu_count()} CPU cores; "
        f"each worker keeps its video decoders open and sends frames as uint8)"
    ]
    if config.video_backend != "pyav":
        hints.append(
            f"use --dataset.video_backend=pyav (now {config.video_backend}): policyzoo's own decoder, "
            f"which reads each sample's frames of a camera in one pass"
        )
    if config.image_transforms:
        hints.append("drop --dataset.image_transforms.* (augmentation runs in the workers, on float frames)")
    return "; ".join(hints) + "; or use smaller images (`policyzoo bench data` measures the loader)"
