"""A damaged or oversized config.json is refused with one clear line, before anything is allocated."""

from __future__ import annotations

import json
import resource
from pathlib import Path

import pytest

import policyzoo
from policyzoo.errors import BadInput

from .conftest import tiny_act


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    folder = tmp_path / "policy"
    tiny_act().save(folder)
    return folder


def edit_config(folder: Path, **values: object) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(values)
    (folder / "config.json").write_text(json.dumps(config))


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_chunk_size_beyond_the_spec_bounds_is_refused(saved: Path) -> None:
    edit_config(saved, chunk_size=10**12)
    with pytest.raises(BadInput, match=r"chunk_size: Input should be less than or equal to 1000"):
        policyzoo.load_policy(saved)


@pytest.mark.parametrize("without_policyzoo_json", [False, True], ids=["policyzoo", "lerobot-only"])
def test_a_huge_model_is_compared_with_the_weights_header_before_it_is_built(
    saved: Path, without_policyzoo_json: bool
) -> None:
    if without_policyzoo_json:
        (saved / "policyzoo.json").unlink()
    # 2**17 wide with a 2**19 feed-forward: several hundred GB of float32 if it were really built
    edit_config(saved, dim_model=2**17, n_heads=2, dim_feedforward=2**19)
    before = peak_rss_mb()
    with pytest.raises(
        BadInput, match=r"config.json gives .* the shape \[.*131072.*\], model.safetensors holds"
    ):
        policyzoo.load_policy(saved)
    assert peak_rss_mb() - before < 500


def test_a_model_too_large_to_describe_is_refused_before_anything_is_built(saved: Path) -> None:
    """1e9 wide: even PyTorch's shape-only meta device cannot size its tensors (more than 2**63 bytes)."""
    edit_config(saved, dim_model=10**9, dim_feedforward=10**9)
    with pytest.raises(
        BadInput,
        match=r"config.json: describes a model that cannot be built \(Storage size "
        r"calculation overflowed.*\); the file was edited or damaged",
    ):
        policyzoo.load_policy(saved)


def test_an_unchanged_checkpoint_still_loads(saved: Path) -> None:
    assert policyzoo.load_policy(saved).spec.chunk_size == 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bogus_key": 1}, r"config.json: LeRobot cannot read it"),
        (
            {"dim_model": "wide"},
            r"config.json: LeRobot cannot read it \(`dim_model`: Couldn't parse 'wide' into an "
            r"int\)$",
        ),
        ({"dim_model": [1]}, r"\(`dim_model`: Couldn't parse '\[1\]' into a int\)$"),  # no draccus internals
        ({"chunk_size": None, "n_heads": None}, r"\(`chunk_size`, `n_heads` null where a value is needed\)$"),
        ({"input_features": ["observation.state"]}, r"\"input_features\" must map feature names"),
        (
            {"output_features": {"action": {"type": "ACTION"}}},
            r"output_features.action has no valid \"shape\"",
        ),
    ],
)
def test_a_damaged_config_is_one_clear_error(saved: Path, change: dict[str, object], message: str) -> None:
    edit_config(saved, **change)
    with pytest.raises(BadInput, match=message):
        policyzoo.load_policy(saved)


@pytest.mark.parametrize("repo_id", ["a/b--c", "a/b..c"])
def test_a_repo_id_the_hub_refuses_is_one_clear_error(repo_id: str) -> None:
    with pytest.raises(BadInput, match=rf"--policy.path={repo_id}: not a valid Hub repo id"):
        policyzoo.load_policy(repo_id)
