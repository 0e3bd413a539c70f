"""The SO101 robot specs: joints as LeRobot's SO follower names them, in its units (degrees, gripper 0-100).

Limits are the joint ranges of the SO-ARM100 model the simulator uses, measured from the middle of each
range, which is where LeRobot's calibration puts 0 degrees.
"""

from __future__ import annotations

from policyzoo import CameraSpec, JointSpec, RobotSpec

FPS = 30
MOTORS: dict[str, tuple[float, float]] = {
    "shoulder_pan": (-126.0, 126.0),
    "shoulder_lift": (-95.7, 95.7),
    "elbow_flex": (-90.0, 90.0),
    "wrist_flex": (-108.8, 108.8),
    "wrist_roll": (-180.0, 180.0),
    "gripper": (0.0, 100.0),
}
"""Motor name -> (lower, upper) in robot units, in LeRobot's motor order (ids 1-6)."""

SIDES = ("left", "right")
CAMERA_SIZE = (96, 96)
"""(height, width) of the default cameras: small, square (TD-MPC and VQ-BeT take square images)."""


def _joints(prefix: str = "") -> list[JointSpec]:
    return [
        JointSpec(
            name=f"{prefix}{motor}", unit="percent" if motor == "gripper" else "deg", lower=low, upper=high
        )
        for motor, (low, high) in MOTORS.items()
    ]


def _cameras(*names: str) -> list[CameraSpec]:
    height, width = CAMERA_SIZE
    return [CameraSpec(name=name, height=height, width=width, fps=FPS) for name in names]


SO101 = RobotSpec(
    type="so101",
    description="one SO101 arm (LeRobot so101_follower)",
    joints=_joints(),
    cameras=_cameras("front", "wrist"),
    fps=FPS,
    sim_task="lift",
)

# LeRobot's bi_so_follower prefixes every motor and every camera of an arm with `left_` / `right_`; these
# two are the fixed cameras of its bimanual recording example (a top camera on the left arm's config,
# a front camera on the right arm's).
SO101_BIMANUAL = RobotSpec(
    type="so101_bimanual",
    description="two SO101 arms, left and right (LeRobot bi_so_follower)",
    joints=[joint for side in SIDES for joint in _joints(f"{side}_")],
    cameras=_cameras("left_top", "right_front"),
    fps=FPS,
    sim_task="transfer",
)
