"""The training configuration: LeRobot-style flags in, a JSON-serializable pydantic model out (no torch)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from policyzoo.errors import BadInput
from policyzoo.flags import Flag, Flags, bind, flag_name, parse_bool, whole_number
from policyzoo_runtime.lerobot_flags import NO_EVAL_IN_TRAINING, TRAIN_REASONS, reason
from policyzoo_runtime.settings import Settings

CONFIG_FILE = "train_config.json"
"""The run's config in its output folder, what `--resume=true` continues."""
CHECKPOINT_CONFIG_FILE = "policyzoo_train_config.json"
"""Its copy in each checkpoint's `pretrained_model/`, beside LeRobot's `train_config.json` (before LeRobot 0.6
support, the copy was that `train_config.json`: `_stored_config` still reads it)."""
# Flags that describe the run itself; `--resume=true` keeps the stored values and refuses new ones.
# The learning rate and batch size are among them: the summary, the checkpoints' train_config.json and the optimizer
# state all describe the run with the stored values.
FIXED_ON_RESUME = (
    "dataset_repo_id",
    "dataset_root",
    "dataset_episodes",
    "use_imagenet_stats",
    "policy_type",
    "policy_path",
    "rename_map",
    "keep_checkpoint_stats",
    "seed",
    "batch_size",
    "gradient_accumulation_steps",
    "lr",
    "optimizer",
    "scheduler",
)
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


def _episodes(value: Any) -> Any:
    """`[0,1,2]` (LeRobot's form), `0,1,2` or one index, as sorted indices."""
    if not isinstance(value, str):
        return value
    values = json.loads("[" + value.strip().removeprefix("[").removesuffix("]") + "]")
    if not values or not all(isinstance(index, int) and index >= 0 for index in values):
        raise ValueError("not a list of episode indices")
    return sorted(set(values))


def _rename_map(value: Any) -> Any:
    """LeRobot's `--rename_map='{"dataset key": "policy key"}'`."""
    if not isinstance(value, str):
        return value
    names = json.loads(value)
    if not isinstance(names, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in names.items()
    ):
        raise ValueError("not a JSON object of names")
    return names


_AT_LEAST_1 = "an integer of at least 1"
Count = Annotated[int, Field(ge=1)]


class TrainConfig(Settings):
    """Everything a run needs, stored as `OUTPUT/train_config.json` so that `--resume=true` can continue.

    Each field that a flag sets names it (`policyzoo.flags.Flag`); `parse_flags` binds them."""

    dataset_repo_id: Annotated[str | None, Flag("dataset.repo_id")] = None
    dataset_root: Annotated[str | None, Flag("dataset.root")] = None
    dataset_episodes: Annotated[
        list[Annotated[int, Field(ge=0)]] | None,
        BeforeValidator(_episodes),
        Flag("dataset.episodes", "a list of episode indices, e.g. [0,1,2]"),
    ] = None
    """`--dataset.episodes=[0,1,2]`: train on these episodes only (None: all)."""
    dataset_revision: Annotated[str | None, Flag("dataset.revision")] = None
    video_backend: Annotated[Literal["pyav", "torchcodec"], Flag("dataset.video_backend")] = "pyav"
    tolerance_s: Annotated[float, Field(gt=0), Flag("tolerance_s", "a number of seconds greater than 0")] = (
        1e-4
    )
    """How far a frame's timestamp may be from the one asked for (LeRobot's `--tolerance_s`)."""
    use_imagenet_stats: Annotated[bool, Flag("dataset.use_imagenet_stats")] = True
    """Normalize camera images with ImageNet's mean and std instead of the dataset's, as LeRobot does by default."""
    policy_type: Annotated[str | None, Flag("policy.type")] = None
    policy_path: Annotated[str | None, Flag("policy.path")] = None
    policy: Annotated[dict[str, Any], Flag("policy", section=("device", "use_amp"))] = {}
    """`--policy.X` spec overrides: text as given on the command line, or typed values from Python."""
    rename_map: Annotated[
        dict[str, str],
        BeforeValidator(_rename_map),
        Flag(
            "rename_map", 'a JSON object, e.g. \'{"observation.images.front": "observation.images.camera1"}\''
        ),
    ] = {}
    """`--rename_map`: dataset observation key -> the key the pretrained policy (`--policy.path`) takes."""
    keep_checkpoint_stats: Annotated[bool, Flag("keep_checkpoint_stats")] = False
    """Fine-tune with the checkpoint's normalization statistics instead of the new dataset's."""
    batch_size: Annotated[Count, Flag("batch_size", _AT_LEAST_1)] = 8
    gradient_accumulation_steps: Annotated[Count, Flag("gradient_accumulation_steps", _AT_LEAST_1)] = 1
    """Batches of `batch_size` per process summed into each optimizer step (accelerate's accumulation)."""
    steps: Annotated[Count, Flag("steps", _AT_LEAST_1)] = 100_000
    lr: Annotated[float | None, Field(gt=0), Flag("optimizer.lr", "a number greater than 0")] = None
    optimizer: Annotated[
        dict[str, Any], Flag("optimizer", section=("type", "weight_decay", "grad_clip_norm"))
    ] = {}
    """`--optimizer.X` but lr (LeRobot's optimizer configs, e.g. weight_decay=0, or type=adamw): changes the policy's
    optimizer preset, or replaces it when the type differs; empty keeps it."""
    scheduler: Annotated[dict[str, Any], Flag("scheduler", section=("type",))] = {}
    """`--scheduler.X` (LeRobot's scheduler configs, e.g. type=cosine_decay_with_warmup): replaces the policy's
    scheduler preset; empty keeps it."""
    image_transforms: Annotated[
        dict[str, Any], Flag("dataset.image_transforms", section=("enable", "max_num_transforms"))
    ] = {}
    """`--dataset.image_transforms.X` (LeRobot's `ImageTransformsConfig`): training-time image augmentation."""
    output_dir: Annotated[str | None, Flag("output_dir")] = None
    job_name: Annotated[str | None, Flag("job_name")] = None
    save_freq: Annotated[Count, Flag("save_freq", _AT_LEAST_1)] = 20_000
    save_checkpoint: Annotated[bool, Flag("save_checkpoint")] = True
    """False: save nothing at all (LeRobot's `--save_checkpoint=false`, for trials)."""
    log_freq: Annotated[Count, Flag("log_freq", _AT_LEAST_1)] = 200
    seed: Annotated[int, Flag("seed", "an integer")] = 1000
    num_workers: Annotated[
        int,
        Field(ge=0),
        Flag(
            "num_workers",
            f"an integer from 0 to {max_num_workers()} (one data worker per CPU core; {os.cpu_count()} "
            "cores here, and 4 on any machine)",
            most=max_num_workers(),
        ),
    ] = Field(default_factory=default_num_workers)
    """Background data workers; a flag may ask for as many as this machine takes (a stored run, from another
    machine, may have more)."""
    prefetch_factor: Annotated[
        int,
        Field(ge=1, le=MAX_PREFETCH),
        Flag(
            "prefetch_factor", f"an integer from 1 to {MAX_PREFETCH} (batches each data worker keeps ready)"
        ),
    ] = 4
    """Batches each data worker keeps ready (LeRobot's `--prefetch_factor`; PyTorch's default is 2): cheap, as
    video frames travel as uint8 (`policyzoo_runtime.lerobot.frames`)."""
    persistent_workers: Annotated[bool, Flag("persistent_workers")] = True
    """Data workers stay up for the whole run (LeRobot's `--persistent_workers`)."""
    resume: Annotated[bool, Flag("resume")] = False
    wandb_enable: Annotated[bool, Flag("wandb.enable")] = False
    wandb_project: Annotated[str, Flag("wandb.project")] = "policyzoo"
    wandb_entity: Annotated[str | None, Flag("wandb.entity")] = None
    wandb_mode: Annotated[Literal["online", "offline", "disabled"] | None, Flag("wandb.mode")] = None
    wandb_notes: Annotated[str | None, Flag("wandb.notes")] = None
    push_to_hub: Annotated[bool, Flag("policy.push_to_hub")] = False
    repo_id: Annotated[str | None, Flag("policy.repo_id")] = None
    command: str = ""

    def to_json(self) -> str:
        return json.dumps(self.model_dump(), indent=2) + "\n"

    @classmethod
    def read(cls, path: Path) -> TrainConfig:
        """The stored config; ValueError when the file is torn, empty or not a config (its unknown keys, from
        other versions, are left out)."""
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if "policy_type" not in data:
            raise ValueError("not a policyzoo train config (LeRobot's train_config.json?)")
        return cls(**{key: value for key, value in data.items() if key in cls.model_fields})


def parse_flags(flags: Flags) -> dict[str, Any]:
    """The flags given, as {TrainConfig field: typed value}; rejects unknown flags."""
    given = bind(flags, TrainConfig)
    for name in ("env_eval_freq", "eval_freq"):  # LeRobot 0.6's name, and 0.4's that scripts still carry
        if flags.take(name, whole_number, default=0, help_value="an integer of at least 0"):
            raise BadInput(f"--{name}: {NO_EVAL_IN_TRAINING} (--{name}=0 is accepted)")
    for name in ("eval_steps", "dataset.eval_split"):  # held-out loss: off (0) is accepted
        if flags.take(name, float, default=0.0, help_value="0 (policyzoo computes no held-out loss)"):
            raise BadInput(f"--{name}: {reason(name, TRAIN_REASONS)}")
    if not flags.take("use_policy_training_preset", parse_bool, default=True) and not (
        "type" in given.get("optimizer", {}) and "type" in given.get("scheduler", {})
    ):
        raise BadInput(
            "--use_policy_training_preset=false: name the optimizer and the schedule that replace the "
            "policy's presets, as lerobot-train requires: --optimizer.type=... --scheduler.type=..."
        )
    config_path = flags.take("config_path", Path)
    if flags.take("wandb.disable_artifact", parse_bool) is False:
        raise BadInput(
            "--wandb.disable_artifact=false: policyzoo uploads no checkpoints to W&B; push them to the "
            "Hub with --policy.push_to_hub=true --policy.repo_id=USER/NAME"
        )
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
        raise BadInput(
            f"--config_path={config_path}: policyzoo train takes its settings as flags, not from a "
            f"config file; to continue that run add --resume=true"
        )
    path = config_path.expanduser()
    run = next((folder for folder in (path, *path.parents) if (folder / CHECKPOINTS).is_dir()), None)
    if run is None:
        raise BadInput(
            f"--config_path={config_path}: not inside a training output folder (no {CHECKPOINTS}/ "
            f"above it); pass the run's folder with --output_dir=DIR"
        )
    if given.get("output_dir") and Path(given["output_dir"]).resolve() != run.resolve():
        raise BadInput(
            f"--config_path={config_path} belongs to the run in {run}, not --output_dir="
            f"{given['output_dir']}; give one of them"
        )
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
        raise BadInput(
            "--save_checkpoint=false saves nothing to push; drop it, or keep the policy local with "
            "--policy.push_to_hub=false"
        )
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
            raise BadInput(
                f"{flag_name(TrainConfig, name)}: cannot change when resuming (the run used "
                f"{getattr(stored, name)!r}); drop the flag, or start a new run with another --output_dir"
            )
    policy = dict(stored.policy)
    for key, value in given.pop("policy", {}).items():
        if key not in RUNTIME_POLICY_FLAGS and policy.get(key) != value:
            raise BadInput(
                f"--policy.{key}: cannot change when resuming; only --policy.device and --policy.use_amp can"
            )
        policy[key] = value
    return stored.replace(**given, policy=policy, command=command)


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
    for copy in (
        last / CHECKPOINT_CONFIG_FILE,
        last / CONFIG_FILE,
    ):  # the second: checkpoints before 0.6 support
        try:
            stored = TrainConfig.read(copy)
            break
        except (OSError, ValueError):
            continue
    else:
        raise BadInput(
            f"--output_dir={output_dir}: {problem} and no checkpoint holds a readable copy; start a "
            f"new run with another --output_dir"
        ) from None
    print(f"warning: {problem}; using the copy saved with the last checkpoint", file=sys.stderr)
    return stored
