"""Check a saved policy's processor files before LeRobot reads them: registered steps only, paths inside the
folder, normalization statistics as wide as the features config.json declares.

LeRobot builds each step of `policy_preprocessor.json` / `policy_postprocessor.json` by calling a class:
one looked up by `registry_name`, or any importable name given as `"class"` (so `"os.system"` would run a
shell command). policyzoo accepts registered names only, with config keys the step takes, and state files
that are `.safetensors` files in the checkpoint folder.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path, PurePosixPath
from typing import Any

from policyzoo.checkpoint import CONFIG_FILE, safetensors_header
from policyzoo.errors import BadInput, did_you_mean

PROCESSOR_FILES = ("policy_preprocessor.json", "policy_postprocessor.json")
STEP_KEYS = frozenset({"registry_name", "config", "state_file"})
STATE_SUFFIX = ".safetensors"
REDO = "export the checkpoint again with policyzoo"


def check_processor_file(path: Path, folder: Path) -> list[dict[str, Any]]:
    """The steps of processor file `path` of checkpoint `folder`; BadInput (one line) unless every step is safe.

    Call it after the policy plugin's model code is imported: that is where plugins register their steps.
    """
    path, folder = Path(path), Path(folder)
    try:
        pipeline = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInput(f"{path}: unreadable processor file ({' '.join(str(exc).split())}); {REDO}") from None
    if not isinstance(pipeline, dict) or not isinstance(pipeline.get("steps"), list):
        raise BadInput(
            f'{path}: not a processor pipeline (expected a JSON object whose "steps" is a list); {REDO}'
        )
    if "name" in pipeline and not isinstance(pipeline["name"], str):
        raise BadInput(f'{path}: "name" is a {type(pipeline["name"]).__name__}, not a string; {REDO}')
    for index, step in enumerate(pipeline["steps"]):
        _check_step(path, folder, index, step)
    return pipeline["steps"]


def _check_step(path: Path, folder: Path, index: int, step: Any) -> None:
    where = f"{path}: step {index}"
    if not isinstance(step, dict):
        raise BadInput(f"{where} is a {type(step).__name__}, not a JSON object; {REDO}")
    name = step.get("registry_name")
    if isinstance(name, str):
        where += f" ({name})"
    if "class" in step:
        named = json.dumps(step["class"])[:120]
        raise BadInput(
            f'{where}: "class": {named} names a Python class to import; policyzoo accepts only '
            f'registered step names: remove "class" and use the step\'s registry_name'
        )
    extra = sorted(str(key) for key in step.keys() - STEP_KEYS)
    if extra:
        raise BadInput(
            f"{where}: unexpected key(s) {', '.join(extra)}; a step has only registry_name, config and "
            f"state_file: remove them or {REDO}"
        )
    if not isinstance(name, str):
        raise BadInput(f'{where}: no "registry_name" string; name a registered processor step or {REDO}')
    step_class = _registered(where, name)
    config = step.get("config", {})
    if not isinstance(config, dict):
        raise BadInput(f'{where}: "config" is a {type(config).__name__}, not a JSON object; {REDO}')
    _check_config(where, step_class, config)
    if "state_file" in step:
        _check_state_file(where, path, folder, step["state_file"])


def _registered(where: str, name: str) -> type:
    from lerobot.processor import ProcessorStepRegistry

    try:
        return ProcessorStepRegistry.get(name)
    except KeyError:
        hint = did_you_mean(name, ProcessorStepRegistry.list())
        raise BadInput(
            f"{where}: '{name}' is not a registered processor step.{hint} Install the plugin that "
            f"provides it (see policyzoo plugins list) or {REDO}"
        ) from None


def _check_config(where: str, step_class: type, config: dict[str, Any]) -> None:
    parameters = inspect.signature(step_class).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        accepted = [n for n, p in parameters.items() if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
        unknown = sorted(str(key) for key in config if key not in accepted)
        if unknown:
            hint = did_you_mean(unknown[0], accepted)
            raise BadInput(
                f"{where}: config key(s) {', '.join(unknown)} are not parameters of "
                f"{step_class.__name__} (it takes: {', '.join(accepted) or 'nothing'}).{hint} "
                f"Remove them or {REDO}"
            )
    remote = parameters.get("trust_remote_code")
    if remote is not None and config.get("trust_remote_code", remote.default) is not False:
        raise BadInput(
            f"{where}: trust_remote_code is not false, so loading could run code from the Hub; "
            f'set "trust_remote_code": false in its config'
        )


def _check_state_file(where: str, path: Path, folder: Path, state_file: Any) -> None:
    if not isinstance(state_file, str) or not _plain_name(state_file):
        raise BadInput(
            f"{where}: state_file {json.dumps(state_file)} is not a plain file name in the checkpoint "
            f"folder (absolute paths, folders and '..' are refused); name a {STATE_SUFFIX} file that "
            f"lies beside the processor file"
        )
    if not state_file.endswith(STATE_SUFFIX):
        raise BadInput(
            f"{where}: state_file '{state_file}' is not a {STATE_SUFFIX} file; processor state is "
            f"loaded from safetensors only, {REDO}"
        )
    target = folder / state_file
    outside = link_outside(target, folder)
    if outside is not None:
        raise BadInput(
            f"{where}: state_file '{state_file}' links outside the checkpoint folder (to {outside}); "
            f"copy the file into the folder instead of linking to it"
        )
    if not target.is_file():
        raise BadInput(
            f"{folder}: {path.name} needs {state_file}, which is missing; "
            f"copy it from the original checkpoint or export it again"
        )


def _plain_name(name: str) -> bool:
    return name not in ("", ".", "..") and "\\" not in name and PurePosixPath(name).name == name


def link_outside(path: Path, folder: Path) -> Path | None:
    """Where `path` really lies when links take it out of `folder` (a cache snapshot's blobs count as in)."""
    try:
        target = path.resolve()
    except (OSError, RuntimeError):  # a link loop
        return path
    return None if any(target.is_relative_to(root) for root in _allowed_roots(folder)) else target


def _allowed_roots(folder: Path) -> list[Path]:
    """The folder, and for a Hugging Face cache snapshot (files are links to ../../blobs) its blobs folder."""
    resolved = folder.resolve()
    roots = [resolved]
    blobs = resolved.parent.parent / "blobs"
    if resolved.parent.name == "snapshots" and blobs.is_dir():
        roots.append(blobs)
    return roots


def check_processor_files(directory: Path) -> None:
    """BadInput (one line) unless both processor files of saved policy `directory` are there and safe, and their
    statistics fit config.json. Call it after the plugin's model code is imported (it registers its steps)."""
    directory = Path(directory)
    features = _config_features(directory)
    for name in PROCESSOR_FILES:
        path = directory / name
        if not path.is_file():
            raise BadInput(
                f"{directory}: missing {name} (the normalization pipeline); re-save the policy with "
                f"policyzoo or LeRobot >= 0.4, which write the processor files"
            )
        for step in check_processor_file(path, directory):
            if "state_file" in step:
                state_path = directory / step["state_file"]
                header = safetensors_header(state_path)
                declared = step.get("config", {}).get("features")
                _check_stat_shapes(
                    state_path, header, declared if isinstance(declared, dict) else {}, features
                )


def _config_features(directory: Path) -> dict[str, list[int]]:
    config = json.loads((directory / CONFIG_FILE).read_text())
    found: dict[str, list[int]] = {}
    for group in ("input_features", "output_features"):
        features = config.get(group) or {}
        if not isinstance(features, dict):
            raise BadInput(
                f'{directory / CONFIG_FILE}: "{group}" must map feature names to '
                f'{{"type": ..., "shape": [...]}}; re-export the checkpoint'
            )
        for key, feature in features.items():
            shape = feature.get("shape") if isinstance(feature, dict) else None
            if not (isinstance(shape, list) and all(isinstance(size, int) and size > 0 for size in shape)):
                raise BadInput(
                    f'{directory / CONFIG_FILE}: {group}.{key} has no valid "shape" (a list of '
                    f"positive whole numbers); re-export the checkpoint"
                )
            found[key] = shape
    return found


def _check_stat_shapes(
    path: Path, header: dict[str, Any], step_features: dict[str, Any], config_features: dict[str, list[int]]
) -> None:
    """Normalization statistics must have the width of the features config.json declares."""
    for key, shape in config_features.items():
        declared = (
            step_features.get(key, {}).get("shape") if isinstance(step_features.get(key), dict) else None
        )
        if declared is not None and list(declared) != shape:
            raise BadInput(
                f"{path.parent}: config.json says {key} has shape {shape}, the processor says "
                f"{list(declared)}; the files come from different checkpoints"
            )
        for stat in ("mean", "std", "min", "max"):
            entry = header.get(f"{key}.{stat}")
            if entry is None or len(shape) != 1:
                continue
            if entry["shape"][-1:] != shape[-1:]:
                raise BadInput(
                    f"{path}: {key}.{stat} has shape {entry['shape']}, config.json says {key} has "
                    f"shape {shape}; the files come from different checkpoints"
                )
