"""The training configuration: LeRobot-style flags in, a JSON-serializable dataclass out (no torch)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyzoo._lerobot_flags import NO_EVAL_IN_TRAINING, TRAIN_REASONS, reason
from policyzoo.errors import BadInput
from policyzoo.flags import Flags, parse_bool, whole_number, whole_number_within

CONFIG_FILE = "train_config.json"
"""The run's config in its output folder, what `--resume=true` continues."""
CHECKPOINT_CONFIG_FILE = "policyzoo_train_config.json"
"""Its copy in each checkpoint's `pretrained_model/`, beside LeRobot's `train_config.json` (before LeRobot 0.6
support, the copy was that `train_config.json`: `_stored_config` still reads it)."""
WANDB_MODES = ("online", "offline", "disabled")
# Flags that describe the run itself; `--resume=true` keeps the stored values and refuses new ones.
# The learning rate and batch size are among them: the summary, the checkpoints' train_config.json and the optimizer
# state all describe the run with the stored values.
FIXED_ON_RESUME = ("dataset_repo_id", "dataset_root", "dataset_episodes", "use_imagenet_stats", "policy_type",
                   "policy_path", "rename_map", "keep_checkpoint_stats", "seed", "batch_size",
                   "gradient_accumulation_steps", "lr", "optimizer", "scheduler")
VIDEO_BACKENDS = ("pyav", "torchcodec")
RUNTIME_POLICY_FLAGS = ("device", "use_amp")
"""Spec fields that do not change the model: a resumed or fine-tuned run may set them."""


def default_num_workers() -> int:
    """Background data workers: LeRobot uses 4; leave one core to the model on small machines."""
    return max(0, min(4, (os.cpu_count() or 1) - 1))


def max_num_workers() -> int:
    """Data workers a run may start: one per CPU core, and LeRobot's default of 4 on any machine. Each worker
    holds its own copy of the dataset's readers and decoders, so more than the cores only costs memory."""
    return max(4, os.cpu_count() or 1)


MAX_PREFETCH = 32
"""Batches a data worker may keep ready: more only holds memory, as a step takes one batch at a time."""


def _at_least(minimum: int):
    def parse(text: str) -> int:
        value = whole_number(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}")
        return value

    return parse


_AT_LEAST_1 = "an integer of at least 1"


def _episodes(text: str) -> list[int]:
    """`[0,1,2]` (LeRobot's form), `0,1,2` or one index."""
    values = json.loads("[" + text.strip().removeprefix("[").removesuffix("]") + "]")
    if not values or not all(isinstance(value, int) and value >= 0 for value in values):
        raise ValueError("not a list of episode indices")
    return sorted(set(values))


def _rename_map(text: str) -> dict[str, str]:
    """LeRobot's `--rename_map='{"dataset key": "policy key"}'`."""
    value = json.loads(text)
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) and v
                                              for k, v in value.items()):
        raise ValueError("not a JSON object of names")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("must be greater than 0")
    return value


@dataclass
class TrainConfig:
    """Everything a run needs, stored as `OUTPUT/train_config.json` so that `--resume=true` can continue."""

    dataset_repo_id: str | None = None
    dataset_root: str | None = None
    dataset_episodes: list[int] | None = None
    """`--dataset.episodes=[0,1,2]`: train on these episodes only (None: all)."""
    dataset_revision: str | None = None
    video_backend: str = "pyav"
    tolerance_s: float = 1e-4
    """How far a frame's timestamp may be from the one asked for (LeRobot's `--tolerance_s`)."""
    use_imagenet_stats: bool = True
    """Normalize camera images with ImageNet's mean and std instead of the dataset's, as LeRobot does by default."""
    policy_type: str | None = None
    policy_path: str | None = None
    policy: dict[str, str] = field(default_factory=dict)
    """`--policy.X` spec overrides, as given on the command line."""
    rename_map: dict[str, str] = field(default_factory=dict)
    """`--rename_map`: dataset observation key -> the key the pretrained policy (`--policy.path`) takes."""
    keep_checkpoint_stats: bool = False
    """Fine-tune with the checkpoint's normalization statistics instead of the new dataset's."""
    batch_size: int = 8
    gradient_accumulation_steps: int = 1
    """Batches of `batch_size` per process summed into each optimizer step (accelerate's accumulation)."""
    steps: int = 100_000
    lr: float | None = None
    optimizer: dict[str, str] = field(default_factory=dict)
    """`--optimizer.X` but lr (LeRobot's optimizer configs, e.g. weight_decay=0, or type=adamw): changes the policy's
    optimizer preset, or replaces it when the type differs; empty keeps it."""
    scheduler: dict[str, str] = field(default_factory=dict)
    """`--scheduler.X` (LeRobot's scheduler configs, e.g. type=cosine_decay_with_warmup): replaces the policy's
    scheduler preset; empty keeps it."""
    image_transforms: dict[str, str] = field(default_factory=dict)
    """`--dataset.image_transforms.X` (LeRobot's `ImageTransformsConfig`): training-time image augmentation."""
    output_dir: str | None = None
    job_name: str | None = None
    save_freq: int = 20_000
    save_checkpoint: bool = True
    """False: save nothing at all (LeRobot's `--save_checkpoint=false`, for trials)."""
    log_freq: int = 200
    seed: int = 1000
    num_workers: int = field(default_factory=default_num_workers)
    prefetch_factor: int = 4
    """Batches each data worker keeps ready (LeRobot's `--prefetch_factor`; PyTorch's default is 2): cheap, as
    video frames travel as uint8 (`policyzoo_runtime.lerobot.frames`)."""
    persistent_workers: bool = True
    """Data workers stay up for the whole run (LeRobot's `--persistent_workers`)."""
    resume: bool = False
    wandb_enable: bool = False
    wandb_project: str = "policyzoo"
    wandb_entity: str | None = None
    wandb_mode: str | None = None
    wandb_notes: str | None = None
    push_to_hub: bool = False
    repo_id: str | None = None
    command: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> TrainConfig:
        """The stored config; ValueError when the file is torn, empty or not a config."""
        known = {f.name for f in dataclasses.fields(cls)}
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if "policy_type" not in data:
            raise ValueError("not a policyzoo train config (LeRobot's train_config.json?)")
        try:
            return cls(**{key: value for key, value in data.items() if key in known})
        except TypeError as exc:
            raise ValueError(str(exc)) from None


def parse_flags(flags: Flags) -> dict[str, Any]:
    """The flags given, as {TrainConfig field: typed value}; rejects unknown flags."""
    given: dict[str, Any] = {}

    def take(flag: str, name: str, parse: Any = str, **kwargs: Any) -> None:
        value = flags.take(flag, parse, **kwargs)
        if value is not None:
            given[name] = value

    take("dataset.repo_id", "dataset_repo_id")
    take("dataset.root", "dataset_root")
    take("dataset.episodes", "dataset_episodes", _episodes, help_value="a list of episode indices, e.g. [0,1,2]")
    take("dataset.revision", "dataset_revision")
    take("dataset.video_backend", "video_backend", choices=VIDEO_BACKENDS)
    take("dataset.use_imagenet_stats", "use_imagenet_stats", parse_bool)
    take("rename_map", "rename_map", _rename_map,
         help_value="a JSON object, e.g. '{\"observation.images.front\": \"observation.images.camera1\"}'")
    take("keep_checkpoint_stats", "keep_checkpoint_stats", parse_bool)
    take("tolerance_s", "tolerance_s", _positive_float, help_value="a number of seconds greater than 0")
    take("batch_size", "batch_size", _at_least(1), help_value=_AT_LEAST_1)
    take("gradient_accumulation_steps", "gradient_accumulation_steps", _at_least(1), help_value=_AT_LEAST_1)
    take("steps", "steps", _at_least(1), help_value=_AT_LEAST_1)
    for prefix, name, known in (("scheduler", "scheduler", ("type",)),
                                ("dataset.image_transforms", "image_transforms", ("enable", "max_num_transforms"))):
        values = flags.section(prefix, known=known)
        if values:
            given[name] = values
    take("output_dir", "output_dir")
    take("job_name", "job_name")
    take("save_freq", "save_freq", _at_least(1), help_value=_AT_LEAST_1)
    take("save_checkpoint", "save_checkpoint", parse_bool)
    for name in ("env_eval_freq", "eval_freq"):  # LeRobot 0.6's name, and 0.4's that scripts still carry
        if flags.take(name, _at_least(0), default=0, help_value="an integer of at least 0"):
            raise BadInput(f"--{name}: {NO_EVAL_IN_TRAINING} (--{name}=0 is accepted)")
    for name in ("eval_steps", "dataset.eval_split"):  # held-out loss: off (0) is accepted
        if flags.take(name, float, default=0.0, help_value="0 (policyzoo computes no held-out loss)"):
            raise BadInput(f"--{name}: {reason(name, TRAIN_REASONS)}")
    take("optimizer.lr", "lr", _positive_float, help_value="a number greater than 0")
    optimizer = flags.section("optimizer", known=("type", "weight_decay", "grad_clip_norm"))
    if optimizer:
        given["optimizer"] = optimizer
    if not flags.take("use_policy_training_preset", parse_bool, default=True) and not (
            "type" in optimizer and "type" in given.get("scheduler", {})):
        raise BadInput("--use_policy_training_preset=false: name the optimizer and the schedule that replace the "
                       "policy's presets, as lerobot-train requires: --optimizer.type=... --scheduler.type=...")
    config_path = flags.take("config_path", Path)
    take("log_freq", "log_freq", _at_least(1), help_value=_AT_LEAST_1)
    take("seed", "seed", int)
    take("num_workers", "num_workers", whole_number_within(0, max_num_workers()),
         help_value=f"an integer from 0 to {max_num_workers()} (one data worker per CPU core; "
                    f"{os.cpu_count()} cores here, and 4 on any machine)")
    take("prefetch_factor", "prefetch_factor", whole_number_within(1, MAX_PREFETCH),
         help_value=f"an integer from 1 to {MAX_PREFETCH} (batches each data worker keeps ready)")
    take("persistent_workers", "persistent_workers", parse_bool)
    take("resume", "resume", parse_bool)
    take("wandb.enable", "wandb_enable", parse_bool)
    take("wandb.project", "wandb_project")
    take("wandb.entity", "wandb_entity")
    take("wandb.mode", "wandb_mode", choices=WANDB_MODES)
    take("wandb.notes", "wandb_notes")
    if flags.take("wandb.disable_artifact", parse_bool) is False:
        raise BadInput("--wandb.disable_artifact=false: policyzoo uploads no checkpoints to W&B; push them to the "
                       "Hub with --policy.push_to_hub=true --policy.repo_id=USER/NAME")
    policy = flags.section("policy", known=("type", "path", "push_to_hub", "repo_id", "device", "use_amp"))
    for key, name in (("type", "policy_type"), ("path", "policy_path"), ("repo_id", "repo_id")):
        if key in policy:
            given[name] = policy.pop(key)
    if "push_to_hub" in policy:
        text = policy.pop("push_to_hub")
        try:
            given["push_to_hub"] = parse_bool(text)
        except ValueError:
            raise BadInput(f"--policy.push_to_hub={text}: expected true or false") from None
    if policy:
        given["policy"] = policy
    if config_path is not None:
        given["output_dir"] = _run_of_config(config_path, given)
    flags.reasons = lambda name: reason(name, TRAIN_REASONS)
    flags.finish()
    return given


def _run_of_config(config_path: Path, given: dict[str, Any]) -> str:
    """The output folder of the run whose config `--config_path` names (LeRobot's way to resume:
    OUTPUT/checkpoints/last/pretrained_model/train_config.json)."""
    from policyzoo_runtime.train.checkpoint_dirs import CHECKPOINTS

    if not given.get("resume"):
        raise BadInput(f"--config_path={config_path}: policyzoo train takes its settings as flags, not from a "
                       f"config file; to continue that run add --resume=true")
    path = config_path.expanduser()
    run = next((folder for folder in (path, *path.parents) if (folder / CHECKPOINTS).is_dir()), None)
    if run is None:
        raise BadInput(f"--config_path={config_path}: not inside a training output folder (no {CHECKPOINTS}/ "
                       f"above it); pass the run's folder with --output_dir=DIR")
    if given.get("output_dir") and Path(given["output_dir"]).resolve() != run.resolve():
        raise BadInput(f"--config_path={config_path} belongs to the run in {run}, not --output_dir="
                       f"{given['output_dir']}; give one of them")
    return str(run)


def resolve(given: dict[str, Any], command: str) -> TrainConfig:
    """A new run's config, or the stored config of the run being resumed with the allowed overrides."""
    if given.get("repo_id") and "push_to_hub" not in given:
        given = {**given, "push_to_hub": True}  # LeRobot pushes a policy that has a repo id
    if given.get("push_to_hub") and not given.get("repo_id"):
        raise BadInput(
            "--policy.push_to_hub=true needs --policy.repo_id=USER/NAME (or drop "
            "--policy.push_to_hub and push later with: policyzoo push)"
        )
    if given.get("push_to_hub") and given.get("save_checkpoint") is False:
        raise BadInput("--save_checkpoint=false saves nothing to push; drop it, or keep the policy local with "
                       "--policy.push_to_hub=false")
    if not given.get("resume"):
        if given.get("policy_type") is None and given.get("policy_path") is None:
            raise BadInput(
                "--policy.type: which policy to train? e.g. --policy.type=act (see: policyzoo policies "
                "list), or --policy.path=DIR_OR_REPO to fine-tune a saved policy"
            )
        return TrainConfig(**given, command=command)
    output_dir = given.get("output_dir")
    if not output_dir:
        raise BadInput("--resume=true needs --output_dir=DIR, the output folder of the run to continue")
    stored = _stored_config(Path(output_dir))
    for name in FIXED_ON_RESUME:
        if name in given and given[name] != getattr(stored, name):
            flag = _flag_name(name)
            raise BadInput(
                f"{flag}: cannot change when resuming (the run used {getattr(stored, name)!r}); "
                f"drop the flag, or start a new run with another --output_dir"
            )
    policy = dict(stored.policy)
    for key, value in given.pop("policy", {}).items():
        if key not in RUNTIME_POLICY_FLAGS and policy.get(key) != value:
            raise BadInput(
                f"--policy.{key}: cannot change when resuming; only --policy.device and --policy.use_amp can"
            )
        policy[key] = value
    return dataclasses.replace(stored, **given, policy=policy, command=command)


def _stored_config(output_dir: Path) -> TrainConfig:
    """The config of the run in `output_dir`; a torn copy falls back to the one saved in its last checkpoint."""
    from policyzoo_runtime.train.checkpoint_dirs import CHECKPOINTS, LAST, PRETRAINED

    stored_path = output_dir / CONFIG_FILE
    if not stored_path.is_file():
        raise BadInput(
            f"--output_dir={output_dir}: nothing to resume here (no {CONFIG_FILE}); "
            f"start a new run without --resume"
        )
    try:
        return TrainConfig.read(stored_path)
    except (OSError, ValueError) as exc:
        problem = f"{stored_path} is damaged ({' '.join(str(exc).split())[:120]})"
    last = output_dir / CHECKPOINTS / LAST / PRETRAINED
    for copy in (last / CHECKPOINT_CONFIG_FILE, last / CONFIG_FILE):  # the second: checkpoints before 0.6 support
        try:
            stored = TrainConfig.read(copy)
            break
        except (OSError, ValueError):
            continue
    else:
        raise BadInput(f"--output_dir={output_dir}: {problem} and no checkpoint holds a readable copy; start a "
                       f"new run with another --output_dir") from None
    print(f"warning: {problem}; using the copy saved with the last checkpoint", file=sys.stderr)
    return stored


def _flag_name(name: str) -> str:
    return {
        "dataset_repo_id": "--dataset.repo_id",
        "dataset_root": "--dataset.root",
        "dataset_episodes": "--dataset.episodes",
        "use_imagenet_stats": "--dataset.use_imagenet_stats",
        "policy_type": "--policy.type",
        "policy_path": "--policy.path",
        "rename_map": "--rename_map",
        "lr": "--optimizer.lr",
        "scheduler": "--scheduler.*",
        "optimizer": "--optimizer.*",
    }.get(name, f"--{name}")
