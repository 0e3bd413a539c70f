"""Writing a benchmark's rows as a markdown table and a JSON file."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click


def report(name: str, headers: list[str], rows: list[list[Any]], data: dict[str, Any], out_dir: Path) -> Path:
    """Print `rows` as markdown and write `data` plus machine facts to OUT_DIR/NAME.json."""
    click.echo(f"\n### bench {name}\n")
    click.echo(markdown_table(headers, rows))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    payload = {"bench": name, "time": time.strftime("%Y-%m-%dT%H:%M:%S"), "machine": machine(), **data}
    path.write_text(json.dumps(payload, indent=2) + "\n")
    click.echo(f"\nwrote {path}")
    return path


def machine() -> dict[str, Any]:
    import os

    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(str(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)
