"""Start-up cost of the CLI: wall time and peak memory of short commands, beside `python -c pass`."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import click

from policyzoo_bench.report import report

TIME_GOAL_S = 0.4
RSS_GOAL_MB = 80.0
HEAVY_MODULES = ("torch", "lerobot", "transformers")


# The child reports its own peak RSS (VmHWM) at exit: a child's ru_maxrss would include the RSS
# of this (larger) parent process at fork time.
_REPORT_PEAK = (
    "import atexit, os\n"
    "def _report_peak():\n"
    "    with open('/proc/self/status') as status:\n"
    "        peak = next(line.split()[1] for line in status if line.startswith('VmHWM'))\n"
    "    with open(os.environ['POLICYZOO_PEAK_FILE'], 'w') as out:\n"
    "        out.write(peak)\n"
    "atexit.register(_report_peak)\n"
)


def python_code(code: str) -> list[str]:
    return [sys.executable, "-c", _REPORT_PEAK + code]


def cli_code(*args: str) -> list[str]:
    return python_code(
        f"import sys\nsys.argv = ['policyzoo', *{list(args)!r}]\nfrom policyzoo.cli import main\nmain()"
    )


def run_once(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one run of `command`."""
    with tempfile.NamedTemporaryFile("r") as peak_file:
        env = {**os.environ, "POLICYZOO_PEAK_FILE": peak_file.name}
        start = time.perf_counter()
        completed = subprocess.run(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
        )
        elapsed = time.perf_counter() - start
        if completed.returncode != 0:
            raise RuntimeError(f"{command[-1]!r} exited {completed.returncode}: {completed.stderr[-500:]}")
        return elapsed, int(peak_file.read()) / 1024


def measure(command: list[str], repeats: int) -> dict[str, float]:
    run_once(command)  # warm the file cache
    runs = [run_once(command) for _ in range(repeats)]
    return {"median_s": statistics.median(t for t, _ in runs), "peak_rss_mb": max(m for _, m in runs)}


def heavy_imports(code: str) -> list[str]:
    probe = f"{code}\nimport sys; print(' '.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))"
    output = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return output.split()


def run(repeats: int, out_dir: Path) -> dict:
    commands = {
        "python -c pass": python_code("pass"),
        "python -c 'import policyzoo'": python_code("import policyzoo"),
        "policyzoo --help": cli_code("--help"),
        "policyzoo policies list": cli_code("policies", "list"),
    }
    results = {label: measure(command, repeats) for label, command in commands.items()}
    baseline = results["python -c pass"]
    target = results["policyzoo policies list"]
    leaked = heavy_imports(
        "from policyzoo.cli import cli\nfrom policyzoo.registry import get_registry\nget_registry()"
    )
    rows = [
        [
            label,
            f"{r['median_s']:.3f}",
            f"{r['peak_rss_mb']:.1f}",
            f"{r['median_s'] - baseline['median_s']:+.3f}",
            f"{r['peak_rss_mb'] - baseline['peak_rss_mb']:+.1f}",
        ]
        for label, r in results.items()
    ]
    verdict = {
        "time_goal_s": TIME_GOAL_S,
        "rss_goal_mb": RSS_GOAL_MB,
        "time_ok": target["median_s"] <= TIME_GOAL_S,
        "rss_ok": target["peak_rss_mb"] <= RSS_GOAL_MB,
        "heavy_modules_imported": leaked,
    }
    report(
        "cli",
        ["command", "median s", "peak RSS MB", "s over python", "MB over python"],
        rows,
        {"repeats": repeats, "results": results, **verdict},
        out_dir,
    )
    print(
        f"\npolicies list: {target['median_s']:.3f} s (goal <= {TIME_GOAL_S} s: "
        f"{'met' if verdict['time_ok'] else 'MISSED'}), {target['peak_rss_mb']:.1f} MB (goal <= {RSS_GOAL_MB:g} MB: "
        f"{'met' if verdict['rss_ok'] else 'MISSED'}); heavy modules at start-up: {', '.join(leaked) or 'none'}"
    )
    return verdict


@click.command("cli")
@click.option("--repeats", type=click.IntRange(1, 100), default=10, show_default=True)
@click.option("--out_dir", type=click.Path(path_type=Path), default=Path("bench-results"), show_default=True)
def command(repeats: int, out_dir: Path) -> None:
    """Median wall time and peak RSS of `policyzoo policies list` beside `python -c pass`."""
    run(repeats, out_dir)
