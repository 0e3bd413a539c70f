"""policyzoo plugin for the SO101: robot specs, backends and the embedded sample dataset.

This entry module stays light: the simulator (mujoco) and the real backend (Feetech SDK) are imported
only when a backend is built.
"""

from __future__ import annotations

from importlib.resources import files

from policyzoo import hookimpl
from policyzoo_so101.specs import SO101, SO101_BIMANUAL

POLICYZOO_CONTRACT = 1
BACKENDS = {"sim": "policyzoo_so101.sim:SimSO101", "real": "policyzoo_so101.real:RealSO101"}
LEADER = "policyzoo_so101.real.leader:LeaderSO101"
SAMPLE_REPO_ID = "policyzoo/so101_bimanual_transfer_cube_sample"
SAMPLES = {
    None: (SAMPLE_REPO_ID, "sample_data"),
    "lift": ("policyzoo/so101_lift_cube_sample", "sample_lift"),
}
"""Task (None: the default) -> (repo id, folder in this package) of the embedded samples."""


@hookimpl
def register_robots(register):
    register(SO101, backends=BACKENDS)
    register(SO101_BIMANUAL, backends=BACKENDS)


@hookimpl
def register_teleoperators(register):
    """LeRobot's SO101 leader arm, alone or as the bimanual pair."""
    for robot in (SO101, SO101_BIMANUAL):
        register(f"{robot.type}_leader", robot=robot.type, factory=LEADER)


@hookimpl
def sample_dataset(task):
    """A sample recorded in the simulator by the scripted expert, shipped with this package."""
    if task not in SAMPLES:
        return None
    repo_id, folder = SAMPLES[task]
    return repo_id, str(files("policyzoo_so101") / folder)
