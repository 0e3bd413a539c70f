"""SmolVLA's factory: LeRobot's `SmolVLAPolicy` through the shared LeRobot adapter.

LeRobot 0.4.4's `SmolVLAPolicy.forward` reads the action padding mask under a misspelt key
(`actions_id_pad`) instead of the dataloader's `action_is_pad`, so the loss also counts the padded steps
past an episode's end. The handle passes the mask under the key LeRobot reads.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lerobot.configs.policies import PreTrainedConfig
from lerobot.policies.pretrained import PreTrainedPolicy

from policyzoo.errors import BadInput
from policyzoo.lerobot import LeRobotFactory, LeRobotHandle
from policyzoo_smolvla.spec import TINY_HINT, SmolVLASpec
from policyzoo_smolvla.tiny import build_full_size_smolvlm, build_tiny_smolvlm

PAD_KEY = "action_is_pad"
LEROBOT_PAD_KEY = "actions_id_pad"
"""The key LeRobot 0.4.4's SmolVLA reads the action padding mask from."""


class SmolVLAHandle(LeRobotHandle):
    fix_action_padding = True
    """The workaround for LeRobot 0.4.4's padding-mask typo (tests turn it off to show the bug)."""

    def model_batch(self, batch: dict[str, Any]) -> dict[str, Any]:
        processed = super().model_batch(batch)
        if self.fix_action_padding and processed.get(PAD_KEY) is not None:
            processed[LEROBOT_PAD_KEY] = processed[PAD_KEY]
        return processed


class SmolVLAFactory(LeRobotFactory):
    policy_type = "smolvla"
    spec_class = SmolVLASpec
    handle_class = SmolVLAHandle
    quick_settings = {"num_vlm_layers": 2, "chunk_size": 6, "n_action_steps": 4, "num_steps": 2,
                      "tokenizer_max_length": 16, "scheduler_warmup_steps": 0, "optimizer_lr": 1e-3}

    def bench_settings(self, quick: bool, workdir: Path) -> dict[str, Any]:
        """Offline VLM folders: a tiny one (quick), or SmolVLM2-500M's shapes with random weights."""
        if quick:
            return {**self.quick_settings, "vlm_model_name": str(build_tiny_smolvlm(workdir / "tiny-smolvlm"))}
        return {"vlm_model_name": str(build_full_size_smolvlm(workdir / "smolvlm2-500m-shape"))}

    def make_policy(self, config: PreTrainedConfig) -> PreTrainedPolicy:
        try:
            return super().make_policy(config)
        except OSError:  # transformers cannot find the VLM's config, processor or weights
            raise BadInput(f"--policy.vlm_model_name={config.vlm_model_name}: cannot read the VLM's config and "
                           f"processor (not in the Hugging Face cache and the Hub unreachable, or no such repo); "
                           f"download it first, or pass a local SmolVLM folder ({TINY_HINT})") from None

    def read_config(self, directory: Path) -> PreTrainedConfig:
        """A saved SmolVLA holds all its weights: never fetch the VLM's pretrained ones again to load it."""
        config = super().read_config(directory)
        config.load_vlm_weights = False
        return config


factory = SmolVLAFactory()
