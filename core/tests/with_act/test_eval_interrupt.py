"""`policyzoo eval --workers=2` stopped by a signal: no process outlives it (SIGTERM ends the pool; a SIGKILLed
parent takes its workers along), and SIGTERM keeps the finished episodes' results, marked partial."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EPISODES = 40
MARK = "POLICYZOO_TEST_PROCESS_MARK"
"""An environment variable every process the command starts inherits: found in any survivor, orphaned or not."""


def start_eval(policy: Path, output: Path, err: Path, mark: str) -> tuple[subprocess.Popen, list[str]]:
    """`policyzoo eval` with two workers, once its first episode has finished: (process, stdout lines so far)."""
    command = [
        sys.executable,
        "-m",
        "policyzoo",
        "eval",
        f"--policy.path={policy}",
        "--env=so101_bimanual_sim",
        f"--episodes={EPISODES}",
        "--max_steps=2",
        f"--videos={EPISODES}",
        "--policy.device=cpu",
        "--workers=2",
        f"--output_dir={output}",
    ]
    with err.open("w") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env={**os.environ, MARK: mark}
        )
    lines: list[str] = []
    while not any(line.startswith("episode ") for line in lines):
        line = process.stdout.readline()
        assert line, f"eval ended early: {err.read_text()[-3000:]}"
        lines.append(line)
    return process, lines


def marked(mark: str) -> list:
    """The running processes (psutil) with `mark` in their environment."""
    import psutil

    found = []
    for process in psutil.process_iter():
        try:
            if process.environ().get(MARK) == mark and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied):  # gone meanwhile, or another user's
            continue
    return found


def survivors(mark: str, deadline_s: float = 60.0) -> list:
    """The processes with `mark` still running once they have all exited, or `deadline_s` has passed."""
    deadline = time.monotonic() + deadline_s
    while (found := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL])
def test_no_worker_outlives_a_stopped_eval(act_run: Path, tmp_path: Path, signum: int) -> None:
    output, log, mark = tmp_path / "eval", tmp_path / "stderr.txt", uuid.uuid4().hex
    process, lines = start_eval(act_run / "checkpoints" / "last" / "pretrained_model", output, log, mark)
    try:
        assert len(marked(mark)) >= 4  # eval, its two workers and multiprocessing's resource tracker
        process.send_signal(signum)
        process.wait(timeout=120)
        assert not survivors(mark)
    finally:
        for survivor in marked(mark):  # after a failure only: nothing of this test keeps running
            with contextlib.suppress(Exception):
                survivor.kill()
    out, err = process.stdout.read(), log.read_text()
    if signum == signal.SIGKILL:
        assert process.returncode == -signal.SIGKILL
        return
    assert process.returncode == 128 + signum, err[-3000:]
    assert "interrupted (SIGTERM)" in err and "Traceback" not in err, err[-3000:]
    summary = json.loads((output / "eval_summary.json").read_text())
    finished = sorted(
        int(line.split(":")[0].split()[1]) for line in lines + out.splitlines() if line.startswith("episode ")
    )
    assert summary["partial"] == {"stop": "interrupted (SIGTERM)", "episodes_planned": EPISODES}
    assert 1 <= summary["episodes"] == len(finished) < EPISODES
    assert [episode["index"] for episode in summary["per_episode"]] == finished
    videos = sorted(path.name for path in output.glob("*.mp4"))
    assert videos == sorted(e["video"] for e in summary["per_episode"])  # none of an episode cut short
    assert (
        f"wrote {output / 'eval_summary.json'}: {summary['episodes']} of {EPISODES} episodes finished" in err
    )
