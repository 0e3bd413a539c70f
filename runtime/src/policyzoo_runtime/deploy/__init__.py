"""Running a policy on a robot: a fixed-rate control loop with an action-chunk queue.

Robot-agnostic: works with any `policyzoo_runtime.robot.RobotBackend` and `policyzoo.PolicyHandle`.
Imports numpy (and torch, through the predictor) when imported, so only deploy commands import it.
"""

from policyzoo_runtime.deploy.config import DeployConfig
from policyzoo_runtime.deploy.loop import run_loop
from policyzoo_runtime.deploy.report import DeployReport
from policyzoo_runtime.deploy.session import check_policy_fits, deploy, make_robot

__all__ = ["DeployConfig", "DeployReport", "check_policy_fits", "deploy", "make_robot", "run_loop"]
