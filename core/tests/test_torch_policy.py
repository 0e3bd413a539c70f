"""`TorchPolicy`: a subclass writes only its network and loss; normalization, the action queue, saving and
loading are the base's, and a saved policy loads back to identical actions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch
from pydantic import Field
from safetensors.torch import load_file, save_file
from torch import nn

from policyzoo.checkpoint import META_FILE, read_meta
from policyzoo.errors import BadInput
from policyzoo.spec import PolicySpec
from policyzoo_runtime.synthetic import (
    bimanual_so101_features,
    handle_observation,
    random_batch,
    random_stats,
    robot_observation,
)
from policyzoo_runtime.torch_policy import TorchFactory, TorchPolicy


class LinearSpec(PolicySpec):
    type = "linear_probe"
    optimizer_weight_decay: float = 0.0
    chunk_size: int = Field(4, ge=1)
    n_action_steps: int = Field(3, ge=1)


class LinearPolicy(TorchPolicy):
    """A linear map from the state and each camera's mean colour to a chunk."""

    spec_class = LinearSpec

    def make_model(self) -> nn.Module:
        inputs = self.features.state_dim + 3 * len(self.features.visual)
        return nn.Linear(inputs, self.spec.chunk_size * self.features.action_dim)

    def forward(self, state: torch.Tensor, images: list[torch.Tensor]) -> torch.Tensor:
        colours = [image.mean(dim=(2, 3)) for image in images]
        return self.model(torch.cat([state, *colours], dim=-1)).view(
            -1, self.spec.chunk_size, self.features.action_dim
        )

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        error = (self.forward(*self.inputs(batch)) - self.target(batch)).abs()
        loss = self.unpadded_mean(error, batch)
        return loss, {"l1_loss": float(loss.detach())}


FACTORY = TorchFactory(LinearPolicy)
FEATURES = bimanual_so101_features()
STATS = random_stats(FEATURES)


@pytest.fixture
def trained() -> LinearPolicy:
    """A policy a few steps away from its random start (so that loading the start would differ)."""
    torch.manual_seed(0)
    policy = FACTORY.build(LinearSpec(device="cpu"), FEATURES, STATS)
    optimizer, scheduler = policy.optimizer_and_scheduler(0.05, 5)
    policy.train_mode(True)
    for _ in range(5):
        loss, _ = policy.loss(random_batch(FEATURES, STATS, policy.delta_indices(), 4))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    policy.train_mode(False)
    return policy


def observations(count: int) -> list[dict[str, Any]]:
    return [handle_observation(robot_observation(FEATURES, STATS, seed)) for seed in range(count)]


def episode(policy: TorchPolicy, seen: list[dict[str, Any]]) -> torch.Tensor:
    policy.reset()
    return torch.stack([policy.select_action(observation) for observation in seen])


def test_save_then_load_gives_identical_actions(trained: LinearPolicy, tmp_path: Path) -> None:
    trained.save(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["config.json", "model.safetensors", META_FILE]
    assert set(load_file(tmp_path / "model.safetensors")) == {
        "weight",
        "bias",
        "state_norm.mean",
        "state_norm.std",
        "action_norm.mean",
        "action_norm.std",
    }
    assert read_meta(tmp_path).spec == trained.spec.model_dump(mode="json")
    loaded = FACTORY.load(tmp_path, device="cpu")
    assert (loaded.spec, loaded.features) == (trained.spec, trained.features)
    seen = observations(7)
    torch.testing.assert_close(episode(loaded, seen), episode(trained, seen), rtol=0, atol=0)


def test_actions_are_in_the_robot_units_and_queued_from_each_chunk(trained: LinearPolicy) -> None:
    seen = observations(4)
    chunk = trained.predict_chunk(seen[0])
    mean = torch.as_tensor(STATS["action"]["mean"], dtype=torch.float32)
    assert chunk.shape == (4, FEATURES.action_dim) and ((chunk - mean).abs() < mean.abs() / 2).all()
    actions = episode(trained, seen)  # n_action_steps=3 of the first chunk, then a new chunk for the fourth
    torch.testing.assert_close(actions[:3], chunk[:3])
    torch.testing.assert_close(actions[3], trained.predict_chunk(seen[3])[0])


def test_loading_is_strict_and_refuses_another_policy_type(trained: LinearPolicy, tmp_path: Path) -> None:
    trained.save(tmp_path)
    weights = load_file(tmp_path / "model.safetensors")
    del weights["action_norm.std"]
    save_file(weights, tmp_path / "model.safetensors")
    with pytest.raises(RuntimeError, match=r"Missing key\(s\) in state_dict: \"action_norm.std\""):
        FACTORY.load(tmp_path, device="cpu")
    (tmp_path / "config.json").write_text('{"type": "mlp_bc", "features": {}}')
    with pytest.raises(BadInput, match=r"config.json: not a saved linear_probe policy$"):
        FACTORY.load(tmp_path)


def test_the_statistics_names_are_the_base_s() -> None:
    class Clashing(LinearPolicy):
        def make_model(self) -> nn.Module:
            return nn.ModuleDict({"state_norm": nn.Identity()})

    with pytest.raises(TypeError, match="name no submodule state_norm or action_norm"):
        TorchFactory(Clashing).build(LinearSpec(device="cpu"), FEATURES, STATS)
