"""`lerobot-train` and `lerobot-eval` (LeRobot 0.6) flags that policyzoo does not take, each with the honest reason
and what to do instead, so that a command line pasted from LeRobot's docs never gets a misleading did-you-mean.

Keys are LeRobot's flag names without `--`; a key ending in `.` covers every flag under it. No torch here.
"""

from __future__ import annotations

from collections.abc import Mapping

NO_RABC = "policyzoo train has no reward-aligned behaviour cloning (RA-BC); train without it"
NO_HELD_OUT = (
    "policyzoo train computes no held-out loss; keep episodes aside with --dataset.episodes and "
    "evaluate checkpoints with policyzoo eval"
)
NO_EVAL_RECORDING = (
    "policyzoo eval records no dataset; it writes episode videos with --videos=N, and policyzoo "
    "record writes datasets"
)
NO_EVAL_IN_TRAINING = (
    "policyzoo train does not evaluate while training; evaluate a checkpoint with "
    "policyzoo eval --policy.path=OUTPUT/checkpoints/last/pretrained_model --env=so101_bimanual_sim"
)

TRAIN_REASONS: Mapping[str, str] = {
    "env.": NO_EVAL_IN_TRAINING,
    "eval.": NO_EVAL_IN_TRAINING,
    "peft.": "policyzoo train has no PEFT/LoRA adapters; fine-tune the whole policy with --policy.path",
    "sample_weighting.": NO_RABC,
    # LeRobot 0.4's names of RA-BC, moved under --sample_weighting.* in 0.6: scripts still carry them
    "use_rabc": NO_RABC,
    "rabc_progress_path": NO_RABC,
    "rabc_kappa": NO_RABC,
    "rabc_epsilon": NO_RABC,
    "rabc_head_mode": NO_RABC,
    "reward_model.": "policyzoo train trains policies; train a reward model with lerobot-train --reward_model.type",
    "eval_steps": NO_HELD_OUT + " (--eval_steps=0 is accepted)",
    "max_eval_samples": NO_HELD_OUT,
    "dataset.eval_split": NO_HELD_OUT + " (--dataset.eval_split=0 is accepted)",
    "dataset.return_uint8": "policyzoo's data loader always moves camera frames as uint8 and makes them float on "
    "the trainer's side; drop the flag",
    "dataset.repo_type": "policyzoo train reads dataset repos from disk or the Hugging Face cache; Storage "
    "Buckets (--dataset.repo_type=bucket) are streamed, which it does not do",
    "dataset.depth_output_unit": "policyzoo's policies take RGB cameras only; train on a dataset without depth maps",
    "dataloader_multiprocessing_context": "policyzoo's data workers start by fork on Linux and by spawn elsewhere; "
    "drop the flag",
    "cudnn_deterministic": "policyzoo train makes runs repeatable through --seed; cuDNN's deterministic mode is "
    "not offered, drop the flag",
    "job.": "policyzoo train runs on this machine; for Hugging Face Jobs use lerobot-train --job.*",
    "save_checkpoint_to_hub": "policyzoo pushes the finished policy (--policy.push_to_hub=true "
    "--policy.repo_id=USER/NAME); push a checkpoint with policyzoo push CHECKPOINT",
    "wandb.add_tags": "policyzoo tags the W&B run with the policy type and stores every flag in the run's "
    "config; drop the flag",
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
    "pretrained_revision": "policyzoo loads the newest revision of --policy.path=USER/NAME; for another revision, "
    "download it (hf download USER/NAME --revision=REV --local-dir=DIR) and pass the folder",
    "use_peft": "policyzoo train has no PEFT/LoRA adapters; fine-tune the whole policy with --policy.path",
    "private": "set the Hub repo's visibility when pushing: policyzoo push CHECKPOINT --repo_id=USER/NAME --private",
    "tags": "policyzoo writes the model card's tags itself when it pushes",
    "license": "pass it when pushing: policyzoo push CHECKPOINT --repo_id=USER/NAME --license=NAME",
    "normalization_mapping": "policyzoo keeps LeRobot's normalization of this policy type (mean/std or min/max "
    "per feature kind); the statistics come from the dataset",
}
"""LeRobot policy-config fields (common to every type) that are not policyzoo spec fields, and why."""

EVAL_REASONS: Mapping[str, str] = {
    "env.": "policyzoo eval runs the simulator of an installed robot plugin: --env=so101_bimanual_sim "
    "(policyzoo robots list); LeRobot's gym environments are not supported",
    "eval.use_async_envs": "policyzoo eval runs episodes in --workers processes instead",
    "eval.recording": NO_EVAL_RECORDING,
    "eval.recording_repo_id": NO_EVAL_RECORDING,
    "eval.recording_private": NO_EVAL_RECORDING,
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
