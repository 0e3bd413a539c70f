"""SIGTERM (and SIGHUP) as Ctrl-C: a supervisor's stop gets the same report, hold and disconnect as a key press.

The machinery is `policyzoo.interrupts`, light enough for the CLI's entry point, which uses it for every command.
"""

from __future__ import annotations

from policyzoo.interrupts import Terminated, interruption, sigterm_as_interrupt

__all__ = ["Terminated", "interruption", "sigterm_as_interrupt"]
