"""Everything checked before torch is imported: the dataset's place and features, the spec, the output."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policyzoo.checkpoint import CONFIG_FILE, policy_type_of, read_meta, resolve_pretrained
from policyzoo.errors import BadInput
from policyzoo.features import Features, check_compatibility
from policyzoo.flags import make_spec
from policyzoo.registry import get_registry
from policyzoo.spec import PolicySpec, RobotSpec
from policyzoo_runtime.datasets import locate
from policyzoo_runtime.datasets import read_meta as read_dataset_meta
from policyzoo_runtime.devices import check_device
from policyzoo_runtime.lerobot_flags import POLICY_REASONS
from policyzoo_runtime.train.config import RUNTIME_POLICY_FLAGS, TrainConfig
from policyzoo_runtime.writable import check_writable

STATS_FILE = Path("meta") / "stats.json"


@dataclass
class DatasetPlace:
    repo_id: str
    root: Path
    info: dict[str, Any]
    features: Features

    @property
    def robot(self) -> RobotSpec | None:
        """The registered robot the dataset was recorded on, when its `robot_type` is one."""
        entry = get_registry().robots.get(str(self.info.get("robot_type")))
        return entry.spec if entry else None


def locate_dataset(config: TrainConfig) -> DatasetPlace:
    """The dataset to train on: `--dataset.root`, a Hub id (cached, or fetched when online), or the sample."""
    found = locate(config.dataset_root, config.dataset_repo_id, fetch=_fetch_metadata)
    if found is None:
        raise BadInput(
            "--dataset.repo_id: no dataset given and no installed plugin provides a sample dataset; "
            "pass --dataset.repo_id=USER/DATA or --dataset.root=DIR (or pip install policyzoo-so101)"
        )
    meta = read_dataset_meta(found.root, found.flag)
    return DatasetPlace(found.repo_id, found.root, meta.info, meta.features)


def _fetch_metadata(repo_id: str, root: Path) -> Path:
    from policyzoo_runtime.lerobot.datasets import fetch_metadata  # LeRobot (and torch) only when downloading

    return fetch_metadata(repo_id, root)


def spec_to_train(config: TrainConfig) -> tuple[PolicySpec | None, Path | None]:
    """(spec, pretrained folder to fine-tune or None); the spec is None when the folder has no policyzoo.json."""
    if config.policy_path is None:
        entry = get_registry().policy(config.policy_type or "")
        return make_spec(entry.spec, dict(config.policy), reasons=POLICY_REASONS), None
    directory = resolve_pretrained(config.policy_path)
    policy_type = policy_type_of(directory)
    if config.policy_type and config.policy_type != policy_type:
        raise BadInput(
            f"--policy.type={config.policy_type}: --policy.path holds a '{policy_type}' policy; drop "
            f"--policy.type when fine-tuning"
        )
    return saved_spec(directory, config.policy)


def saved_spec(directory: Path, overrides: dict[str, str]) -> tuple[PolicySpec | None, Path]:
    """The spec of a saved policy folder (from its policyzoo.json), with run-time overrides."""
    meta = read_meta(directory)
    if meta is None:
        return None, directory
    entry = get_registry().policy(meta.policy_type, flag="--policy.path type")
    return make_spec(entry.spec, {**meta.spec, **overrides}, reasons=POLICY_REASONS), directory


def renamed(features: Features, rename_map: dict[str, str]) -> Features:
    """`features` under the names `--rename_map` (dataset key -> policy key) gives them."""
    if not rename_map:
        return features
    return features.model_copy(
        update={
            group: {rename_map.get(key, key): shape for key, shape in getattr(features, group).items()}
            for group in ("state", "visual")
        }
    )


def check_rename_map(config: TrainConfig, dataset: DatasetPlace) -> None:
    """`--rename_map` renames the dataset's observations for a pretrained policy: keys it has, one name each."""
    if not config.rename_map:
        return
    if config.policy_path is None and not config.resume:
        raise BadInput(
            "--rename_map: renames the dataset's keys to those a pretrained policy was trained on; "
            "use it with --policy.path (a new --policy.type policy takes the dataset's own names)"
        )
    have = {**dataset.features.state, **dataset.features.visual}
    for key in config.rename_map:
        if key not in have:
            raise BadInput(
                f"--rename_map: dataset {dataset.repo_id} has no observation '{key}' to rename "
                f"(it has: {', '.join(have)})"
            )
    names = renamed(dataset.features, config.rename_map)
    targets = [*names.state, *names.visual]
    doubled = sorted({key for key in targets if targets.count(key) > 1})
    if doubled:
        raise BadInput(
            f"--rename_map: two observations would be called '{doubled[0]}'; give each its own name"
        )


def check_same_features(
    directory: Path, dataset: DatasetPlace, rename_map: dict[str, str] | None = None
) -> frozenset[str]:
    """A saved policy fine-tunes only on data with its state/action shapes and its cameras (after renaming);
    the cameras it may go without (its card's `cameras_optional`, one camera at least kept) are returned."""
    try:
        config = json.loads((directory / CONFIG_FILE).read_text())
    except (OSError, ValueError):
        return frozenset()  # loading the policy reports an unreadable config.json
    features = renamed(dataset.features, rename_map or {})
    have = {**features.state, **features.visual, **features.action}
    wanted = {**(config.get("input_features") or {}), **(config.get("output_features") or {})}
    missing = [key for key in wanted if key not in have]
    absent = frozenset(key for key in missing if wanted[key].get("type") == "VISUAL")
    entry = get_registry().policies.get(str(config.get("type")))
    optional = entry is not None and entry.card.cameras_optional
    if optional and set(missing) == absent and any(key in features.visual for key in wanted):
        missing = []
    if missing:
        raise BadInput(
            f"--policy.path: the policy needs '{missing[0]}', dataset {dataset.repo_id} has no such "
            f"feature (it has: {', '.join(have)}); {_rename_hint(missing, have, wanted)}"
        )
    for key, feature in wanted.items():
        shape = tuple(feature.get("shape", ()))
        if key in have and feature.get("type") != "VISUAL" and tuple(have[key]) != shape:
            raise BadInput(
                f"--policy.path: the policy's '{key}' has shape {list(shape)}, dataset {dataset.repo_id} "
                f"has {list(have[key])}; fine-tune on data with the same joints"
            )
    return absent if optional else frozenset()


def _rename_hint(missing: list[str], have: dict[str, Any], wanted: dict[str, Any]) -> str:
    """The `--rename_map` that pairs the dataset's unused observations with the names the policy misses."""
    unused = [key for key in have if key not in wanted and key.startswith("observation.")]
    pairs = dict(zip(unused, [key for key in missing if key.startswith("observation.")], strict=False))
    if not pairs:
        return "fine-tune on data recorded the same way"
    return f"if they are the same inputs under other names, add --rename_map='{json.dumps(pairs)}'"


def check_extras(config: TrainConfig) -> None:
    """Optional parts a run asks for must be installed before hours of training. (`--policy.push_to_hub`
    is checked by the command that pushes, `policyzoo_runtime.cli.train`: training does not know the Hub.)"""
    if config.wandb_enable and importlib.util.find_spec("wandb") is None:
        raise BadInput("--wandb.enable=true: wandb is not installed; pip install 'policyzoo[wandb]'")


def check_fit(spec: PolicySpec, dataset: DatasetPlace, flag: str = "--policy.type") -> None:
    """Every reason the policy cannot learn from the dataset, in one BadInput."""
    problems = check_compatibility(spec, dataset.features)
    if problems:
        raise BadInput(
            f"{flag}={spec.type} cannot train on {dataset.repo_id}: "
            + "; ".join(str(problem) for problem in problems)
        )


def output_dir(config: TrainConfig, policy_type: str) -> Path:
    """The run's output folder; a new run never reuses an existing one."""
    if config.resume:
        return Path(config.output_dir or "")
    if config.output_dir:
        path = Path(config.output_dir)
        if path.is_dir():
            raise BadInput(
                f"--output_dir={config.output_dir}: already exists; continue that run with "
                f"--resume=true, or pick a new --output_dir (nothing is overwritten)"
            )
        return check_writable(path, "--output_dir")
    return check_writable(
        Path("outputs/train")
        / time.strftime("%Y-%m-%d")
        / time.strftime(f"%H-%M-%S_{config.job_name or policy_type}"),
        "--output_dir",
    )


def read_stats(root: Path) -> dict[str, dict[str, Any]]:
    """The normalization statistics in `meta/stats.json` (lists of numbers per feature and statistic)."""
    path = Path(root) / STATS_FILE
    if not path.is_file():
        raise BadInput(
            f"--dataset.root: {root} has no {STATS_FILE}; finish the dataset with LeRobot's "
            f"dataset.finalize() (or recompute its statistics)"
        )
    try:
        return json.loads(path.read_text())
    except ValueError as exc:
        raise BadInput(f"--dataset.root: {path} is not valid JSON ({exc})") from None


@dataclass
class Plan:
    """A checked training run: everything known before torch is imported."""

    config: TrainConfig
    place: DatasetPlace
    spec: PolicySpec | None
    """None only when fine-tuning a folder without policyzoo.json (known once loaded)."""
    pretrained: Path | None
    """The saved policy to start from: `--policy.path`, or the `last` checkpoint when resuming."""
    last: Path | None
    """The checkpoint being resumed."""
    output_dir: Path
    stats: dict[str, dict[str, Any]]
    absent_cameras: frozenset[str] = frozenset()
    """Cameras of `--policy.path` the dataset lacks, which the policy can go without (dropped from it)."""


def plan(config: TrainConfig) -> Plan:
    """Check the whole run (dataset, policy, fit, output folder, extras) without building anything."""
    from policyzoo_runtime.train.checkpoint_dirs import PRETRAINED, require_last

    place = locate_dataset(config)
    last = None
    if config.resume:
        output = Path(config.output_dir or "")
        last, done = require_last(output)
        if config.steps <= done:
            raise BadInput(
                f"--steps={config.steps}: the run in {output} is already at step {done}; raise --steps "
                f"to train further"
            )
        runtime = {key: value for key, value in config.policy.items() if key in RUNTIME_POLICY_FLAGS}
        spec, pretrained = saved_spec(last / PRETRAINED, runtime)
    else:
        spec, pretrained = spec_to_train(config)
        output = output_dir(config, spec.type if spec else "finetune")
    check_device(spec.device if spec else config.policy.get("device"))  # before torch, which takes long
    check_rename_map(config, place)
    if spec is not None:
        fits = dataclasses.replace(place, features=renamed(place.features, config.rename_map))
        check_fit(
            spec, fits, "--policy.path" if pretrained is not None and not config.resume else "--policy.type"
        )
    absent = (
        check_same_features(pretrained, place, config.rename_map) if pretrained is not None else frozenset()
    )
    check_extras(config)
    check_dataset_options(config, place)
    stats = read_stats(place.root)
    if config.use_imagenet_stats:
        stats = with_imagenet_stats(stats, place.features.visual)
    return Plan(config, place, spec, pretrained, last, output, stats, absent)


IMAGENET_STATS = {"mean": [[[0.485]], [[0.456]], [[0.406]]], "std": [[[0.229]], [[0.224]], [[0.225]]]}
"""ImageNet's per-channel mean and std of RGB images in [0, 1]: LeRobot's default normalization of cameras."""


def with_imagenet_stats(
    stats: dict[str, dict[str, Any]], cameras: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """`stats` with ImageNet's mean and std for every camera (`--dataset.use_imagenet_stats=true`)."""
    return {**stats, **{key: {**stats.get(key, {}), **IMAGENET_STATS} for key in cameras}}


def check_dataset_options(config: TrainConfig, place: DatasetPlace) -> None:
    """`--dataset.episodes` within the dataset, and a `--dataset.video_backend` that can run here."""
    import importlib.util

    total = int(place.info.get("total_episodes", 0))
    outside = [index for index in config.dataset_episodes or [] if index >= total]
    if outside:
        raise BadInput(
            f"--dataset.episodes: episode {outside[0]} is not in {place.repo_id}, which has {total} "
            f"(0 to {total - 1})"
        )
    if config.video_backend == "torchcodec" and importlib.util.find_spec("torchcodec") is None:
        raise BadInput(
            "--dataset.video_backend=torchcodec: torchcodec is not installed; pip install torchcodec "
            "(it needs FFmpeg's libraries), or use --dataset.video_backend=pyav"
        )
