"""Frames of a dataset's videos, decoded with PyAV from containers kept open for the life of the process.

LeRobot 0.4.4's pyav backend opens the file, builds a decoder, converts every decoded frame to float and
closes it again, for every sample and camera. `OpenVideos` keeps one container per file, seeks the way LeRobot
does (to the key frame at or before the first timestamp asked for), decodes up to the last one and picks,
for each timestamp, the closest decoded frame: the same frames LeRobot picks. Only those are converted
(YUV to RGB with the same FFmpeg call torchvision makes), and they stay uint8.
"""

from __future__ import annotations

import gc
import os
import weakref
from pathlib import Path

import av
import numpy as np
import torch

from policyzoo.errors import BadInput

FIX = "copy the dataset again, or record it again"


class VideoError(BadInput):
    """A dataset's video that cannot give the frames asked for. One line even when a data worker's error is
    raised again in the main process: PyTorch builds that copy from the worker's whole traceback, of which only
    the last line, this error's own message, is kept."""

    def __init__(self, message: str) -> None:
        if "\nOriginal Traceback" in message:
            message = message.strip().splitlines()[-1].split(": ", 1)[-1]
        super().__init__(message)


class FrameTimestampError(VideoError):
    """No decoded frame lies within the tolerance of a timestamp asked for."""


class OpenVideos:
    """One open PyAV container per video file, in this process. Every instance closes its containers before the
    process forks (a data worker starting): a child that inherited FFmpeg's decoders, their threads gone, would
    crash using or freeing them; each process opens its own when it reads."""

    def __init__(self, threads: int = 0) -> None:
        """`threads`: decoder threads per file (0: FFmpeg decides; 1 suits data workers that share the cores)."""
        self.threads = threads
        self._open: dict[Path, av.container.InputContainer] = {}
        _INSTANCES.add(self)

    def close(self) -> None:
        """Close every open container (they reopen when next read)."""
        open_now, self._open = self._open, {}
        for container in open_now.values():
            container.close()

    def frames(self, path: Path, timestamps: list[float], tolerance_s: float) -> torch.Tensor:
        """The frames at `timestamps` (seconds in the file) as a uint8 tensor (len(timestamps), 3, H, W)."""
        try:
            decoded = self._decode(path, min(timestamps), max(timestamps))
        except (av.FFmpegError, OSError, EOFError) as exc:
            raise VideoError(
                f"{path}: cannot be decoded near {min(timestamps):.3f} s "
                f"({' '.join(str(exc).split())[:120]}), it is damaged; {FIX}"
            ) from None
        if not decoded:
            raise FrameTimestampError(
                f"{path}: no frame decoded at or after {min(timestamps):.4f} s, the video is "
                f"cut short or damaged; {FIX}"
            )
        times = np.array([float(frame.pts * frame.time_base) for frame in decoded])
        distance = np.abs(np.asarray(timestamps)[:, None] - times[None, :])
        closest = distance.argmin(axis=1)
        off = distance[np.arange(len(timestamps)), closest] >= tolerance_s
        if off.any():
            raise FrameTimestampError(
                f"{path}: no frame within {tolerance_s} s of {np.asarray(timestamps)[off].tolist()[:4]} s (the "
                f"nearest are {times[closest[off]].tolist()[:4]} s): the video is damaged or does not match the "
                f"timestamps in meta/episodes/; {FIX}, or raise --tolerance_s"
            )
        rgb = {index: decoded[index].to_rgb().to_ndarray() for index in set(closest.tolist())}
        return torch.from_numpy(np.stack([rgb[index] for index in closest.tolist()])).permute(0, 3, 1, 2)

    def _decode(self, path: Path, first: float, last: float) -> list[av.VideoFrame]:
        """The frames from the key frame at or before `first` seconds up to the first at or after `last`."""
        container = self._container(path)
        stream = container.streams.video[0]
        container.seek(
            int(round(max(0.0, first) / stream.time_base)), backward=True, any_frame=False, stream=stream
        )
        decoded: list[av.VideoFrame] = []
        for frame in container.decode(stream):
            decoded.append(frame)
            if float(frame.pts * frame.time_base) >= last:
                break
        return decoded

    def _container(self, path: Path) -> av.container.InputContainer:
        container = self._open.get(path)
        if container is None:
            container = av.open(str(path), metadata_errors="ignore")
            stream = container.streams.video[0]
            stream.codec_context.thread_count = self.threads
            self._open[path] = container
        return container


_INSTANCES: weakref.WeakSet[OpenVideos] = weakref.WeakSet()


def _close_before_fork() -> None:
    """Close every decoder this process holds before it forks, ours and those left unreachable in reference
    cycles (LeRobot's own reader leaves PyAV containers there): a child that frees an inherited decoder waits
    forever on the decoding threads only the parent has."""
    for videos in list(_INSTANCES):
        videos.close()
    gc.collect()


os.register_at_fork(before=_close_before_fork)
