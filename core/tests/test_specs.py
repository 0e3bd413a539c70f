"""Specs, features read from a dataset's info.json, and the compatibility check."""

import pytest
from pydantic import ValidationError

from policyzoo import CameraSpec, Features, JointSpec, Mismatch, PolicySpec, RobotSpec, check_compatibility

JOINTS = [
    f"{side}_{motor}"
    for side in ("left", "right")
    for motor in ("shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper")
]


def info_json(
    action_dim: int = 12, cameras: tuple[str, ...] = ("top", "front"), reward: bool = False
) -> dict:
    names = [f"{joint}.pos" for joint in JOINTS][:action_dim]
    features = {
        "observation.state": {"dtype": "float32", "shape": [action_dim], "names": names},
        "action": {"dtype": "float32", "shape": [action_dim], "names": names},
        "timestamp": {"dtype": "float32", "shape": [1], "names": None},
        "index": {"dtype": "int64", "shape": [1], "names": None},
        "task_index": {"dtype": "int64", "shape": [1], "names": None},
    }
    for camera in cameras:
        features[f"observation.images.{camera}"] = {
            "dtype": "video",
            "shape": [96, 128, 3],
            "names": ["height", "width", "channels"],
        }
    if reward:
        features["next.reward"] = {"dtype": "float32", "shape": [1], "names": None}
    return {"codebase_version": "v3.0", "fps": 30, "total_tasks": 1, "features": features}


def bimanual(cameras: tuple[str, ...] = ("top", "front")) -> RobotSpec:
    return RobotSpec(
        type="bimanual_test",
        joints=[
            JointSpec(name=name, unit="percent" if name.endswith("gripper") else "deg", lower=-100, upper=100)
            for name in JOINTS
        ],
        cameras=[CameraSpec(name=name, height=96, width=128) for name in cameras],
    )


class OneCameraSpec(PolicySpec):
    type = "one_camera"

    def check_features(self, features):
        if len(features.visual) != 1:
            return [
                Mismatch(
                    what="cameras",
                    problem=f"needs exactly one camera, got {len(features.visual)}",
                    fix="pick one with --policy.image_key",
                )
            ]
        return []


def test_features_from_info_reads_shapes_channel_first_and_names():
    features = Features.from_info(info_json(reward=True))
    assert features.state == {"observation.state": (12,)}
    assert features.action == {"action": (12,)}
    assert features.visual == {
        "observation.images.top": (3, 96, 128),
        "observation.images.front": (3, 96, 128),
    }
    assert features.has_reward and features.has_language
    assert features.action_names[0] == "left_shoulder_pan.pos" and features.fps == 30
    assert "timestamp" not in features.state and "index" not in features.state


def test_robot_features_match_what_a_dataset_recorded_on_it_has():
    assert bimanual().features().model_dump(exclude={"has_language"}) == Features.from_info(
        info_json()
    ).model_dump(exclude={"has_language"})


def test_compatibility_reports_every_mismatch_at_once():
    dataset = Features.from_info(info_json(action_dim=12, cameras=("top", "front", "wrist")))
    robot = RobotSpec(
        type="smaller", joints=bimanual().joints[:7], cameras=[CameraSpec(name="top", height=48, width=64)]
    )
    problems = check_compatibility(OneCameraSpec(), dataset, robot)
    text = "\n".join(str(p) for p in problems)
    assert "12 action dims, robot 'smaller' has 7" in text
    assert "12 state dims" in text
    assert "camera 'front'" in text and "camera 'wrist'" in text
    assert "96x128, the robot camera gives 48x64" in text
    assert "needs exactly one camera, got 3" in text
    assert len(problems) == 6


def test_compatible_data_and_robot_give_no_mismatch():
    assert (
        check_compatibility(PolicySpec.model_construct(), Features.from_info(info_json()), bimanual()) == []
    )


def test_data_without_action_is_reported():
    info = info_json()
    del info["features"]["action"]
    problems = check_compatibility(OneCameraSpec(), Features.from_info(info))
    assert any("no 'action' feature" in str(p) for p in problems)


@pytest.mark.parametrize(
    "field, value",
    [("device", "gpu"), ("optimizer_lr", 0), ("optimizer_lr", 2.0), ("use_amp", "maybe"), ("unknown", 1)],
)
def test_base_spec_rejects_bad_values(field, value):
    with pytest.raises(ValidationError):
        OneCameraSpec(**{field: value})


def test_base_spec_accepts_command_line_strings():
    spec = OneCameraSpec(device="cuda:1", use_amp="true", optimizer_lr="3e-4")
    assert spec.use_amp is True and spec.optimizer_lr == pytest.approx(3e-4) and spec.device == "cuda:1"


def test_joint_and_camera_names_give_lerobot_feature_names():
    robot = bimanual()
    assert robot.joint_names[0] == "left_shoulder_pan.pos" and robot.joint_names[-1] == "right_gripper.pos"
    assert robot.cameras[0].key == "observation.images.top"


def test_single_camera_spec_picks_the_first_camera_or_the_named_one():
    from policyzoo.spec import SingleCameraSpec

    class OneCam(SingleCameraSpec):
        type = "onecam"

    features = Features.from_info(info_json())
    assert OneCam().camera(features) == "observation.images.top"
    assert OneCam(image_key="front").camera(features) == "observation.images.front"
    [problem] = OneCam(image_key="frnt").check_features(features)
    assert "no such camera" in problem.problem and "Did you mean 'observation.images.front'?" in problem.fix


def test_wilson_interval_matches_known_values():
    from policyzoo_runtime.evaluation.sim import wilson_interval

    assert wilson_interval(0, 0) == (0.0, 1.0)
    low, high = wilson_interval(18, 20)  # 90%: 69.9% to 97.2%
    assert round(low, 3) == 0.699 and round(high, 3) == 0.972
    low, high = wilson_interval(0, 10)
    assert low == 0.0 and round(high, 3) == 0.278
    assert round(wilson_interval(10, 10)[1], 9) == 1.0


def test_sequence_settings_parse_from_lerobot_style_text():
    from pydantic import Field

    from policyzoo import PolicySpec

    class Cropped(PolicySpec):
        type = "cropped"
        crop_shape: tuple[int, int] | None = Field((84, 84))
        dims: tuple[int, ...] = Field((1, 2))

    assert Cropped(crop_shape="[96, 96]").crop_shape == (96, 96)  # as lerobot-train takes it
    assert Cropped(crop_shape="(64, 48)").crop_shape == (64, 48)
    assert Cropped(crop_shape="null").crop_shape is None
    assert Cropped(dims="[8,16,32]").dims == (8, 16, 32)
    with pytest.raises(ValueError, match="crop_shape"):
        Cropped(crop_shape="big")


def test_presets_are_validated_data():
    from policyzoo.card import TaskPresets, TrainingPreset

    preset = TrainingPreset(policy={"chunk_size": 20}, steps=100, batch_size=8, save_freq=50)
    assert TaskPresets(cpu=preset).at("cpu") == preset and TaskPresets(cpu=preset).at("gpu") is None
    with pytest.raises(ValueError, match="steps"):
        TrainingPreset(steps=0, batch_size=8, save_freq=50)
    with pytest.raises(ValueError, match="extra"):
        TrainingPreset(steps=1, batch_size=8, save_freq=1, lr=3)
