"""The real SO101 backend (LeRobot's Feetech followers); needs `pip install 'policyzoo-so101[real]'`."""

from policyzoo_so101.real.backend import RealSO101

__all__ = ["RealSO101"]
