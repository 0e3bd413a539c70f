"""One deploy run end to end: load the policy, check it fits the robot, connect, loop, disconnect."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError

from policyzoo.capabilities import ChunkingSpec
from policyzoo.errors import BadInput
from policyzoo.features import Mismatch, check_compatibility
from policyzoo.handle import PolicyHandle
from policyzoo.interrupts import sigterm_as_interrupt
from policyzoo.spec import PolicySpec, RobotSpec
from policyzoo_runtime.deploy.config import DeployConfig
from policyzoo_runtime.deploy.loop import run_loop
from policyzoo_runtime.deploy.report import DeployReport
from policyzoo_runtime.robot import RobotBackend, make_robot

__all__ = ["check_action_steps", "check_policy_fits", "deploy", "make_robot"]


def check_policy_fits(policy: PolicyHandle, robot: RobotSpec, name: str = "the policy") -> None:
    """Raise BadInput, in one line, for every way the policy's inputs and outputs differ from the robot."""
    features = policy.features
    problems = check_compatibility(policy.spec, features, robot)
    for kind, names in (("action", features.action_names), ("observation.state", features.state_names)):
        if names and len(names) == len(robot.joints) and list(names) != robot.joint_names:
            problems.append(
                Mismatch(
                    what=kind,
                    problem=f"joints are {', '.join(names)}; robot "
                    f"'{robot.type}' has {', '.join(robot.joint_names)}",
                    fix="deploy on the robot the policy was trained for",
                )
            )
    if problems:
        raise BadInput(f"{name} does not fit robot '{robot.type}': " + "; ".join(str(p) for p in problems))


def check_action_steps(spec: PolicySpec, steps: int | None) -> None:
    """Raise BadInput when the policy cannot execute `steps` actions per chunk; its spec's own checks
    (e.g. n_action_steps <= chunk_size) decide, else its fixed `n_action_steps` is the most."""
    if steps is None:
        return
    if "n_action_steps" in type(spec).model_fields:
        try:
            type(spec).model_validate({**spec.model_dump(), "n_action_steps": steps})
        except ValidationError as exc:
            message = exc.errors()[0]["msg"].removeprefix("Value error, ")
            raise BadInput(f"--n_action_steps={steps}: {message} ({spec.type})") from None
    elif isinstance(spec, ChunkingSpec) and steps > spec.n_action_steps:
        raise BadInput(
            f"--n_action_steps={steps}: {spec.type} predicts {spec.n_action_steps} actions per chunk; "
            f"use at most that"
        )


def deploy(
    policy: PolicyHandle | str | Path,
    robot: RobotBackend,
    config: DeployConfig,
    device: str | None = None,
    name: str | None = None,
    status: Callable[[DeployReport], None] | None = None,
) -> DeployReport:
    """Run `policy` (a handle, or a path / Hub id to load) on `robot`; connects and always disconnects.
    `status(report)` follows every tick (e.g. a `policyzoo_runtime.deploy.status.StatusLine`).

    SIGTERM stops the run as Ctrl-C does: the loop reports it and the robot is disconnected.
    """
    from policyzoo.api import load_policy

    if isinstance(policy, str | Path):
        name = name or f"--policy.path={policy}"
        policy = load_policy(policy, device=device)
    check_policy_fits(policy, robot.spec, name or "the policy")
    check_action_steps(policy.spec, config.n_action_steps)
    with sigterm_as_interrupt():
        robot.connect()
        try:
            return run_loop(robot, policy, config, status=status)
        finally:
            robot.disconnect()
