"""The specs against LeRobot's own SO101 follower classes (constructed, never connected)."""

from lerobot.cameras.opencv import OpenCVCameraConfig
from lerobot.robots.bi_so_follower import BiSOFollower, BiSOFollowerConfig
from lerobot.robots.so_follower import SOFollowerConfig
from lerobot.utils.feature_utils import hw_to_dataset_features

from policyzoo.registry import get_registry
from policyzoo_runtime.record.sim import dataset_features
from policyzoo_so101.specs import SO101_BIMANUAL


def _camera(spec_name: str) -> OpenCVCameraConfig:
    camera = next(c for c in SO101_BIMANUAL.cameras if c.name == spec_name)
    return OpenCVCameraConfig(index_or_path=0, width=camera.width, height=camera.height, fps=camera.fps)


def test_bimanual_features_match_lerobot_bi_so_follower(tmp_path):
    config = BiSOFollowerConfig(
        id="pair",
        calibration_dir=tmp_path,
        left_arm_config=SOFollowerConfig(port="/dev/null", cameras={"top": _camera("left_top")}),
        right_arm_config=SOFollowerConfig(port="/dev/null", cameras={"front": _camera("right_front")}),
    )
    robot = BiSOFollower(config)
    expected = {
        **hw_to_dataset_features(robot.observation_features, "observation", use_video=True),
        **hw_to_dataset_features(robot.action_features, "action", use_video=True),
    }
    ours = dataset_features(SO101_BIMANUAL, use_videos=True)
    for key, feature in expected.items():
        assert key in ours, key
        assert ours[key]["dtype"] == feature["dtype"]
        assert tuple(ours[key]["shape"]) == tuple(feature["shape"])
        assert ours[key]["names"] == feature["names"]
    assert SO101_BIMANUAL.joint_names == list(robot.action_features)


def test_both_robots_registered_with_backends():
    robots = get_registry().robots
    assert robots["so101"].backends["sim"] == "policyzoo_so101.sim:SimSO101"
    assert [j.name for j in robots["so101"].spec.joints][-1] == "gripper"
    assert robots["so101_bimanual"].spec.fps == 30
    assert {j.unit for j in robots["so101_bimanual"].spec.joints} == {"deg", "percent"}
