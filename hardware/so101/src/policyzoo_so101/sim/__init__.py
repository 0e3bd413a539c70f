"""The MuJoCo simulator backend (needs `pip install 'policyzoo-so101[sim]'`)."""

from policyzoo_so101.sim.robot import SimSO101

__all__ = ["SimSO101"]
