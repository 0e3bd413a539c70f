"""The policy a run trains: built from its spec, or loaded from `--policy.path` / the checkpoint it resumes."""

from __future__ import annotations

import torch

from policyzoo.api import build_policy, load_policy
from policyzoo.features import Features
from policyzoo.handle import FineTune, PolicyHandle
from policyzoo.spec import PolicySpec
from policyzoo_runtime.train import prepare
from policyzoo_runtime.train.progress import say


def build_or_load(
    plan: prepare.Plan, device: torch.device, main: bool = True
) -> tuple[PolicyHandle, PolicySpec]:
    """(handle on `device`, its spec); a folder without policyzoo.json is checked against the data once loaded.
    Only the `main` process says how a fine-tuned policy is adapted."""
    spec, place = plan.spec, plan.place
    if plan.pretrained is None:
        assert spec is not None
        handle = build_policy(spec.model_copy(update={"device": str(device)}), place.features, plan.stats)
    else:
        handle = load_policy(plan.pretrained, device=str(device), finetune=finetune_of(plan, main))
        if spec is None:
            spec = handle.spec
            prepare.check_fit(spec, place, flag="--policy.path")
    return handle, spec


def finetune_of(plan: prepare.Plan, say_it: bool = True) -> FineTune | None:
    """How `--policy.path` is adapted to the dataset (None when resuming: the checkpoint already is), said in
    one line when `say_it`."""
    config = plan.config
    if config.resume:
        return None
    finetune = FineTune(
        stats=None if config.keep_checkpoint_stats else plan.stats,
        rename_map=config.rename_map,
        settings={key: value for key, value in config.policy.items() if key != "device"},
        camera_shapes={key: tuple(shape) for key, shape in plan.place.features.visual.items()},
        absent=plan.absent_cameras,
    )
    if say_it:
        say(
            f"fine-tuning {config.policy_path}: "
            + (
                "the checkpoint's normalization statistics"
                if finetune.stats is None
                else f"normalization statistics of {plan.place.repo_id} (keep the checkpoint's with "
                f"--keep_checkpoint_stats=true)"
            )
            + (f", observations renamed {config.rename_map}" if config.rename_map else "")
            + (
                f", without {', '.join(sorted(plan.absent_cameras))} (not in the dataset)"
                if plan.absent_cameras
                else ""
            )
        )
    return finetune


def say_camera(spec: PolicySpec, features: Features) -> None:
    """Which camera a one-camera policy takes from a dataset with several."""
    if "image_key" not in type(spec).model_fields or len(features.visual) < 2:
        return
    chosen = getattr(spec, "image_key", None) or next(iter(features.visual))
    cameras = ", ".join(features.visual)
    say(
        f"the dataset has {len(features.visual)} cameras ({cameras}); {spec.type} takes one: using {chosen}"
        + (
            ""
            if getattr(spec, "image_key", None)
            else " (the first; pick another with --policy.image_key=KEY)"
        )
    )
