"""`policyzoo calibrate` (LeRobot's calibration of each arm) and `policyzoo deploy` (run a policy on a robot)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

import click

from policyzoo.cli.base import dotted_command, fail
from policyzoo.errors import BadInput
from policyzoo.flags import Flags, parse_bool, whole_positive

REAL_MAX_STEP = 5.0
"""Default largest change of a joint target per tick on the real robot (degrees, or percent of the gripper)."""


@click.group()
def _commands() -> None:
    """Not a command: `dotted_command` needs a group; the top-level CLI imports `calibrate` and `deploy`."""


T = TypeVar("T")


def _optional(parse: Callable[[str], T]) -> Callable[[str], T | None]:
    """`parse`, with none/off/false meaning None."""
    return lambda text: None if text.strip().lower() in ("none", "off", "false") else parse(text)


def _positive(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise ValueError("must be finite and > 0")
    return value


def _non_negative(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError("must be finite and >= 0")
    return value


@dotted_command(_commands, "calibrate")
def calibrate(flags: Flags) -> None:
    """Calibrate the real robot's arms with LeRobot (files where LeRobot keeps them; existing ones are offered).

    --robot.type=so101_bimanual --robot.left_port=PORT --robot.right_port=PORT [--robot.id=NAME]
    (one arm: --robot.type=so101 --robot.port=PORT --robot.id=NAME)
    """
    from policyzoo.deploy.session import make_robot

    robot_flags = flags.section("robot", known=("type", "port", "left_port", "right_port", "id"))
    flags.finish()
    robot_type = robot_flags.pop("type", None)
    if robot_type is None:
        raise BadInput(
            "--robot.type: required, e.g. --robot.type=so101_bimanual (see: policyzoo robots list)"
        )
    if robot_flags.pop("backend", "real") != "real":
        raise BadInput("--robot.backend: calibrate works on the real robot only; leave it out")
    robot = make_robot(robot_type, "real", robot_flags)
    run = getattr(robot, "calibrate", None)
    if run is None:
        raise BadInput(f"--robot.type={robot_type}: its real backend has no calibration step")
    for path in run():
        click.echo(f"calibration: {path}")


@dotted_command(_commands, "deploy")
def deploy(flags: Flags) -> None:
    """Run a trained policy on a robot at a fixed rate, then print (and optionally save) a report.

    --policy.path=DIR_OR_REPO [--policy.device=cpu] --robot.type=so101_bimanual --robot.backend=sim|real
    [--robot.left_port=... --robot.right_port=...] [--fps=30] [--task "..."] [--duration_s=S]
    [--async=true] [--chunk_threshold=0.5] [--temporal_ensemble=0.01] [--n_action_steps=N]
    [--max_relative_target=DEG (default 5 on the real robot, none in the simulator)]
    [--inference_threads=N (default: all cores but one with --async)] [--seed=N] [--report=FILE.json]
    """
    from policyzoo.api import load_policy
    from policyzoo.deploy import DeployConfig
    from policyzoo.deploy.session import deploy as run_deploy
    from policyzoo.deploy.session import make_robot

    policy = flags.section("policy", known=("path", "device"))
    robot_flags = flags.section("robot", known=("type", "backend"))
    fps = flags.take("fps", whole_positive, help_value="a whole number >= 1")
    task = flags.take("task", default="")
    duration = flags.take("duration_s", _positive, help_value="a finite number of seconds > 0")
    use_async = flags.take("async", parse_bool, default=False)
    threshold = flags.take("chunk_threshold", float, default=0.5)
    ensemble = flags.take(
        "temporal_ensemble", _optional(_non_negative), default="policy", help_value="a finite number >= 0 or none"
    )
    steps = flags.take("n_action_steps", whole_positive, help_value="a whole number >= 1")
    max_step = flags.take(
        "max_relative_target", _optional(_positive), default="default", help_value="a finite number > 0 or none"
    )
    threads = flags.take("inference_threads", whole_positive, help_value="a whole number >= 1")
    seed = flags.take("seed", int)
    report_path = flags.take("report", Path)
    flags.finish()

    path = policy.pop("path", None)
    device = policy.pop("device", None)
    for name in policy:
        raise BadInput(f"--policy.{name}: deploy takes --policy.path and --policy.device")
    if not path:
        raise BadInput("--policy.path: required; a saved policy folder, a training output or a Hub repo id")
    robot_type = robot_flags.pop("type", None) or _checkpoint_robot(path)
    backend = robot_flags.pop("backend", "sim")
    if max_step == "default":
        max_step = REAL_MAX_STEP if backend == "real" else None
    robot = make_robot(robot_type, backend, robot_flags)
    try:
        config = DeployConfig(
            fps=fps or robot.spec.fps,
            duration_s=duration,
            async_inference=use_async,
            chunk_threshold=threshold,
            temporal_ensemble=None if ensemble == "policy" else ensemble,
            n_action_steps=steps,
            max_relative_target=max_step,
            inference_threads=threads,
            task=task or getattr(robot, "task", ""),
        )
    except ValueError as exc:
        raise BadInput(f"deploy: {exc}") from None
    handle = load_policy(path, device=device)
    if ensemble == "policy":  # an ACT configured with temporal ensembling keeps it
        try:
            config = replace(config, temporal_ensemble=getattr(handle.spec, "temporal_ensemble_coeff", None))
        except ValueError as exc:
            raise BadInput(f"--policy.path={path}: {exc}") from None
    if seed is not None and hasattr(robot, "reset"):
        robot.reset(seed=seed)
    if duration is None:
        click.echo("running until Ctrl-C", err=True)
    report = run_deploy(handle, robot, config, name=f"--policy.path={path}")
    if hasattr(robot, "success"):
        report.success = bool(robot.success())
    for line in report.lines():
        click.echo(line)
    if report_path is not None:
        report.write(report_path)
        click.echo(f"wrote {report_path}")
    if not report.ok:
        fail(report.stop_reason, code=1)


def _checkpoint_robot(path: str) -> str:
    from policyzoo.checkpoint import read_meta, resolve_pretrained

    meta = read_meta(resolve_pretrained(path))
    if meta is None or meta.robot is None:
        raise BadInput(
            "--robot.type: required (the checkpoint names no robot), e.g. --robot.type=so101_bimanual"
        )
    return meta.robot.type
