"""What a deploy run reports: ticks, deadlines, inference latency and the largest step per tick."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class DeployReport:
    mode: str
    fps: int
    inference_threads: int = 0
    ticks: int = 0
    """Targets sent."""
    late_ticks: int = 0
    """Targets sent after the end of their tick."""
    missed_deadlines: int = 0
    """Tick deadlines that passed while a target was overdue (a target 3.5 periods late misses 3)."""
    starved_ticks: int = 0
    """Ticks with no predicted action, where the last target was held."""
    chunks: int = 0
    first_chunk_s: float = float("nan")
    """The chunk predicted before the clock starts (with the policy's one-time set-up costs)."""
    latencies_s: list[float] = field(default_factory=list)
    """Every later chunk's prediction time."""
    largest_jump: float = 0.0
    largest_jump_joint: str = ""
    clamped_ticks: int = 0
    """Ticks where the safety filter changed the policy's action."""
    wall_s: float = 0.0
    stop_reason: str = "finished"
    ok: bool = True
    success: bool | None = None
    """Whether a simulated task succeeded by the end (None on a real robot)."""

    @property
    def on_time_pct(self) -> float:
        """The share of control periods that got their target on time."""
        on_time = self.ticks - self.late_ticks
        periods = on_time + self.missed_deadlines
        return 100.0 * on_time / periods if periods else 0.0

    def hint(self) -> str | None:
        """What to change when most control periods missed their deadline; None otherwise."""
        if not self.ticks or self.on_time_pct >= 50:
            return None
        period_ms = 1000 / self.fps
        changes = [] if self.mode == "async" else ["--async=true (predict while acting)"]
        changes += ["a smaller model", "a GPU (--policy.device=cuda)", f"a lower --fps (now {self.fps})"]
        return (
            f"hint: {100 - self.on_time_pct:.0f}% of deadlines missed (inference p50 {self.latency_ms(50):.0f} ms "
            f"for a {period_ms:.0f} ms period); try " + ", ".join(changes)
        )

    def latency_ms(self, percentile: float) -> float:
        """A percentile of the chunks' prediction times, the first chunk's when it is the only one (NaN: none)."""
        measured = self.latencies_s or [self.first_chunk_s]
        return float(np.percentile(measured, percentile) * 1000)

    def inference_line(self) -> str:
        threads = f"{self.inference_threads} thread{'s' if self.inference_threads != 1 else ''}"
        if not self.chunks:
            return f"inference ({threads}): no chunks"
        return (
            f"inference ({threads}): {self.chunks} chunk{'s' if self.chunks != 1 else ''}, "
            f"p50 {self.latency_ms(50):.1f} ms, p99 {self.latency_ms(99):.1f} ms "
            f"(first chunk {self.first_chunk_s * 1000:.0f} ms)"
        )

    def summary(self) -> dict:
        """JSON-ready numbers (None where there is no measurement)."""
        data = asdict(self)
        del data["latencies_s"], data["first_chunk_s"]
        data.update(
            on_time_pct=round(self.on_time_pct, 3),
            inference_p50_ms=_ms(self.latency_ms(50)),
            inference_p99_ms=_ms(self.latency_ms(99)),
            first_chunk_ms=_ms(self.first_chunk_s * 1000),
            largest_jump=round(self.largest_jump, 4),
            wall_s=round(self.wall_s, 3),
            hint=self.hint(),
        )
        return data

    def lines(self) -> list[str]:
        return [
            f"mode {self.mode} at {self.fps} fps: {self.ticks} ticks in {self.wall_s:.1f} s, "
            f"{self.late_ticks} late, {self.missed_deadlines} missed deadlines ({self.on_time_pct:.2f}% on time), "
            f"{self.starved_ticks} ticks without a fresh action",
            self.inference_line(),
            f"largest joint jump per tick: {self.largest_jump:.3f} ({self.largest_jump_joint or '-'}); "
            f"safety clamped {self.clamped_ticks} ticks",
            f"stopped: {self.stop_reason}"
            + ("" if self.success is None else f"; task success: {self.success}"),
            *([hint] if (hint := self.hint()) else []),
        ]

    def write(self, path: Path) -> None:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.summary(), indent=2) + "\n")


def _ms(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 2)
