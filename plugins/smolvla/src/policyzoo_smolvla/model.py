"""SmolVLA's factory: LeRobot's `SmolVLAPolicy` through the shared LeRobot adapter."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from lerobot.configs.policies import PreTrainedConfig
from lerobot.policies.pretrained import PreTrainedPolicy

from policyzoo.checkpoint import CONFIG_FILE
from policyzoo.errors import BadInput
from policyzoo_runtime.lerobot import LeRobotFactory
from policyzoo_smolvla.spec import TINY_HINT, SmolVLASpec
from policyzoo_smolvla.tiny import build_full_size_smolvlm, build_tiny_smolvlm

WRITTEN_BY_LEROBOT_06 = "pretrained_revision"
"""A config.json field every LeRobot >= 0.6 writes and earlier versions do not know."""
TRANSFORMERS_5_DRIFT = (
    "measured at SmolVLM2-500M's size: actions of about 30 on average moved by 0.36 on average, 1.3 at most"
)
"""How far a SmolVLA saved under LeRobot 0.4.4 (transformers 4.57) acts from itself under LeRobot 0.6.1 (transformers
5.5): 450 M parameters with random weights, 3 observations of two 256x256 cameras, the same seed, in the robot's
units (degrees)."""


def transformers_5_note(directory: Path) -> str:
    return (
        f"note: {directory} was saved by LeRobot before 0.6, whose SmolVLA ran on transformers 4; transformers 5 "
        f"numbers SmolVLM's vision patch positions differently, so this policy acts a little differently here "
        f"({TRANSFORMERS_5_DRIFT}). Check it on the robot, or fine-tune it briefly: policyzoo train "
        f"--policy.path={directory} ..."
    )


class SmolVLAFactory(LeRobotFactory):
    policy_type = "smolvla"
    spec_class = SmolVLASpec
    quick_settings = {
        "num_vlm_layers": 2,
        "chunk_size": 6,
        "n_action_steps": 4,
        "num_steps": 2,
        "tokenizer_max_length": 16,
        "scheduler_warmup_steps": 0,
        "optimizer_lr": 1e-3,
    }

    def bench_settings(self, quick: bool, workdir: Path) -> dict[str, Any]:
        """Offline VLM folders: a tiny one (quick), or SmolVLM2-500M's shapes with random weights."""
        if quick:
            return {
                **self.quick_settings,
                "vlm_model_name": str(build_tiny_smolvlm(workdir / "tiny-smolvlm")),
            }
        return {"vlm_model_name": str(build_full_size_smolvlm(workdir / "smolvlm2-500m-shape"))}

    def make_policy(self, config: PreTrainedConfig) -> PreTrainedPolicy:
        try:
            return super().make_policy(config)
        except OSError:  # transformers cannot find the VLM's config, processor or weights
            raise BadInput(
                f"--policy.vlm_model_name={config.vlm_model_name}: cannot read the VLM's config and "
                f"processor (not in the Hugging Face cache and the Hub unreachable, or no such repo); "
                f"download it first, or pass a local SmolVLM folder ({TINY_HINT})"
            ) from None

    def read_config(self, directory: Path) -> PreTrainedConfig:
        """A saved SmolVLA holds all its weights: never fetch the VLM's pretrained ones again to load it. One
        written before LeRobot 0.6 loads with a note that it acts a little differently (transformers 5)."""
        config = super().read_config(directory)
        config.load_vlm_weights = False
        if WRITTEN_BY_LEROBOT_06 not in json.loads((Path(directory) / CONFIG_FILE).read_text()):
            print(transformers_5_note(Path(directory)), file=sys.stderr)
        return config


factory = SmolVLAFactory()
