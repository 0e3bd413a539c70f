"""SmolVLA: policyzoo's contract on a tiny random SmolVLM, its feature rules and its loss over padded steps."""

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import torch

import policyzoo
from policyzoo.errors import BadInput
from policyzoo.features import Features
from policyzoo.flags import make_spec
from policyzoo.handle import PolicyHandle
from policyzoo_runtime.testing import PolicyContract, bimanual_so101_features, random_batch
from policyzoo_smolvla.spec import SmolVLASpec

TINY = {
    "num_vlm_layers": 2,
    "chunk_size": 6,
    "n_action_steps": 4,
    "num_steps": 2,
    "tokenizer_max_length": 16,
    "scheduler_warmup_steps": 0,
}


class TestSmolVLAContract(PolicyContract):
    policy_type = "smolvla"
    batch_size = 2
    spec_overrides = TINY
    bad_settings = [
        {"n_action_steps": 7},
        {"num_vlm_layers": 0},
        {"vlm_model_name": "/no/such/folder"},
        {"vlm_model_name": "not a hub id"},
        {"num_expert_layers": 3},
        {"chunk_size": 0},
    ]

    @pytest.fixture(scope="class")
    def features(self) -> Features:
        return bimanual_so101_features(has_language=True)

    @pytest.fixture(scope="class")
    def settings(self, tiny_vlm: Path) -> dict[str, Any]:
        return {"device": "cpu", **self.spec_overrides, "vlm_model_name": str(tiny_vlm)}

    def test_padded_steps_do_not_count(
        self, policy: PolicyHandle, features: Features, stats: dict[str, dict[str, Any]]
    ) -> None:
        """Steps past an episode's end add nothing to the loss (LeRobot 0.4.4 misread the mask and counted them)."""
        batch = random_batch(features, stats, policy.delta_indices(), batch_size=2)
        batch["action_is_pad"][:] = True  # every step past the episode's end

        def loss() -> float:
            torch.manual_seed(0)
            with torch.no_grad():
                return float(policy.loss(batch)[0])

        assert loss() == 0.0
        batch["action_is_pad"][:, : policy.spec.chunk_size // 2] = False
        assert loss() > 0.0

    def test_a_checkpoint_from_before_lerobot_06_loads_with_one_note(
        self, saved: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        policyzoo.load_policy(saved, device="cpu")
        assert "before 0.6" not in capsys.readouterr().err
        old = shutil.copytree(saved, tmp_path / "old")
        config = json.loads((old / "config.json").read_text())
        del config["pretrained_revision"]  # as LeRobot 0.4 wrote it
        (old / "config.json").write_text(json.dumps(config))
        policyzoo.load_policy(old, device="cpu")
        err = capsys.readouterr().err
        assert err.startswith(f"note: {old} was saved by LeRobot before 0.6") and err.count("\n") == 1
        assert "transformers 5" in err and f"--policy.path={old}" in err

    def test_tokenizes_the_task(self, policy: PolicyHandle, observations: list[dict[str, Any]]) -> None:
        processed = policy.model_observation(observations[0])
        tokens = processed["observation.language.tokens"]
        assert tokens.shape[0] == 1 and (tokens != 1).any()  # 1 is the tiny tokenizer's <unk>


def problems(spec: SmolVLASpec, **features) -> list[str]:
    return [str(problem) for problem in spec.check_features(bimanual_so101_features(**features))]


def test_needs_a_task_and_a_camera(tiny_vlm: Path) -> None:
    spec = SmolVLASpec(vlm_model_name=str(tiny_vlm))
    assert problems(spec, has_language=True) == []
    found = problems(spec)
    assert len(found) == 1 and "task" in found[0] and "--dataset.single_task" in found[0]
    assert "camera" in problems(spec, cameras=(), has_language=True)[0]


def test_state_and_action_fit_the_padded_size(tiny_vlm: Path) -> None:
    found = problems(
        SmolVLASpec(vlm_model_name=str(tiny_vlm), max_state_dim=8, max_action_dim=8), has_language=True
    )
    assert (
        len(found) == 2
        and "--policy.max_state_dim=12" in found[0]
        and "--policy.max_action_dim=12" in found[1]
    )


def test_vlm_model_name_is_a_hub_id_or_a_folder(tiny_vlm: Path, tmp_path: Path) -> None:
    assert SmolVLASpec().vlm_model_name == "HuggingFaceTB/SmolVLM2-500M-Video-Instruct"
    assert make_spec(SmolVLASpec, {"vlm_model_name": str(tiny_vlm)}).vlm_model_name == str(tiny_vlm.resolve())
    with pytest.raises(BadInput, match=r"--policy.vlm_model_name=.*no config.json.*policyzoo_smolvla.tiny"):
        make_spec(SmolVLASpec, {"vlm_model_name": str(tmp_path)})


def test_uncached_hub_vlm_offline_is_one_clear_error() -> None:
    from policyzoo.api import build_policy

    features = bimanual_so101_features(has_language=True)
    with pytest.raises(BadInput, match=r"--policy.vlm_model_name=HuggingFaceTB/.*local SmolVLM folder"):
        build_policy(SmolVLASpec(device="cpu", **TINY), features)


def test_tiny_vlm_folder_from_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from transformers import AutoConfig, AutoProcessor

    from policyzoo_smolvla.tiny import main

    main([str(tmp_path / "vlm")])
    assert capsys.readouterr().out.strip() == str(tmp_path / "vlm")
    processor = AutoProcessor.from_pretrained(tmp_path / "vlm")
    tokenizer = processor.tokenizer
    assert (
        len(
            {
                tokenizer.fake_image_token_id,
                tokenizer.global_image_token_id,
                tokenizer.image_token_id,
                tokenizer.end_of_utterance_token_id,
            }
            - {None, tokenizer.unk_token_id}
        )
        == 4
    )
    assert AutoConfig.from_pretrained(tmp_path / "vlm").vision_config.image_size == 512
    with pytest.raises(SystemExit):
        main([str(tmp_path / "other"), "--big"])
