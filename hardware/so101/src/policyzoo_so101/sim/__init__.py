"""The MuJoCo simulator backend (needs `pip install 'policyzoo-so101[sim]'`)."""

import os

# Off-screen rendering without a display; must be set before mujoco is imported. A user's choice wins.
os.environ.setdefault("MUJOCO_GL", "egl")

from policyzoo_so101.sim.robot import SimSO101

__all__ = ["SimSO101"]
