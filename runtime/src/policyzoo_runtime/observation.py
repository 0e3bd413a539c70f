"""One observation as a policy handle takes it, from what a robot or a camera gives, or one clear BadInput.

Accepted per key: `observation.state` (and other state features) as a 1-D array, list or tensor of the
policy's length, any real dtype (float64 is converted to float32); each camera `observation.images.NAME`
as a camera gives it, (H, W, 3) uint8, or as LeRobot's datasets do, (3, H, W) floats in [0, 1]. No batch
dimension; no NaN or infinity (a policy would turn it into NaN actions). Other keys (`task`, ...) pass through
unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from policyzoo.errors import BadInput
from policyzoo.features import STATE_KEY, Features

FLOAT_SLACK = 1e-3
"""How far above 1.0 a float image may go (rounding) before it is taken for 0-255 values."""


def expected(features: Features) -> str:
    """What an observation must hold, in words, e.g. "observation.state: 12 numbers; observation.images.top:
    (H, W, 3) uint8 or (3, H, W) float in [0, 1] with H, W = 96, 96"."""
    parts = [f"'{key}': {_shown(shape)} numbers" for key, shape in features.state.items()]
    parts += [
        f"'{key}': ({c_h_w[1]}, {c_h_w[2]}, 3) uint8 or ({c_h_w[0]}, {c_h_w[1]}, {c_h_w[2]}) float in [0, 1]"
        for key, c_h_w in features.visual.items()
    ]
    return "; ".join(parts)


def prepare_observation(observation: Any, features: Features) -> dict[str, Any]:
    """`observation` with state as float32 tensors and images as (3, H, W) float tensors in [0, 1]."""
    import torch

    if not isinstance(observation, Mapping):
        raise BadInput(
            f"select_action: the observation is a {type(observation).__name__}; pass a dict with "
            f"{expected(features)}"
        )
    missing = [key for key in (*features.state, *features.visual) if key not in observation]
    if missing:
        raise BadInput(
            f"select_action: the observation has no '{missing[0]}' (it has: "
            f"{', '.join(map(str, observation)) or 'nothing'}); the policy takes {expected(features)}"
        )
    prepared = dict(observation)
    for key, shape in features.state.items():
        value = _tensor(key, observation[key])
        if tuple(value.shape) != tuple(shape):
            raise BadInput(
                f"select_action: '{key}' has shape {_shown(value.shape)}; the policy takes "
                f"{_shown(shape)}" + _batched_hint(value.shape, shape)
            )
        _check_finite(key, value, features.state_names if key == STATE_KEY else None)
        prepared[key] = value if value.dtype == torch.float32 else value.to(torch.float32)
    for key, c_h_w in features.visual.items():
        prepared[key] = _image(key, _tensor(key, observation[key]), tuple(c_h_w))
    return prepared


def _image(key: str, image: Any, c_h_w: tuple[int, int, int]) -> Any:
    import torch

    channels, height, width = c_h_w
    if tuple(image.shape) == (height, width, channels):
        image = image.permute(2, 0, 1)
    elif tuple(image.shape) != c_h_w:
        raise BadInput(
            f"select_action: '{key}' has shape {_shown(image.shape)}; the policy takes ({height}, "
            f"{width}, {channels}) as a camera gives it, or ({channels}, {height}, {width})"
            + _batched_hint(image.shape, c_h_w)
        )
    if image.dtype == torch.uint8:
        return image.to(torch.float32) / 255.0
    if not image.is_floating_point():
        raise BadInput(f"select_action: '{key}' is {image.dtype}; pass uint8 (0-255) or floats in [0, 1]")
    _check_finite(key, image)
    if image.numel() and float(image.max()) > 1.0 + FLOAT_SLACK:
        raise BadInput(
            f"select_action: '{key}' holds floats up to {float(image.max()):.0f}; pass floats in "
            f"[0, 1] (divide by 255), or the camera's uint8 image as it is"
        )
    return image if image.dtype == torch.float32 else image.to(torch.float32)


def _check_finite(key: str, value: Any, names: list[str] | None = None) -> None:
    """BadInput naming the first NaN or infinite value of `key` (and its name, e.g. a joint's, where known)."""
    import torch

    bad = torch.nonzero(~torch.isfinite(value.reshape(-1)))
    if len(bad):
        index = int(bad[0])
        where = f"'{names[index]}'" if names and index < len(names) else f"index {index}"
        raise BadInput(
            f"select_action: '{key}' holds {float(value.reshape(-1)[index])} at {where}"
            f"{f' and {len(bad) - 1} more values' if len(bad) > 1 else ''}; pass finite numbers (a "
            f"sensor that failed to read?)"
        )


def _tensor(key: str, value: Any) -> Any:
    import numpy as np
    import torch

    if isinstance(value, torch.Tensor):
        return value
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        array = None
    if array is None or array.dtype.kind not in "biuf":
        raise BadInput(
            f"select_action: '{key}' is a {type(value).__name__}; pass numbers (a numpy array, a "
            f"list or a torch tensor)"
        )
    return torch.from_numpy(np.ascontiguousarray(array))


def _batched_hint(have: Any, want: tuple[int, ...]) -> str:
    have = tuple(have)
    if len(have) == len(want) + 1 and have[0] >= 1:
        return " (one observation, without a batch dimension: select_action takes one at a time)"
    return ""


def _shown(shape: Any) -> str:
    return "(" + ", ".join(str(int(n)) for n in shape) + ("," if len(shape) == 1 else "") + ")"
