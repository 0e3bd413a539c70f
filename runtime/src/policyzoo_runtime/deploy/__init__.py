"""Running a policy on a robot: a fixed-rate control loop with an action-chunk queue.

Robot-agnostic: works with any `policyzoo_runtime.robot.RobotBackend` and `policyzoo.PolicyHandle`.
Each name below imports its module when first used: `DeployConfig` comes without torch (`policyzoo deploy`
checks its flags before torch loads); the others import numpy and torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from policyzoo_runtime.deploy.config import DeployConfig
    from policyzoo_runtime.deploy.loop import run_loop
    from policyzoo_runtime.deploy.report import DeployReport
    from policyzoo_runtime.deploy.session import check_policy_fits, deploy, make_robot

_MODULES = {
    "DeployConfig": "config",
    "run_loop": "loop",
    "DeployReport": "report",
    "check_policy_fits": "session",
    "deploy": "session",
    "make_robot": "session",
}
__all__ = ["DeployConfig", "DeployReport", "check_policy_fits", "deploy", "make_robot", "run_loop"]


def __getattr__(name: str) -> Any:
    if name not in _MODULES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_MODULES[name]}"), name)
