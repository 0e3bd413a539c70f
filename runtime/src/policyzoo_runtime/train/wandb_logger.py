"""Weights & Biases logging as a lifecycle-hook implementation, registered by `--wandb.enable=true`."""

from __future__ import annotations

import netrc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from policyzoo.hookspecs import hookimpl
from policyzoo.plugins import get_plugins
from policyzoo_runtime.train.config import TrainConfig
from policyzoo_runtime.train.progress import say

NAME = "policyzoo-wandb"
RUN_ID_FILE = "wandb_run_id.txt"


class WandbLogger:
    """Logs every training row and the final summary to one W&B run; a resumed run continues the same run."""

    def __init__(
        self, project: str, entity: str | None = None, mode: str | None = None, notes: str | None = None
    ) -> None:
        self.project, self.entity, self.mode, self.notes = project, entity, mode, notes
        self.run: Any = None

    @hookimpl
    def on_train_start(self, run: Any) -> None:
        import wandb

        id_file = Path(run.output_dir) / RUN_ID_FILE
        run_id = id_file.read_text().strip() if id_file.is_file() else wandb.util.generate_id()
        id_file.write_text(run_id + "\n")
        self.run = wandb.init(
            project=self.project,
            entity=self.entity,
            mode=self.mode,
            notes=self.notes,
            id=run_id,
            resume="allow",
            name=Path(run.output_dir).name,
            dir=str(run.output_dir),
            config=run.flags,
            job_type="train",
            tags=[run.policy_type],
        )

    @hookimpl
    def on_train_step(self, step: int, metrics: dict[str, float]) -> None:
        self.run.log({f"train/{key}": value for key, value in metrics.items() if key != "step"}, step=step)

    @hookimpl
    def on_checkpoint_saved(self, step: int, path: Path) -> None:
        self.run.summary["checkpoint_step"] = step
        self.run.summary["checkpoint"] = str(path)

    @hookimpl
    def on_train_end(self, summary: dict[str, Any]) -> None:
        self.run.summary.update({key: value for key, value in summary.items() if value is not None})
        self.run.finish()


@contextmanager
def wandb_logging(config: TrainConfig, main: bool) -> Iterator[None]:
    """With `--wandb.enable=true`, a `WandbLogger` is a registered plugin for the duration of the run (main
    process only)."""
    if not (config.wandb_enable and main):
        yield
        return
    plugins = get_plugins()
    plugins.add(
        WandbLogger(config.wandb_project, config.wandb_entity, run_mode(config), config.wandb_notes), NAME
    )
    try:
        yield
    finally:
        plugins.remove(NAME)


def logged_in() -> bool:
    """Whether W&B has credentials (WANDB_API_KEY, an identity token or ~/.netrc), without the network."""
    if os.environ.get("WANDB_API_KEY") or os.environ.get("WANDB_IDENTITY_TOKEN_FILE"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL") or "https://api.wandb.ai").hostname or "api.wandb.ai"
    try:
        return netrc.netrc(os.environ.get("NETRC") or None).authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def run_mode(config: TrainConfig) -> str | None:
    """`--wandb.mode`; offline, said once, where the run would go online without a W&B login."""
    mode = config.wandb_mode or os.environ.get("WANDB_MODE")
    if mode in (None, "", "online", "run") and not logged_in():
        say(
            "warning: --wandb.enable=true without a W&B login (wandb login, or WANDB_API_KEY): logging offline "
            "into the run's wandb/ folder; upload it later with: wandb sync OUTPUT_DIR/wandb/offline-run-*",
            err=True,
        )
        return "offline"
    return config.wandb_mode
