"""policyzoo: a plugin-based registry of robot-learning policies built on LeRobot.

Importing this package never imports torch or LeRobot; model code is imported when a policy is built.
"""

from importlib.metadata import PackageNotFoundError, version

from policyzoo.api import build_policy, get_spec, list_policies, load_policy
from policyzoo.card import Bench, Guide, PolicyCard, Source
from policyzoo.errors import BadInput
from policyzoo.features import Features, Mismatch, check_compatibility
from policyzoo.handle import PolicyFactory, PolicyHandle
from policyzoo.hookspecs import TrainRun, hookimpl
from policyzoo.plugins import CONTRACT_VERSION
from policyzoo.spec import CameraSpec, JointSpec, PolicySpec, RobotSpec

try:
    __version__ = version("policyzoo")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "CONTRACT_VERSION",
    "BadInput",
    "Bench",
    "CameraSpec",
    "Features",
    "Guide",
    "JointSpec",
    "Mismatch",
    "PolicyCard",
    "PolicyFactory",
    "PolicyHandle",
    "PolicySpec",
    "RobotSpec",
    "Source",
    "TrainRun",
    "__version__",
    "build_policy",
    "check_compatibility",
    "get_spec",
    "hookimpl",
    "list_policies",
    "load_policy",
]
