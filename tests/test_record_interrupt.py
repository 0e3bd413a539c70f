"""`policyzoo record` in the simulator never loses a finished episode: SIGTERM and SIGHUP stop it as Ctrl-C
does, and a full disk stops it in one line; either way LeRobot loads every finished episode."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from policyzoo import CameraSpec
from policyzoo.errors import BadInput
from policyzoo_runtime.record.sim import DISK_MARGIN, SIM_META, DiskSpace, LowDiskSpace, record_episodes

pytestmark = pytest.mark.slow


def load(root: Path):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset(f"local/{root.name}", root=root, video_backend="pyav")


MARK = "POLICYZOO_TEST_PROCESS_MARK"
"""An environment variable every process the command starts inherits: found in any survivor, orphaned or not."""


def survivors(mark: str, deadline_s: float = 60.0) -> list[int]:
    """The processes (pids) with `mark` in their environment still running once all have exited, or after
    `deadline_s`."""
    import psutil

    deadline = time.monotonic() + deadline_s
    while True:
        found = []
        for process in psutil.process_iter():
            try:
                if process.environ().get(MARK) == mark and process.status() != psutil.STATUS_ZOMBIE:
                    found.append(process.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):  # gone meanwhile, or another user's
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_keeps_every_finished_episode(tmp_path: Path, signum: int) -> None:
    root, log, mark = tmp_path / "data", tmp_path / "stderr.txt", uuid.uuid4().hex
    command = [
        sys.executable,
        "-m",
        "policyzoo",
        "record",
        "--robot.type=so101",
        "--robot.backend=sim",
        f"--dataset.root={root}",
        "--episodes=50",
    ]  # two cameras as AV1 video, as LeRobot records
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=stderr, text=True, env={**os.environ, MARK: mark}
        )
    lines: list[str] = []
    while not any(line.startswith("episode 0:") for line in lines):
        line = process.stdout.readline()
        assert line, f"record ended early: {log.read_text()[-3000:]}"
        lines.append(line)
    process.send_signal(signum)
    out = process.communicate(timeout=120)[0]
    err = log.read_text()
    name = signal.Signals(signum).name
    assert process.returncode == 128 + signum, err[-3000:]
    assert not survivors(mark)  # nor LeRobot's video encoders
    saved = [line for line in lines + out.splitlines() if line.startswith("episode ")]
    assert [line for line in err.splitlines() if line][-2:] == [
        f"interrupted ({name}): the {len(saved)} finished episode(s) are kept in {root}",
        f"interrupted ({name})",
    ]
    assert "Exception ignored" not in err, err[-3000:]
    dataset = load(root)
    assert dataset.num_episodes == len(saved) >= 1 and len(dataset) == dataset.meta.total_frames
    assert dataset[len(dataset) - 1]["episode_index"] == len(saved) - 1
    assert json.loads((root / SIM_META).read_text())["seeds"] == list(range(len(saved)))
    assert not (root / "images").exists()  # the frames of the episode cut short are gone


@pytest.fixture
def robot():
    from policyzoo_so101.sim import SimSO101
    from policyzoo_so101.specs import SO101

    sim = SimSO101(SO101.model_copy(update={"cameras": [CameraSpec(name="wrist", height=24, width=32)]}), {})
    yield sim
    sim.disconnect()


def test_a_disk_too_full_for_the_next_episode_stops_before_it(run_cli, tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "data"

    def disk_usage(path):  # a disk with room for the margin and 1 MB more, which the dataset fills
        used = sum(file.stat().st_size for file in root.rglob("*") if file.is_file())
        return SimpleNamespace(total=DISK_MARGIN + 2**20, used=used, free=max(0, DISK_MARGIN + 2**20 - used))

    monkeypatch.setattr(shutil, "disk_usage", disk_usage)
    code, _, err = run_cli(
        "record",
        "--robot.type=so101",
        "--robot.cameras=wrist",
        "--dataset.video=false",
        "--episodes=10",
        f"--dataset.root={root}",
    )
    line = re.fullmatch(
        rf"policyzoo: error: {re.escape(str(root))}: recording stopped, only [\d.]+ MB free on "
        r"its disk, and (the next episode|saving the episode) needs about [\d.]+ MB \(with room to "
        r"finalize the dataset\); "
        r"free some space; the (\d+) finished episode\(s\) are kept\n",
        err,
    )
    assert code == 2 and line, err
    kept = int(line.group(2))
    assert 1 <= kept < 10 and load(root).num_episodes == kept
    assert json.loads((root / SIM_META).read_text())["seeds"] == list(range(kept))


def test_a_full_disk_in_an_episode_drops_it_and_keeps_the_others(robot, tmp_path: Path, monkeypatch) -> None:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    root, add_frame = tmp_path / "data", LeRobotDataset.add_frame
    frames_of_second = []

    def full_in_second_episode(self, frame):
        if self.meta.total_episodes == 1:
            frames_of_second.append(frame)
            if len(frames_of_second) == 10:
                raise OSError(errno.ENOSPC, "No space left on device", str(root / "images" / "frame.png"))
        return add_frame(self, frame)

    monkeypatch.setattr(LeRobotDataset, "add_frame", full_in_second_episode)
    with pytest.raises(BadInput) as refused:
        record_episodes(robot, root, f"local/{root.name}", episodes=3, progress=False)
    assert str(refused.value) == (
        f"{root}: recording stopped, {root / 'images' / 'frame.png'}: no space left on "
        "the device (disk full); free some space and run again; the 1 finished "
        "episode(s) are kept"
    )
    assert load(root).num_episodes == 1
    assert not (root / "images").exists()  # the frames of the dropped episode are gone


@pytest.mark.parametrize(
    ("frees", "line"),
    [
        ([1000, 800, 700, 500], "only 564 MB free on its disk, and the next episode needs about 664 MB"),
        (
            [1000, 800, 700, 990, 150],
            "only 214 MB free on its disk, and saving the episode needs about 264 MB",
        ),
    ],
)
def test_the_room_needed_is_twice_the_most_an_episode_or_a_save_took(
    monkeypatch, frees: list[int], line: str
) -> None:
    """`frees`: the MB over the margin at each look: before an episode, before its save, after it, ..."""
    looks = iter(frees)
    monkeypatch.setattr(
        shutil, "disk_usage", lambda path: SimpleNamespace(free=next(looks) * 2**20 + DISK_MARGIN)
    )
    space = DiskSpace(Path("."))
    space.check_episode()
    space.check_save()
    space.saved()  # the episode took 300 MB, 100 of them to save it
    with pytest.raises(LowDiskSpace, match=re.escape(line)):
        space.check_episode()
        space.check_save()
