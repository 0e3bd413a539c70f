"""The export's self-check: reload the folder with policyzoo and with LeRobot, and compare their actions."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from policyzoo.errors import BadInput
from policyzoo.features import IMAGE_PREFIX, Features

SEED = 0
TOLERANCE = 1e-4
SAMPLE_TASK = "pick up the cube and hand it over"


def verify_folder(folder: Path, originals: dict[str, Any], lerobot_loadable: bool) -> tuple[list[str], bool]:
    """Lines describing the checks, and whether LeRobot reloaded the folder; BadInput when they fail.

    `originals` holds the unscrubbed JSON files when scrubbing changed any: the weights are checked
    with the JSON the checkpoint was trained with, since a scrubbed local path may not resolve here.
    """
    if not originals:
        return _verify(folder, lerobot_loadable, [])
    with tempfile.TemporaryDirectory(prefix=".policyzoo-verify-", dir=folder.parent) as view:
        view_path = Path(view)
        for path in folder.iterdir():
            if path.name in originals:
                (view_path / path.name).write_text(json.dumps(originals[path.name]))
            else:
                _link_or_copy(path, view_path / path.name)
        return _verify(view_path, lerobot_loadable, ["scrubbed JSON values restored for the check"])


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link (a symlink would point outside the view, which the loader refuses), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _verify(folder: Path, lerobot_loadable: bool, notes: list[str]) -> tuple[list[str], bool]:
    import torch

    from policyzoo.api import load_policy

    handle = load_policy(folder, device="cpu")
    observation = sample_observation(handle.features)
    handle.reset()
    torch.manual_seed(SEED)
    ours = handle.select_action(observation).detach().float().cpu().reshape(-1)
    expected = handle.features.action_dim
    if ours.numel() != expected or not torch.isfinite(ours).all():
        raise BadInput(
            f"export check failed: policyzoo's reload gave an action of {ours.numel()} values "
            f"(expected {expected}, all finite); nothing was written"
        )
    lines = notes + [f"policyzoo reload: action of {expected} finite values"]
    if not lerobot_loadable:
        lines.append("LeRobot reload: skipped, the plugin says LeRobot cannot load this policy type")
        return lines, False
    theirs = lerobot_action(folder, observation).reshape(-1)
    if theirs.shape != ours.shape:
        raise BadInput(
            f"export check failed: LeRobot's reload gives {theirs.numel()} action values, policyzoo's "
            f"{ours.numel()}; nothing was written"
        )
    difference = float((theirs - ours).abs().max())
    if not torch.allclose(theirs, ours, rtol=TOLERANCE, atol=TOLERANCE):
        raise BadInput(
            f"export check failed: LeRobot's and policyzoo's reloads disagree (max |difference| "
            f"{difference:.3g} > {TOLERANCE:g}); nothing was written"
        )
    lines.append(f"LeRobot reload: same action as policyzoo (max |difference| {difference:.1e})")
    return lines, True


def sample_observation(features: Features) -> dict[str, Any]:
    """A fixed, seeded observation for `features`: state in robot units, images in [0, 1], a task."""
    import torch

    generator = torch.Generator().manual_seed(SEED)
    observation: dict[str, Any] = {
        key: torch.randn(shape, generator=generator) for key, shape in sorted(features.state.items())
    }
    for key, shape in sorted(features.visual.items()):
        observation[key] = torch.rand(shape, generator=generator)
    observation["task"] = SAMPLE_TASK
    return observation


def lerobot_action(folder: Path, observation: dict[str, Any]) -> Any:
    """The first action LeRobot's own loaders give for `observation` (same seed as policyzoo's run)."""
    import torch
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    from policyzoo_runtime.processor_files import check_processor_file

    for name in (
        "policy_preprocessor.json",
        "policy_postprocessor.json",
    ):  # before LeRobot imports any "class"
        check_processor_file(folder / name, folder)
    try:
        config = PreTrainedConfig.from_pretrained(str(folder))
        config.device = "cpu"
        with contextlib.redirect_stdout(io.StringIO()):  # LeRobot prints where it loads from
            policy = get_policy_class(config.type).from_pretrained(str(folder), config=config, strict=True)
        preprocessor, postprocessor = make_pre_post_processors(
            config,
            pretrained_path=str(folder),
            preprocessor_overrides=_cpu_overrides(folder / "policy_preprocessor.json"),
            postprocessor_overrides=_cpu_overrides(folder / "policy_postprocessor.json"),
        )
    except Exception as exc:  # any failure here means LeRobot cannot load the export
        raise BadInput(
            f"export check failed: LeRobot cannot load the folder ({type(exc).__name__}: "
            f"{' '.join(str(exc).split())[:300]}); nothing was written"
        ) from None
    batch = _lerobot_keys(observation, config)
    policy.reset()
    torch.manual_seed(SEED)
    with torch.no_grad():
        action = postprocessor(policy.select_action(preprocessor(batch)))
    return action.detach().float().cpu()


def _cpu_overrides(processor_file: Path) -> dict[str, dict[str, str]]:
    steps = json.loads(processor_file.read_text()).get("steps", [])
    has_device_step = any(step.get("registry_name") == "device_processor" for step in steps)
    return {"device_processor": {"device": "cpu"}} if has_device_step else {}


def _lerobot_keys(observation: dict[str, Any], config: Any) -> dict[str, Any]:
    """The observation under the input keys LeRobot's config names (a plugin may rename one image)."""
    wanted = [key for key in config.input_features if key.startswith("observation.image")]
    ours = sorted(key for key in observation if key.startswith(IMAGE_PREFIX) or key == "observation.image")
    batch = {key: value for key, value in observation.items() if not key.startswith("observation.image")}
    if sorted(wanted) == ours:
        batch.update({key: observation[key] for key in ours})
    elif len(wanted) == len(ours) == 1:
        batch[wanted[0]] = observation[ours[0]]
    else:
        raise BadInput(
            f"export check failed: LeRobot's config expects images {wanted}, the policy takes {ours}"
        )
    return batch
