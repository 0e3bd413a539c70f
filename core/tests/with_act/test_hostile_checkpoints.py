"""Checkpoints whose processor JSON names code to run or files outside the folder: refused before loading."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import policyzoo
from policyzoo.errors import BadInput

from .conftest import as_cache_snapshot

PRE = "policy_preprocessor.json"
POST = "policy_postprocessor.json"
STATE = "policy_preprocessor_step_3_normalizer_processor.safetensors"
Edit = Callable[[Path, Path], None]  # (checkpoint folder, marker file)


def edit_json(folder: Path, name: str, change: Callable[[dict[str, Any]], Any]) -> None:
    content = json.loads((folder / name).read_text())
    change(content)
    (folder / name).write_text(json.dumps(content, indent=2))


def step(content: dict[str, Any], registry_name: str) -> dict[str, Any]:
    return next(s for s in content["steps"] if s.get("registry_name") == registry_name)


def touch(marker: Path) -> dict[str, Any]:
    return {"class": "os.system", "config": {"command": f"touch {marker}"}}


def outside_state(folder: Path) -> Path:
    """A genuine state file, copied next to (not into) the checkpoint folder."""
    outside = folder.parent / "outside.safetensors"
    shutil.copyfile(folder / STATE, outside)
    return outside


def _symlink_out(folder: Path, marker: Path) -> None:
    os.symlink(outside_state(folder), folder / "linked.safetensors")
    edit_json(folder, PRE, lambda c: step(c, "normalizer_processor").update(state_file="linked.safetensors"))


# case id -> (edit, what the one-line message must say)
CASES: dict[str, tuple[Edit, str]] = {
    "class-os-system": (
        lambda f, m: edit_json(f, PRE, lambda c: c["steps"].insert(0, touch(m))),
        r"step 0: \"class\": \"os.system\" names a Python class to import; policyzoo accepts only registered "
        r"step names",
    ),
    "class-os-system-in-postprocessor": (
        lambda f, m: edit_json(f, POST, lambda c: c["steps"].append(touch(m))),
        r"policy_postprocessor.json: step 2: \"class\": \"os.system\" names a Python class to import",
    ),
    "class-beside-registry-name": (
        lambda f, m: edit_json(
            f,
            PRE,
            lambda c: step(c, "device_processor").update(touch(m) | {"registry_name": "device_processor"}),
        ),
        r"step 2 \(device_processor\): \"class\": \"os.system\" names a Python class to import",
    ),
    "unknown-registry-name": (
        lambda f, m: edit_json(
            f, PRE, lambda c: step(c, "normalizer_processor").update(registry_name="normaliser_processor")
        ),
        r"step 3 \(normaliser_processor\): 'normaliser_processor' is not a registered processor step\. "
        r"Did you mean 'normalizer_processor'\? Install the plugin",
    ),
    "config-key-the-step-does-not-take": (
        lambda f, m: edit_json(f, PRE, lambda c: step(c, "device_processor")["config"].update(command="id")),
        r"step 2 \(device_processor\): config key\(s\) command are not parameters of DeviceProcessorStep "
        r"\(it takes: device, float_dtype\)",
    ),
    "config-not-an-object": (
        lambda f, m: edit_json(f, PRE, lambda c: step(c, "device_processor").update(config=["cpu"])),
        r"step 2 \(device_processor\): \"config\" is a list, not a JSON object",
    ),
    "trust-remote-code": (
        lambda f, m: edit_json(
            f,
            PRE,
            lambda c: c["steps"].append(
                {
                    "registry_name": "action_tokenizer_processor",
                    "config": {"action_tokenizer_name": "evil/tok"},
                }
            ),
        ),
        r"step 4 \(action_tokenizer_processor\): trust_remote_code is not false, so loading could run code",
    ),
    "state-file-absolute": (
        lambda f, m: edit_json(
            f, PRE, lambda c: step(c, "normalizer_processor").update(state_file=str(outside_state(f)))
        ),
        r"step 3 \(normalizer_processor\): state_file \".*/outside.safetensors\" is not a plain file name in "
        r"the checkpoint folder \(absolute paths, folders and '\.\.' are refused\)",
    ),
    "state-file-dot-dot": (
        lambda f, m: (
            outside_state(f),
            edit_json(
                f, PRE, lambda c: step(c, "normalizer_processor").update(state_file="../outside.safetensors")
            ),
        ),
        r"state_file \"\.\./outside.safetensors\" is not a plain file name in the checkpoint folder",
    ),
    "state-file-symlink-out": (
        _symlink_out,
        r"step 3 \(normalizer_processor\): state_file 'linked.safetensors' links outside the checkpoint folder "
        r"\(to .*/outside.safetensors\); copy the file into the folder",
    ),
    "state-file-not-safetensors": (
        lambda f, m: edit_json(
            f, PRE, lambda c: step(c, "normalizer_processor").update(state_file="config.json")
        ),
        r"state_file 'config.json' is not a .safetensors file",
    ),
    "steps-not-a-list": (
        lambda f, m: edit_json(f, PRE, lambda c: c.update(steps={"0": touch(m)})),
        r"policy_preprocessor.json: not a processor pipeline \(expected a JSON object whose \"steps\" is a list\)",
    ),
    "pipeline-not-an-object": (
        lambda f, m: (f / PRE).write_text(json.dumps([touch(m)])),
        r"policy_preprocessor.json: not a processor pipeline",
    ),
    "step-not-an-object": (
        lambda f, m: edit_json(f, PRE, lambda c: c["steps"].append("os.system")),
        r"step 4 is a str, not a JSON object",
    ),
    "name-not-a-string": (
        lambda f, m: edit_json(f, PRE, lambda c: c.update(name=touch(m))),
        r"policy_preprocessor.json: \"name\" is a dict, not a string",
    ),
    "unexpected-step-key": (
        lambda f, m: edit_json(f, PRE, lambda c: step(c, "to_batch_processor").update(module="os")),
        r"step 1 \(to_batch_processor\): unexpected key\(s\) module; a step has only registry_name, config "
        r"and state_file",
    ),
}


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "marker"


@pytest.fixture
def hostile(request: pytest.FixtureRequest, checkpoint: Path, marker: Path) -> tuple[Path, str]:
    """(folder, expected message) for the case named by the test's parameter."""
    edit, message = CASES[request.param]
    edit(checkpoint, marker)
    return checkpoint, message


@pytest.mark.parametrize("hostile", sorted(CASES), indirect=True)
def test_load_policy_refuses(hostile: tuple[Path, str], marker: Path) -> None:
    folder, message = hostile
    with pytest.raises(BadInput, match=message) as caught:
        policyzoo.load_policy(folder)
    assert "\n" not in str(caught.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    "hostile", ["class-os-system", "class-beside-registry-name", "state-file-symlink-out"], indirect=True
)
def test_factory_and_export_check_refuse_on_their_own(hostile: tuple[Path, str], marker: Path) -> None:
    """Defence in depth: the factory's loader and the export's LeRobot reload check without load_policy."""
    from policyzoo.registry import get_registry
    from policyzoo_runtime.hub.verify import lerobot_action

    folder, message = hostile
    with pytest.raises(BadInput, match=message):
        get_registry().policy("act").load_factory().load(folder, device="cpu")
    with pytest.raises(BadInput, match=message):
        lerobot_action(folder, {})
    assert not marker.exists()


@pytest.mark.parametrize("hostile", ["class-os-system"], indirect=True)
def test_the_payload_is_real_without_the_check(hostile: tuple[Path, str], marker: Path) -> None:
    """LeRobot's own loader runs the command: what the tests above guard against is not hypothetical."""
    from lerobot.processor import DataProcessorPipeline

    folder, _ = hostile
    with contextlib.suppress(Exception):
        DataProcessorPipeline.from_pretrained(folder, config_filename=PRE)
    assert marker.exists()


@pytest.mark.parametrize("hostile", ["class-os-system"], indirect=True)
def test_cli_says_one_line_and_exits_2(
    hostile: tuple[Path, str], marker: Path, run_cli, tmp_path: Path
) -> None:
    folder, _ = hostile
    for args in (
        [
            "eval",
            f"--policy.path={folder}",
            "--env=so101_bimanual_sim",
            "--episodes=1",
            f"--output_dir={tmp_path / 'eval'}",
        ],
        ["export", str(folder), "--to", str(tmp_path / "out")],
    ):
        code, _, err = run_cli(*args)
        assert code == 2, err
        assert err.startswith("policyzoo: error: ") and err.count("\n") == 1 and "Traceback" not in err
        assert "names a Python class to import; policyzoo accepts only registered step names" in err
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_a_normal_checkpoint_still_loads(checkpoint: Path) -> None:
    from policyzoo_runtime.hub.verify import lerobot_action, sample_observation

    handle = policyzoo.load_policy(checkpoint, device="cpu")
    observation = sample_observation(handle.features)
    assert handle.select_action(observation).numel() == 12
    assert lerobot_action(checkpoint, observation).numel() == 12


def test_a_hugging_face_cache_snapshot_is_not_a_link_outside(checkpoint: Path, tmp_path: Path) -> None:
    """Snapshot files are links to ../../blobs: that is the cache's layout, not a hostile link."""
    from policyzoo.checkpoint import check_saved_policy
    from policyzoo_runtime.processor_files import check_processor_files

    snapshot = as_cache_snapshot(checkpoint, tmp_path / "hub")
    check_saved_policy(snapshot)
    check_processor_files(snapshot)
