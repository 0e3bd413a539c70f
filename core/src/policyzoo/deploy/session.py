"""One deploy run end to end: load the policy, check it fits the robot, connect, loop, disconnect."""

from __future__ import annotations

from pathlib import Path

from policyzoo.deploy.config import DeployConfig
from policyzoo.deploy.loop import run_loop
from policyzoo.deploy.report import DeployReport
from policyzoo.errors import BadInput
from policyzoo.handle import PolicyHandle
from policyzoo.robot import RobotBackend
from policyzoo.specs import Mismatch, RobotSpec, check_compatibility


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


def make_robot(robot_type: str, backend: str, options: dict[str, str]) -> RobotBackend:
    """A registered robot's backend, constructed with the `--robot.*` options (not connected)."""
    from policyzoo.registry import get_registry

    entry = get_registry().robot(robot_type)
    return entry.load_backend(backend)(entry.spec, options)


def deploy(
    policy: PolicyHandle | str | Path,
    robot: RobotBackend,
    config: DeployConfig,
    device: str | None = None,
    name: str | None = None,
) -> DeployReport:
    """Run `policy` (a handle, or a path / Hub id to load) on `robot`; connects and always disconnects."""
    from policyzoo.api import load_policy

    if isinstance(policy, str | Path):
        name = name or f"--policy.path={policy}"
        policy = load_policy(policy, device=device)
    check_policy_fits(policy, robot.spec, name or "the policy")
    robot.connect()
    try:
        return run_loop(robot, policy, config)
    finally:
        robot.disconnect()
