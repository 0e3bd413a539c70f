"""policyzoo-runtime: train, evaluate, record, deploy and share policyzoo policies on LeRobot 0.6."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("policyzoo-runtime")
except PackageNotFoundError:  # running from a source tree
    __version__ = "0.0.0"
