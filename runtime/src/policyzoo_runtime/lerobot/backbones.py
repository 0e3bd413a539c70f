"""torchvision weights named by a LeRobot config's `pretrained_backbone_weights`, used when they can be had.

LeRobot's ACT starts its ResNet from ImageNet weights, which torchvision downloads into torch's cache. policyzoo
follows that default when the file is cached or can be downloaded now, and otherwise says so in one line and
starts from random weights, so an offline machine still trains.
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from urllib.error import URLError
from urllib.parse import urlparse

import torch
from torchvision.models import get_model_weights, get_weight

from policyzoo.errors import BadInput

FIELD = "pretrained_backbone_weights"
"""The LeRobot config field naming the weights; LeRobot fetches them whenever it constructs the model."""
DOWNLOAD_TIMEOUT_S = 30


def cached_file(weights_name: str) -> Path:
    """Where torchvision keeps the file of `weights_name` (torch.hub's cache, under TORCH_HOME)."""
    return Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(get_weight(weights_name).url).path).name


def usable_weights(weights_name: str | None, backbone: str) -> str | None:
    """`weights_name` when its file is cached or downloads now; None (random weights, said once) otherwise."""
    if weights_name is None:
        return None
    flag = f"--policy.{FIELD}={weights_name}"
    try:
        weights = get_weight(weights_name)
    except (ValueError, KeyError, AttributeError):
        raise BadInput(
            f"{flag}: torchvision has no such weights; write e.g. ResNet18_Weights.IMAGENET1K_V1, "
            f"or None for random weights"
        ) from None
    choices = list(get_model_weights(backbone))
    if weights not in choices:
        raise BadInput(
            f"{flag}: not weights of {backbone}; use one of {', '.join(map(str, choices))}, or None"
        )
    if cached_file(weights_name).is_file():
        return weights_name
    if _offline():
        return _random_instead(weights_name, "HF_HUB_OFFLINE is set, so nothing is downloaded")
    previous_timeout = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        weights.get_state_dict(progress=False, check_hash=True)  # fills the cache
    except (URLError, OSError, RuntimeError) as exc:
        return _random_instead(weights_name, f"the download failed ({' '.join(str(exc).split())[:120]})")
    finally:
        socket.setdefaulttimeout(previous_timeout)
    return weights_name


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")


def _random_instead(weights_name: str, reason: str) -> None:
    print(
        f"warning: {weights_name} is not in torch's cache ({cached_file(weights_name)}) and {reason}: the "
        f"backbone starts from random weights (put the file there, or pass --policy.{FIELD}=None to choose "
        f"random weights)",
        file=sys.stderr,
    )
    return None
