"""`policyzoo export`: a self-contained model folder that LeRobot and policyzoo both load, checked before it lands.

Only the files a saved policy is made of are copied (config, weights, processors and the state files they
name, policyzoo's records, the loss plot), never through a link that leaves the checkpoint folder; absolute
local paths and tokens are scrubbed from every JSON file and from safetensors metadata; the folder is
written under a temporary name and renamed when the reload check has passed.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from policyzoo.capabilities import lerobot_loadable
from policyzoo.checkpoint import (
    CONFIG_FILE,
    META_FILE,
    WEIGHTS_FILE,
    atomic_directory,
    check_saved_policy,
    find_pretrained,
    policy_type_of,
    safetensors_header,
)
from policyzoo.errors import BadInput
from policyzoo_runtime.hub.scrub import Scrubbed, known_secrets, scrub_json
from policyzoo_runtime.processor_files import PROCESSOR_FILES, check_processor_files, link_outside
from policyzoo_runtime.train.config import CHECKPOINT_CONFIG_FILE
from policyzoo_runtime.train.config import CONFIG_FILE as TRAIN_CONFIG_FILE
from policyzoo_runtime.train.metrics import PLOT_FILE

OPTIONAL_FILES = (*PROCESSOR_FILES, META_FILE, TRAIN_CONFIG_FILE, CHECKPOINT_CONFIG_FILE)
README = "README.md"


@dataclass
class ExportReport:
    """What an export wrote and what its self-check found."""

    directory: Path
    policy_type: str
    files: list[str] = field(default_factory=list)
    scrubbed: list[Scrubbed] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)
    lerobot_checked: bool = False

    def lines(self) -> list[str]:
        out = [f"exported {self.policy_type} policy to {self.directory}", f"  files: {', '.join(self.files)}"]
        if self.skipped:
            out.append(f"  left out (not part of a saved policy): {', '.join(self.skipped)}")
        out += [f"  scrubbed {change}" for change in self.scrubbed]
        out += [f"  check: {line}" for line in self.checks]
        return out


def export(
    checkpoint: str | Path,
    to: str | Path,
    *,
    repo_id: str | None = None,
    license: str = "apache-2.0",
    verify: bool = True,
    overwrite: bool = False,
) -> ExportReport:
    """Export CHECKPOINT (a training output dir, one of its checkpoints, or a pretrained_model folder) to TO;
    an earlier export in TO is replaced only with `overwrite`."""
    source = Path(checkpoint).expanduser()
    if not source.is_dir():
        raise BadInput(
            f"CHECKPOINT={checkpoint}: no such folder; pass a training output dir, one of its "
            f"checkpoints, or a pretrained_model folder"
        )
    pretrained = find_pretrained(source)
    if pretrained is None:
        raise BadInput(
            f"CHECKPOINT={checkpoint}: no config.json here, in pretrained_model/ or in "
            f"checkpoints/last/pretrained_model/; point it at a saved policy"
        )
    target = check_target(to, pretrained, overwrite=overwrite)
    _inside(pretrained, CONFIG_FILE)
    policy_type = policy_type_of(pretrained)
    from policyzoo.registry import get_registry

    entry = get_registry().policy(policy_type, flag="config.json type")
    loadable = lerobot_loadable(entry.load_factory())
    names = [CONFIG_FILE, WEIGHTS_FILE] + [
        name for name in OPTIONAL_FILES if os.path.lexists(pretrained / name)
    ]
    for name in names:
        _inside(pretrained, name)
    check_saved_policy(pretrained)
    if loadable:
        check_processor_files(pretrained)
    names += _state_files(pretrained)
    run_root = training_root(pretrained)
    report = ExportReport(directory=target, policy_type=policy_type, skipped=_left_out(pretrained, names))
    try:
        with atomic_directory(target) as staging:
            originals = _copy_model_files(pretrained, names, staging, report)
            plots = _copy_plots([pretrained, run_root] if run_root else [pretrained], staging)
            report.files += plots
            if verify:
                from policyzoo_runtime.hub.verify import verify_folder

                report.checks, report.lerobot_checked = verify_folder(
                    staging, originals if report.scrubbed else {}, lerobot_loadable=loadable
                )
            from policyzoo_runtime.hub.model_card import render

            meta = _read_json(staging / META_FILE)
            training = meta.get("training") or _run_summary(run_root)
            card = render(
                policy_type=policy_type,
                entry=entry,
                config=_read_json(staging / CONFIG_FILE),
                meta=meta,
                training=training,
                plots=plots,
                repo_id=repo_id,
                license=license,
                report=report,
            )
            (staging / README).write_text(card)
            report.files.append(README)
    except OSError as exc:
        raise BadInput(
            f"export to {target} failed: {exc.filename or target}: {exc.strerror or exc}; nothing was written"
        ) from None
    return report


def check_target(to: str | Path, pretrained: Path, overwrite: bool = False) -> Path:
    """The folder to write, resolved; BadInput unless it is new or empty (or an earlier export, with
    `overwrite`) in a folder we can write."""
    target = Path(to).expanduser()
    resolved = target.resolve()
    if resolved == pretrained.resolve() or pretrained.resolve() in resolved.parents:
        raise BadInput(f"--to={to}: is the checkpoint itself or inside it; export to a new folder")
    existing = next(path for path in (resolved, *resolved.parents) if path.exists())
    if not existing.is_dir():
        where = "is a file" if existing == resolved else f"lies under {existing}, which is a file"
        raise BadInput(f"--to={to}: {where}, not a folder; pick a new folder")
    if existing == resolved and any(resolved.iterdir()):
        if not (resolved / CONFIG_FILE).is_file():
            raise BadInput(f"--to={to}: exists and is not an exported model folder; pick a new folder")
        if not overwrite:
            raise BadInput(
                f"--to={to}: holds an earlier export ({_described(resolved)}); pick a new --to, or "
                f"replace it with --overwrite=true"
            )
    writes_in = resolved.parent if existing == resolved else existing
    if not os.access(writes_in, os.W_OK | os.X_OK):
        raise BadInput(f"--to={to}: no permission to write in {writes_in}; pick a folder you can write to")
    return resolved


def _described(folder: Path) -> str:
    """'a TYPE policy, exported DATE' for an export folder, as far as its files say."""
    try:
        kind = str(_read_json(folder / CONFIG_FILE).get("type", "unknown"))
    except BadInput:
        kind = "unknown"
    written = datetime.fromtimestamp((folder / CONFIG_FILE).stat().st_mtime).strftime("%Y-%m-%d %H:%M")
    return f"a {kind} policy written {written}"


def training_root(pretrained: Path) -> Path | None:
    """The training output dir above `.../checkpoints/<step>/pretrained_model`, when there is one."""
    checkpoint_dir = pretrained.parent if pretrained.name == "pretrained_model" else None
    if checkpoint_dir is not None and checkpoint_dir.parent.name == "checkpoints":
        return checkpoint_dir.parent.parent
    return None


def _inside(pretrained: Path, name: str) -> Path:
    """`pretrained / name`, after checking no link takes it out of the checkpoint folder."""
    path = pretrained / name
    outside = link_outside(path, pretrained)
    if outside is not None:
        raise BadInput(
            f"{path}: links outside the checkpoint folder (to {outside}); export reads nothing "
            f"outside it: copy the file into the folder instead of linking to it"
        )
    return path


def _state_files(pretrained: Path) -> list[str]:
    """The safetensors state files the processor JSONs name, each checked to lie in the folder."""
    names: list[str] = []
    for processor in PROCESSOR_FILES:
        for step in _read_json(pretrained / processor).get("steps", []):
            name = step.get("state_file") if isinstance(step, dict) else None
            if isinstance(name, str) and name not in names:
                if Path(name).name != name or not name.endswith(".safetensors"):
                    raise BadInput(
                        f"{pretrained / processor}: state_file {json.dumps(name)} is not a "
                        f".safetensors file beside it; export the checkpoint again with policyzoo"
                    )
                if not _inside(pretrained, name).is_file():
                    raise BadInput(f"{pretrained}: {processor} needs {name}, which is missing")
                names.append(name)
    return names


def _left_out(pretrained: Path, names: list[str]) -> list[str]:
    """Everything else in the checkpoint folder, named (never read); a link out of the folder says so."""
    skipped = []
    for path in sorted(pretrained.iterdir()):
        if path.name in names or path.name in (README, PLOT_FILE):
            continue
        if path.is_symlink() and link_outside(path, pretrained) is not None:
            skipped.append(f"{path.name} (a link to outside the checkpoint folder)")
        else:
            skipped.append(path.name + ("/" if path.is_dir() else ""))
    return skipped


def _copy_model_files(
    pretrained: Path, names: list[str], staging: Path, report: ExportReport
) -> dict[str, Any]:
    """Copy `names` (JSON scrubbed, safetensors metadata scrubbed); return the original JSON by file name."""
    secrets = known_secrets()
    originals: dict[str, Any] = {}
    for name in names:
        path = pretrained / name
        if name.endswith(".json"):
            content = _read_json(path)
            originals[name] = content
            clean, changes = scrub_json(content, name, secrets)
            (staging / name).write_text(json.dumps(clean, indent=2) + "\n")
        else:
            changes = _copy_safetensors(path, staging / name, secrets)
        report.scrubbed += changes
        report.files.append(name)
    return originals


def _copy_safetensors(source: Path, target: Path, secrets: tuple[str, ...]) -> list[Scrubbed]:
    """A byte-for-byte copy, or a rewrite with the same tensors when the metadata holds a path or token."""
    from safetensors import safe_open

    safetensors_header(source)  # a clear error for a damaged file
    with safe_open(str(source), framework="pt") as handle:
        clean, changes = scrub_json(handle.metadata() or {}, target.name, secrets, "__metadata__")
        if changes:
            from safetensors.torch import save_file

            tensors = handle.keys()
            save_file({key: handle.get_tensor(key) for key in tensors}, str(target), metadata=clean)
    if not changes:
        shutil.copyfile(source, target)
    return changes


def _copy_plots(folders: list[Path], staging: Path) -> list[str]:
    """The loss plot, from the checkpoint folder or else the run dir."""
    for folder in folders:
        path = folder / PLOT_FILE
        if path.is_file():
            shutil.copyfile(_inside(folder, PLOT_FILE), staging / PLOT_FILE)
            return [PLOT_FILE]
    return []


def _run_summary(run_root: Path | None) -> dict[str, Any]:
    """The training summary a run dir keeps in its own policyzoo.json, when the checkpoint has none."""
    if run_root is None or not (run_root / META_FILE).is_file():
        return {}
    content = _read_json(run_root / META_FILE)
    training = content.get("training", content) if isinstance(content, dict) else {}
    clean, _ = scrub_json(training, META_FILE, known_secrets())
    return clean if isinstance(clean, dict) else {}


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        content = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: not valid JSON ({exc}); the checkpoint is damaged") from None
    return content if isinstance(content, dict) else {}
