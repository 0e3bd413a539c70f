"""Adapter from LeRobot's policies to policyzoo's `PolicyHandle` / `PolicyFactory` contracts.

Imported only when a policy is built or loaded (it imports torch and LeRobot). A plugin for a LeRobot
policy type subclasses `LeRobotFactory`, sets `policy_type` and `spec_class`, and overrides the small
hooks documented there where its type needs it; runtime adaptations go in a `LeRobotHandle` subclass
named by the factory's `handle_class` (`HistoryHandle` for a type that reads past frames).
"""

from policyzoo_runtime.lerobot.convert import (
    features_from_config,
    policy_features,
    resolve_device,
    tensor_stats,
)
from policyzoo_runtime.lerobot.factory import LeRobotFactory
from policyzoo_runtime.lerobot.handle import LeRobotHandle
from policyzoo_runtime.lerobot.history import HistoryHandle

__all__ = [
    "HistoryHandle",
    "LeRobotFactory",
    "LeRobotHandle",
    "features_from_config",
    "policy_features",
    "resolve_device",
    "tensor_stats",
]
