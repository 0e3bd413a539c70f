"""Every field of LeRobot 0.6's training config, and of its policy configs, is either taken by `policyzoo train`
with LeRobot's meaning or refused with the honest reason: never an "unknown flag" with a did-you-mean."""

from __future__ import annotations

import dataclasses
import json
import typing
from pathlib import Path

import pytest

from policyzoo._catalogue import FIRST_PARTY
from policyzoo.errors import BadInput
from policyzoo.flags import Flags
from policyzoo.registry import get_registry
from policyzoo_runtime.train.config import parse_flags, resolve

# A value LeRobot accepts for each field policyzoo takes; the test asserts parse_flags takes it.
EXAMPLES = {
    "dataset.repo_id": "me/data",
    "dataset.root": "data",
    "dataset.episodes": "[0,1,2]",
    "dataset.revision": "v3.0",
    "dataset.video_backend": "pyav",
    "dataset.use_imagenet_stats": "false",
    "dataset.image_transforms.enable": "true",
    "dataset.image_transforms.max_num_transforms": "2",
    "dataset.image_transforms.random_order": "true",
    "dataset.image_transforms.tfs": "{}",
    "output_dir": "out",
    "job_name": "mine",
    "resume": "false",
    "seed": "3",
    "num_workers": "0",
    "batch_size": "4",
    "steps": "1e3",
    "eval_freq": "0",
    "log_freq": "10",
    "tolerance_s": "0.001",
    "save_checkpoint": "true",
    "prefetch_factor": "2",
    "persistent_workers": "false",
    "env_eval_freq": "0",
    "eval_steps": "0",
    "dataset.eval_split": "0",
    "save_freq": "500",
    "use_policy_training_preset": "true",
    "optimizer.type": "adamw",
    "optimizer.weight_decay": "0",
    "optimizer.lr": "1e-4",
    "scheduler.type": "cosine_decay_with_warmup",
    "wandb.enable": "false",
    "wandb.disable_artifact": "true",
    "wandb.project": "p",
    "wandb.entity": "me",
    "wandb.mode": "offline",
    "wandb.notes": "first try",
    "policy.type": "act",
    "policy.device": "cpu",
    "rename_map": '{"observation.images.front": "observation.images.camera1"}',
}
# Sub-fields of choice types that policyzoo hands to LeRobot's own parser (draccus) whole.
PASSED_WHOLE = ("scheduler.", "dataset.image_transforms.", "optimizer.")


def _leaves(config_class: type, prefix: str = "") -> list[str]:
    """Dotted names of a LeRobot config's fields; nested dataclasses are walked, choice types named by prefix."""
    names = []
    hints = typing.get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        kind = hints[field.name]
        options = [kind, *typing.get_args(kind)]
        nested = next((option for option in options if dataclasses.is_dataclass(option)), None)
        if nested is not None and not hasattr(nested, "get_known_choices"):
            names += _leaves(nested, f"{prefix}{field.name}.")
        elif (
            nested is not None
        ):  # a choice type (env, optimizer, scheduler, peft, policy): its type and fields
            names.append(f"{prefix}{field.name}.type")
            for choice in nested.get_known_choices().values():
                names += [f"{prefix}{field.name}.{leaf}" for leaf in _leaves(choice) if leaf != "type"]
        else:
            names.append(prefix + field.name)
    return sorted(set(names))


def _train_fields() -> list[str]:
    from lerobot.configs.train import TrainPipelineConfig

    return [name for name in _leaves(TrainPipelineConfig) if not name.startswith("policy.")]


def _outcome(name: str, value: str) -> str:
    """'taken', or the one-line refusal."""
    try:
        parse_flags(Flags([f"--{name}={value}"]))
    except BadInput as exc:
        return str(exc)
    return "taken"


def test_the_walk_sees_lerobots_fields() -> None:
    fields = _train_fields()
    assert {
        "env_eval_freq",
        "dataset.episodes",
        "dataset.video_backend",
        "rename_map",
        "save_checkpoint",
        "optimizer.type",
        "env.type",
        "wandb.disable_artifact",
    } <= set(fields)
    assert any(name.startswith("peft.") for name in fields)
    assert len(fields) > 60


@pytest.mark.parametrize("name", _train_fields())
def test_every_lerobot_train_flag_is_taken_or_refused_with_a_reason(name: str) -> None:
    value = EXAMPLES.get(name, "1")
    outcome = _outcome(name, value)
    if name in EXAMPLES or name.startswith(PASSED_WHOLE):
        assert outcome == "taken" or name.startswith(PASSED_WHOLE), outcome
        return
    assert outcome != "taken", f"--{name}={value} is accepted but policyzoo does not implement it"
    assert "unknown flag" not in outcome and "Did you mean" not in outcome, outcome
    assert outcome.startswith(f"--{name}"), outcome


def test_refusals_say_what_to_do_instead() -> None:
    assert "policyzoo eval" in _outcome("eval_freq", "5000")
    assert "policyzoo eval" in _outcome("env.type", "aloha")
    assert "--policy.path" in _outcome("peft.type", "lora")
    assert "--resume=true" in _outcome("checkpoint_path", "x")


@pytest.mark.parametrize("policy_type", sorted(FIRST_PARTY))
def test_every_lerobot_policy_field_is_a_setting_or_refused_with_a_reason(policy_type: str) -> None:
    from lerobot.configs.policies import PreTrainedConfig

    from policyzoo.flags import policy_spec
    from policyzoo_runtime.lerobot_flags import POLICY_REASONS

    spec_class = get_registry().policy(policy_type).spec
    try:
        lerobot_config = PreTrainedConfig.get_choice_class(policy_type)
    except KeyError:
        pytest.fail(f"{policy_type}: every first-party type is a LeRobot policy")
    taken_by_train = {"type", "path", "device", "use_amp", "push_to_hub", "repo_id"}
    for field in dataclasses.fields(lerobot_config):
        if field.name in spec_class.model_fields or field.name in taken_by_train:
            continue
        with pytest.raises(BadInput) as refused:
            policy_spec({"type": policy_type, field.name: "1"}, reasons=POLICY_REASONS)
        message = str(refused.value)
        assert message.startswith(f"--policy.{field.name}: {policy_type} takes no such setting here: "), (
            message
        )
        assert "Did you mean" not in message


def test_whole_numbers_as_lerobot_users_write_them() -> None:
    assert parse_flags(Flags(["--steps=1e3", "--save_freq=2.0e2", "--batch_size=8"])) == {
        "steps": 1000,
        "save_freq": 200,
        "batch_size": 8,
    }
    with pytest.raises(BadInput, match=r"--steps=2.5e-1: expected an integer of at least 1"):
        parse_flags(Flags(["--steps=2.5e-1"]))


def test_a_flag_without_its_value_or_given_twice_is_refused() -> None:
    with pytest.raises(BadInput, match=r"^--steps: needs a value; write --steps=VALUE"):
        parse_flags(Flags(["--steps", "--batch_size=4"]))
    assert parse_flags(Flags(["--resume"]))["resume"] is True  # a switch may stand alone
    with pytest.raises(BadInput, match=r"^--steps: given twice \(100 and 200\); give it once"):
        parse_flags(Flags(["--steps=100", "--steps=200"]))


def test_episodes_backend_and_lerobots_push_rule() -> None:
    given = parse_flags(
        Flags(
            [
                "--dataset.episodes=[2,0,1]",
                "--dataset.video_backend=pyav",
                "--policy.type=act",
                "--policy.repo_id=me/act",
            ]
        )
    )
    assert given["dataset_episodes"] == [0, 1, 2]
    config = resolve(given, "policyzoo train")
    assert config.push_to_hub is True  # as lerobot-train: a repo id means push
    kept_local = resolve(
        parse_flags(Flags(["--policy.type=act", "--policy.repo_id=me/act", "--policy.push_to_hub=false"])), ""
    )
    assert kept_local.push_to_hub is False
    with pytest.raises(
        BadInput, match=r"--dataset.video_backend=ffmpeg: allowed values are pyav, torchcodec"
    ):
        parse_flags(Flags(["--dataset.video_backend=ffmpeg"]))


def test_resume_by_config_path_finds_the_run(tmp_path: Path) -> None:
    run = tmp_path / "run"
    (run / "checkpoints" / "last" / "pretrained_model").mkdir(parents=True)
    config_file = run / "checkpoints" / "last" / "pretrained_model" / "train_config.json"
    config_file.write_text(json.dumps({"policy_type": "act"}))
    given = parse_flags(Flags(["--resume=true", f"--config_path={config_file}"]))
    assert given["output_dir"] == str(run)
    with pytest.raises(BadInput, match="takes its settings as flags.*add --resume=true"):
        parse_flags(Flags([f"--config_path={config_file}"]))
    with pytest.raises(BadInput, match="not inside a training output folder"):
        parse_flags(Flags(["--resume=true", f"--config_path={tmp_path / 'elsewhere.json'}"]))


def test_imagenet_stats_replace_only_the_cameras_mean_and_std() -> None:
    from policyzoo_runtime.train.prepare import IMAGENET_STATS, with_imagenet_stats

    stats = {
        "observation.images.top": {"mean": [[[0.1]]] * 3, "std": [[[0.2]]] * 3, "min": [[[0.0]]] * 3},
        "observation.state": {"mean": [1.0], "std": [2.0]},
    }
    replaced = with_imagenet_stats(stats, {"observation.images.top": (3, 8, 8)})
    assert replaced["observation.images.top"]["mean"] == IMAGENET_STATS["mean"]
    assert replaced["observation.images.top"]["min"] == [[[0.0]]] * 3
    assert replaced["observation.state"] == stats["observation.state"]


def _eval_fields() -> list[str]:
    from lerobot.configs.eval import EvalPipelineConfig

    return [name for name in _leaves(EvalPipelineConfig) if not name.startswith("policy.")]


EVAL_TAKEN = {
    "env.type": "so101_bimanual_sim",
    "eval.n_episodes": "3",
    "eval.batch_size": "1",
    "seed": "4",
    "output_dir": "{out}",
}


@pytest.mark.parametrize("name", _eval_fields())
def test_every_lerobot_eval_flag_is_taken_or_refused_with_a_reason(
    name: str, run_cli, tmp_path: Path
) -> None:
    missing = tmp_path / "no_policy"
    value = EVAL_TAKEN.get(name, "1").format(out=tmp_path / "eval")
    code, _, err = run_cli(
        "eval",
        f"--policy.path={missing}",
        f"--output_dir={tmp_path / 'eval'}" if name != "output_dir" else f"--output_dir={value}",
        *([f"--{name}={value}"] if name != "output_dir" else []),
    )
    assert code == 2 and "Traceback" not in err
    if name in EVAL_TAKEN:  # taken: the run goes on until the missing policy stops it
        assert f"--policy.path={missing}: no such folder" in err, err
    else:
        assert f"error: --{name}: " in err and "unknown flag" not in err and "Did you mean" not in err, err


def test_lerobot_eval_names_and_ours_together_are_refused(run_cli, tmp_path: Path) -> None:
    code, _, err = run_cli("eval", f"--policy.path={tmp_path}", "--episodes=3", "--eval.n_episodes=4")
    assert code == 2 and "--eval.n_episodes: the same as --episodes; give one of them" in err


def test_one_flag_style_with_the_other_as_alias(run_cli, tmp_path: Path) -> None:
    assert Flags(["--output-dir=out", "--dataset.repo-id=me/data"]).values == {
        "output_dir": "out",
        "dataset.repo_id": "me/data",
    }
    code, _, err = run_cli(
        "push", str(tmp_path), "--repo_id=bad"
    )  # click commands take --repo_id and --repo-id
    assert code == 2 and "--repo_id=bad: not a Hub repo id" in err, err
