"""`policyzoo export`: a self-contained model folder that LeRobot and policyzoo both load, checked before it lands.

Only JSON, safetensors and plots are copied (never training state or pickles); absolute local paths and
tokens are scrubbed from every JSON file; the folder is written under a temporary name and renamed when
the reload check has passed.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from policyzoo.checkpoint import (
    CONFIG_FILE,
    META_FILE,
    atomic_directory,
    check_saved_policy,
    find_pretrained,
    policy_type_of,
)
from policyzoo.errors import BadInput
from policyzoo.hub.scrub import Scrubbed, known_secrets, scrub_json

COPIED_SUFFIXES = (".json", ".safetensors")
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
        out += [f"  left out: {name}" for name in self.skipped]
        out += [f"  scrubbed {change}" for change in self.scrubbed]
        out += [f"  check: {line}" for line in self.checks]
        return out


def export(checkpoint: str | Path, to: str | Path, *, repo_id: str | None = None, license: str = "apache-2.0",
           verify: bool = True) -> ExportReport:
    """Export CHECKPOINT (a training output dir, one of its checkpoints, or a pretrained_model folder) to TO."""
    source = Path(checkpoint).expanduser()
    if not source.is_dir():
        raise BadInput(f"CHECKPOINT={checkpoint}: no such folder; pass a training output dir, one of its "
                       f"checkpoints, or a pretrained_model folder")
    pretrained = find_pretrained(source)
    if pretrained is None:
        raise BadInput(f"CHECKPOINT={checkpoint}: no config.json here, in pretrained_model/ or in "
                       f"checkpoints/last/pretrained_model/; point it at a saved policy")
    policy_type = policy_type_of(pretrained)
    from policyzoo.registry import get_registry

    entry = get_registry().policy(policy_type, flag="config.json type")
    loadable = bool(getattr(entry.load_factory(), "lerobot_loadable", True))
    check_saved_policy(pretrained, processors=loadable)
    target = _check_target(Path(to).expanduser(), pretrained)
    run_root = training_root(pretrained)
    report = ExportReport(directory=target, policy_type=policy_type)
    with atomic_directory(target) as staging:
        originals = _copy_model_files(pretrained, staging, report)
        plots = _copy_plots([pretrained, run_root] if run_root else [pretrained], staging)
        report.files += plots
        if verify:
            from policyzoo.hub.verify import verify_folder

            report.checks, report.lerobot_checked = verify_folder(
                staging, originals if report.scrubbed else {}, lerobot_loadable=loadable)
        from policyzoo.hub.model_card import render

        meta = _read_json(staging / META_FILE)
        training = meta.get("training") or _run_summary(run_root)
        card = render(policy_type=policy_type, entry=entry, config=_read_json(staging / CONFIG_FILE), meta=meta,
                      training=training, plots=plots, repo_id=repo_id, license=license, report=report)
        (staging / README).write_text(card)
        report.files.append(README)
    return report


def training_root(pretrained: Path) -> Path | None:
    """The training output dir above `.../checkpoints/<step>/pretrained_model`, when there is one."""
    checkpoint_dir = pretrained.parent if pretrained.name == "pretrained_model" else None
    if checkpoint_dir is not None and checkpoint_dir.parent.name == "checkpoints":
        return checkpoint_dir.parent.parent
    return None


def _check_target(target: Path, pretrained: Path) -> Path:
    resolved = target.resolve()
    if resolved == pretrained.resolve() or pretrained.resolve() in resolved.parents:
        raise BadInput(f"--to={target}: is the checkpoint itself or inside it; export to a new folder")
    if resolved.exists() and (not resolved.is_dir() or (any(resolved.iterdir())
                                                         and not (resolved / CONFIG_FILE).is_file())):
        raise BadInput(f"--to={target}: exists and is not an exported model folder; pick a new folder")
    return resolved


def _copy_model_files(pretrained: Path, staging: Path, report: ExportReport) -> dict[str, Any]:
    """Copy weights and JSON (scrubbed); return the original JSON content by file name."""
    secrets = known_secrets()
    originals: dict[str, Any] = {}
    for path in sorted(pretrained.iterdir()):
        if not path.is_file() or path.suffix not in COPIED_SUFFIXES:
            if path.name != README and not path.name.endswith(".png"):
                report.skipped.append(f"{path.name} (only JSON, safetensors and plots are exported)")
            continue
        if path.suffix == ".json":
            content = _read_json(path)
            originals[path.name] = content
            clean, changes = scrub_json(content, path.name, secrets)
            report.scrubbed += changes
            (staging / path.name).write_text(json.dumps(clean, indent=2) + "\n")
        else:
            shutil.copyfile(path, staging / path.name)
        report.files.append(path.name)
    return originals


def _copy_plots(folders: list[Path], staging: Path) -> list[str]:
    copied: list[str] = []
    for folder in folders:
        for path in sorted(folder.glob("*.png")):
            if path.name not in copied:
                shutil.copyfile(path, staging / path.name)
                copied.append(path.name)
    return sorted(copied, key=lambda name: ("loss" not in name, name))


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
