"""Devices a machine surely lacks, known without importing torch (so that a bad `--policy.device` fails fast)."""

from __future__ import annotations

import glob
import os
import sys

from policyzoo.errors import BadInput


def nvidia_driver_present() -> bool:
    """False where CUDA cannot work: macOS, or Linux without an NVIDIA device (or WSL's GPU); True elsewhere."""
    if sys.platform == "darwin":
        return False
    if not sys.platform.startswith("linux"):
        return True  # Windows: torch decides
    return bool(glob.glob("/dev/nvidia[0-9]*")) or os.path.exists("/dev/dxg")


def check_device(name: str | None, flag: str = "--policy.device") -> None:
    """BadInput for a CUDA device on a machine without an NVIDIA GPU, or MPS off macOS."""
    kind = (name or "").split(":")[0].strip().lower()
    if kind == "cuda" and not nvidia_driver_present():
        raise BadInput(
            f"{flag}={name}: this machine has no NVIDIA GPU (no /dev/nvidia*); use {flag}=cpu or auto"
        )
    if kind == "mps" and sys.platform != "darwin":
        raise BadInput(f"{flag}={name}: MPS exists on macOS only; use {flag}=cpu or auto")
