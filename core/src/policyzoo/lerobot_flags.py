"""`lerobot-train` and `lerobot-eval` flags that policyzoo does not take, each with the honest reason and what to
do instead, so that a command line pasted from LeRobot's docs never gets a misleading did-you-mean.

Keys are LeRobot's flag names without `--`; a key ending in `.` covers every flag under it. No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping

NO_EVAL_IN_TRAINING = ("policyzoo train does not evaluate while training; evaluate a checkpoint with "
                       "policyzoo eval --policy.path=OUTPUT/checkpoints/last/pretrained_model --env=so101_bimanual_sim")

TRAIN_REASONS: Mapping[str, str] = {
    "env.": NO_EVAL_IN_TRAINING,
    "eval.": NO_EVAL_IN_TRAINING,
    "eval_freq": NO_EVAL_IN_TRAINING + " (--eval_freq=0 is accepted)",
    "peft.": "policyzoo train has no PEFT/LoRA adapters; fine-tune the whole policy with --policy.path",
    "use_rabc": "policyzoo train has no reward-aligned behaviour cloning (RA-BC); train without it",
    "rabc_progress_path": "policyzoo train has no reward-aligned behaviour cloning (RA-BC); train without it",
    "rabc_kappa": "policyzoo train has no reward-aligned behaviour cloning (RA-BC); train without it",
    "rabc_epsilon": "policyzoo train has no reward-aligned behaviour cloning (RA-BC); train without it",
    "rabc_head_mode": "policyzoo train has no reward-aligned behaviour cloning (RA-BC); train without it",
    "checkpoint_path": "lerobot-train sets it itself when resuming; continue a run with --resume=true "
                       "--output_dir=DIR (or --config_path=DIR/checkpoints/last/pretrained_model/train_config.json)",
    "dataset.streaming": "policyzoo train reads datasets from disk or the Hugging Face cache, not streamed; "
                         "download it first (huggingface-cli download --repo-type=dataset USER/DATA)",
    "wandb.run_id": "policyzoo resumes the W&B run of --output_dir itself (its wandb_run_id.txt); "
                    "start a new run to get a new W&B run",
    "trust_remote_code": "policyzoo never runs code from a checkpoint; load only policies of installed types",
}
"""`lerobot-train` flags policyzoo train refuses, and why."""

POLICY_REASONS: Mapping[str, str] = {
    "input_features": "policyzoo reads the policy's inputs from the dataset (meta/info.json)",
    "output_features": "policyzoo reads the policy's outputs from the dataset (meta/info.json)",
    "pretrained_path": "start from a saved policy with --policy.path=DIR_OR_USER/NAME",
    "use_peft": "policyzoo train has no PEFT/LoRA adapters; fine-tune the whole policy with --policy.path",
    "private": "set the Hub repo's visibility when pushing: policyzoo push CHECKPOINT --repo-id=USER/NAME --private",
    "tags": "policyzoo writes the model card's tags itself when it pushes",
    "license": "pass it when pushing: policyzoo push CHECKPOINT --repo-id=USER/NAME --license=NAME",
    "normalization_mapping": "policyzoo keeps LeRobot's normalization of this policy type (mean/std or min/max "
                             "per feature kind); the statistics come from the dataset",
}
"""LeRobot policy-config fields (common to every type) that are not policyzoo spec fields, and why."""

EVAL_REASONS: Mapping[str, str] = {
    "env.": "policyzoo eval runs the simulator of an installed robot plugin: --env=so101_bimanual_sim "
            "(policyzoo robots list); LeRobot's gym environments are not supported",
    "eval.use_async_envs": "policyzoo eval runs episodes in --workers processes instead",
    "job_name": "policyzoo eval names nothing; choose the folder it writes with --output_dir",
    "rename_map": "policyzoo eval gives the policy the simulator's cameras under the names it was trained on",
    "trust_remote_code": "policyzoo never runs code from a checkpoint; load only policies of installed types",
}
"""`lerobot-eval` flags policyzoo eval refuses, and why (its --eval.n_episodes and --eval.batch_size are
taken as --episodes and --workers)."""


def reason(name: str, reasons: Mapping[str, str]) -> str | None:
    """Why flag `name` (without `--`) is refused, when `reasons` knows it."""
    if name in reasons:
        return reasons[name]
    return next((text for key, text in reasons.items() if key.endswith(".") and name.startswith(key)), None)
