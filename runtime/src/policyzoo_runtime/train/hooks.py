"""The lifecycle hooks of a run (`on_train_start`, `on_train_step`, `on_checkpoint_saved`, `on_train_end`):
called on the main process only, each plugin on its own (`Plugins.call`: a failing logger is recorded and
warned about once, and the run goes on)."""

from __future__ import annotations

from typing import Any

from policyzoo.plugins import get_plugins
from policyzoo_runtime.train.progress import warn


def emit(main: bool, hook: str, **kwargs: Any) -> None:
    """Call every implementation of the lifecycle hook `hook` when this is the main process."""
    if main:
        get_plugins().call(hook, warn=warn, **kwargs)
