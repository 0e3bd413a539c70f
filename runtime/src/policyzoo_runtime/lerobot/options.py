"""LeRobot's nested training options, taken as `lerobot-train` takes them: `--dataset.image_transforms.*`
(its `ImageTransformsConfig`), `--scheduler.*` (its `LRSchedulerConfig` choices) and `--optimizer.*` (its
`OptimizerConfig` choices), parsed by draccus with LeRobot's own field types and defaults."""

from __future__ import annotations

import contextlib
import dataclasses
import io
from dataclasses import dataclass
from typing import Any

import draccus

from policyzoo.errors import BadInput

TRANSFORMS_PREFIX = "dataset.image_transforms"
SCHEDULER_PREFIX = "scheduler"
OPTIMIZER_PREFIX = "optimizer"
NAMED_GROUP_OPTIMIZERS = ("multi_adam",)
"""LeRobot optimizers that take parameter groups by name (SAC's), not a policy's `get_optim_params()`."""


@dataclass(frozen=True)
class TrainOptions:
    """The image transforms of the training dataset (None: off) and the LR scheduler replacing the policy's
    preset (None: keep the preset)."""

    image_transforms: Any
    scheduler: Any

    @classmethod
    def from_flags(cls, image_transforms: dict[str, str], scheduler: dict[str, str]) -> TrainOptions:
        return cls(build_image_transforms(image_transforms), scheduler_config(scheduler))


def image_transforms_config(values: dict[str, str]) -> Any:
    """LeRobot's `ImageTransformsConfig` with `--dataset.image_transforms.X` values (its defaults for none)."""
    from lerobot.transforms import ImageTransformsConfig

    return _parse(ImageTransformsConfig, values, TRANSFORMS_PREFIX)


def build_image_transforms(values: dict[str, str]) -> Any:
    """LeRobot's `ImageTransforms` from `--dataset.image_transforms.X` values; None unless enabled."""
    from lerobot.transforms import ImageTransforms

    if not values:
        return None
    config = image_transforms_config(values)
    if not config.enable:
        return None
    try:
        return ImageTransforms(config)
    except (ValueError, TypeError) as exc:
        raise BadInput(f"--{TRANSFORMS_PREFIX}.tfs: {' '.join(str(exc).split())[:200]}") from None


def scheduler_config(values: dict[str, str]) -> Any:
    """LeRobot's scheduler config named by `--scheduler.type`, with its `--scheduler.X` fields; None if unset."""
    from lerobot.optim.schedulers import LRSchedulerConfig

    if not values:
        return None
    values = dict(values)
    choices = sorted(LRSchedulerConfig.get_known_choices())
    name = values.pop("type", None)
    if name is None:
        raise BadInput(
            f"--{SCHEDULER_PREFIX}.type: name the scheduler these flags configure; one of: "
            f"{', '.join(choices)}"
        )
    if name not in choices:
        raise BadInput(
            f"--{SCHEDULER_PREFIX}.type={name}: LeRobot has no such scheduler; one of: {', '.join(choices)}"
        )
    return _parse(LRSchedulerConfig.get_choice_class(name), values, SCHEDULER_PREFIX)


def optimizer_config(values: dict[str, str], preset: Any) -> Any:
    """The policy's optimizer preset with `--optimizer.X` changed; with `--optimizer.type` naming another
    optimizer, that one at LeRobot's defaults with the fields given (as lerobot-train builds it)."""
    from lerobot.optim.optimizers import OptimizerConfig

    values = dict(values)
    choices = sorted(set(OptimizerConfig.get_known_choices()) - set(NAMED_GROUP_OPTIMIZERS))
    name = values.pop("type", None)
    if name is not None and name not in choices:
        raise BadInput(
            f"--{OPTIMIZER_PREFIX}.type={name}: not an optimizer for these policies; one of: "
            f"{', '.join(choices)}"
        )
    if name is None or OptimizerConfig.get_choice_class(name) is type(preset):
        parsed = _parse(type(preset), values, OPTIMIZER_PREFIX)
        return dataclasses.replace(preset, **{key: getattr(parsed, key) for key in values})
    return _parse(OptimizerConfig.get_choice_class(name), values, OPTIMIZER_PREFIX)


def _parse(config_class: type, values: dict[str, str], prefix: str) -> Any:
    """`values` into `config_class` through draccus (LeRobot's parser); one line for anything wrong."""
    fields = set(config_class.__dataclass_fields__)
    for key in values:
        if key not in fields:
            raise BadInput(
                f"--{prefix}.{key}: unknown option; {prefix} takes: "
                f"{', '.join('--' + prefix + '.' + name for name in sorted(fields))}"
            )
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            return draccus.parse(config_class, args=[f"--{key}={value}" for key, value in values.items()])
    except draccus.utils.DecodingError as exc:
        key_path, message = exc.args
        where = "".join(f".{part}" for part in key_path)
        raise BadInput(f"--{prefix}{where}: {' '.join(str(message).split())}") from None
    except SystemExit:
        lines = [line for line in errors.getvalue().splitlines() if line.strip()]
        raise BadInput(f"--{prefix}: {lines[-1] if lines else 'cannot parse these values'}") from None
