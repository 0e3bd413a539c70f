"""The hooks a policyzoo plugin can implement. Mark implementations with `policyzoo.hookimpl`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from policyzoo.spec import PolicySpec

hookspec = pluggy.HookspecMarker("policyzoo")
hookimpl = pluggy.HookimplMarker("policyzoo")


@hookspec
def register_policies(register):
    """Add policy types: call `register(spec_class, card, factory="module:object")` once per type."""


@hookspec
def register_robots(register):
    """Add robots: call `register(robot_spec, backends={"sim": "module:object", ...})` once per robot."""


@hookspec
def register_teleoperators(register):
    """Add leader devices for recording: call `register(type, robot="ROBOT TYPE", factory="module:object")` once
    per device; the factory takes (robot spec, `--teleop.*` options) and returns a `policyzoo_runtime.teleop.Teleoperator`."""


@hookspec(firstresult=True)
def sample_dataset(task):
    """Return (repo_id, local root) of a small embedded dataset, or None if you have none for `task`.

    `task=None` asks for the default sample, which `train` uses when given no --dataset flags; a simulator
    task name (`RobotSpec.sim_task`, e.g. 'lift') asks for a sample of that task (`policyzoo demo` trains on it).
    """


@hookspec
def register_commands(cli):
    """Add sub-commands to the `policyzoo` click group `cli`: `cli.add_command(command)`, or
    `cli.add_lazy_commands({name: ("module", "attribute")})` to import a command's module only when it runs."""


@hookspec
def on_train_start(run):
    """Training is about to start; `run` is a `policyzoo.TrainRun` (output dir, spec, flags)."""


@hookspec
def on_train_step(run, step, metrics):
    """Called every `log_freq` steps with a dict of floats (loss, grad_norm, lr, update_s, data_s)."""


@hookspec
def on_checkpoint_saved(run, step, path):
    """A checkpoint for `step` is complete at `path`."""


@hookspec
def on_train_end(run, summary):
    """Training finished (or stopped); `summary` is the dict written to policyzoo.json."""


@hookspec
def model_card_sections(meta):
    """Return markdown text to add to an exported model card; `meta` is the checkpoint's policyzoo.json."""


@dataclass
class TrainRun:
    """One `policyzoo train` run, as passed to the `on_train_*` hooks."""

    output_dir: Path
    spec: PolicySpec
    dataset_repo_id: str | None
    steps: int
    batch_size: int
    start_step: int = 0
    flags: dict[str, Any] = field(default_factory=dict)
    """The resolved training configuration (`train_config.json`)."""

    @property
    def policy_type(self) -> str:
        return self.spec.type
