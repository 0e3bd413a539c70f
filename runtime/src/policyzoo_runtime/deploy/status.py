"""A live status line for deploy runs: one line on a terminal, rewritten in place."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from policyzoo_runtime.deploy.report import DeployReport


class StatusLine:
    """`status(report)` shows the tick, the share of ticks on time and the clamped ticks, at most every
    `every_s` seconds; only on a terminal unless `enabled`. `close()` ends the line."""

    def __init__(
        self, stream: TextIO | None = None, every_s: float = 0.25, enabled: bool | None = None
    ) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.every_s = every_s
        self.prefix = ""
        """Put before the numbers, e.g. 'episode 2: '."""
        self._shown_at: float | None = None
        self._width = 0

    def __call__(self, report: DeployReport) -> None:
        now = time.perf_counter()
        if not self.enabled or (self._shown_at is not None and now - self._shown_at < self.every_s):
            return
        text = (
            f"{self.prefix}tick {report.ticks}, {report.on_time_pct:.1f}% on time, "
            f"{report.clamped_ticks} clamped"
        )
        self.stream.write("\r" + text.ljust(self._width))
        self.stream.flush()
        self._shown_at, self._width = now, len(text)

    def close(self) -> None:
        if self._shown_at is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._shown_at, self._width = None, 0
