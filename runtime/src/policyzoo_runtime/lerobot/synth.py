"""A synthetic bimanual SO101 dataset at real sizes, written with LeRobot's own recording API.

The joints follow smooth curves in robot units; each camera shows shapes moving over a gradient with a little
noise. The frames are encoded as LeRobot records them by default (AV1 with libsvtav1, GOP 2, CRF 30, yuv420p):
LeRobot's streaming encoder uses those settings and skips the PNG round trip, so building takes minutes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from policyzoo.features import ACTION_KEY, IMAGE_PREFIX, STATE_KEY
from policyzoo_runtime.quiet import quiet_lerobot
from policyzoo_runtime.synthetic import BIMANUAL_JOINTS, TASK

REPO_ID = "policyzoo/so101_bimanual_synth"
FPS = 30
ROBOT_TYPE = "so101_bimanual"
CAMERAS = ("left_top", "right_front")


@dataclass(frozen=True)
class SynthSize:
    episodes: int = 20
    frames: int = 300
    height: int = 480
    width: int = 640
    cameras: tuple[str, ...] = CAMERAS


@dataclass(frozen=True)
class Written:
    root: Path
    episodes: int
    frames: int
    seconds: float


def features(size: SynthSize) -> dict[str, dict[str, Any]]:
    """LeRobot features: 12 joints of state and action, one AV1 video per camera."""
    joints = {"dtype": "float32", "shape": (len(BIMANUAL_JOINTS),), "names": list(BIMANUAL_JOINTS)}
    found: dict[str, dict[str, Any]] = {STATE_KEY: dict(joints), ACTION_KEY: dict(joints)}
    for camera in size.cameras:
        found[f"{IMAGE_PREFIX}{camera}"] = {
            "dtype": "video",
            "shape": (size.height, size.width, 3),
            "names": ["height", "width", "channels"],
        }
    return found


def write(root: Path, size: SynthSize, seed: int = 0, repo_id: str = REPO_ID) -> Written:
    """Write a new dataset at `root` (which must not exist; LeRobot creates it)."""
    from policyzoo_runtime.lerobot.datasets import create_dataset

    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    with quiet_lerobot():
        dataset = create_dataset(
            repo_id, root, FPS, features(size), ROBOT_TYPE, use_videos=True, streaming_encoding=True
        )
        for _ in range(size.episodes):
            for frame in _episode(rng, size):
                dataset.add_frame(frame)
            dataset.save_episode()
        dataset.finalize()
    return Written(root, size.episodes, size.episodes * size.frames, time.perf_counter() - started)


def _episode(rng: np.random.Generator, size: SynthSize) -> Any:
    """The frames of one episode: joints along random sinusoids, the action leading the state by one frame."""
    joints = len(BIMANUAL_JOINTS)
    center = rng.uniform(-40.0, 40.0, joints)
    amplitude = rng.uniform(5.0, 30.0, joints)
    speed = rng.uniform(0.2, 1.5, joints)
    phase = rng.uniform(0.0, 2 * np.pi, joints)
    scenes = [_Scene(rng, size.height, size.width) for _ in size.cameras]
    for index in range(size.frames):
        t = index / FPS
        state = center + amplitude * np.sin(speed * t + phase)
        action = center + amplitude * np.sin(speed * (t + 1 / FPS) + phase)
        frame: dict[str, Any] = {
            STATE_KEY: state.astype(np.float32),
            ACTION_KEY: action.astype(np.float32),
            "task": TASK,
        }
        for camera, scene in zip(size.cameras, scenes, strict=True):
            frame[f"{IMAGE_PREFIX}{camera}"] = scene.render(index)
        yield frame


class _Scene:
    """A gradient background, three coloured rectangles moving on their own paths, and sensor noise."""

    def __init__(self, rng: np.random.Generator, height: int, width: int) -> None:
        self.rng, self.height, self.width = rng, height, width
        rows = np.linspace(0.0, 1.0, height)[:, None, None]
        cols = np.linspace(0.0, 1.0, width)[None, :, None]
        tint = rng.uniform(40.0, 200.0, 3)
        self.background = (tint * (0.6 + 0.4 * rows) * (0.7 + 0.3 * cols)).astype(np.float32)
        self.colors = rng.uniform(0.0, 255.0, (3, 3))
        self.paths = rng.uniform(0.0, 2 * np.pi, (3, 4))

    def render(self, index: int) -> np.ndarray:
        image = self.background.copy()
        box_h, box_w = max(2, self.height // 6), max(2, self.width // 6)
        for color, (phase_y, phase_x, speed_y, speed_x) in zip(self.colors, self.paths, strict=True):
            top = int((self.height - box_h) * (0.5 + 0.5 * np.sin(0.02 * index * (1 + speed_y) + phase_y)))
            left = int((self.width - box_w) * (0.5 + 0.5 * np.sin(0.02 * index * (1 + speed_x) + phase_x)))
            image[top : top + box_h, left : left + box_w] = color
        image += self.rng.normal(0.0, 4.0, (self.height, self.width, 1)).astype(np.float32)
        return np.clip(image, 0.0, 255.0).astype(np.uint8)
