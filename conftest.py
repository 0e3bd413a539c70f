"""Test set-up shared by every package: offline Hugging Face, temp homes, test plugins, in-process plugins."""

from __future__ import annotations

import atexit
import importlib.metadata
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pytest depends on tomli before Python 3.11
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent
TEST_PLUGIN_PROJECTS = (ROOT / "tests" / "plugins" / "tinyzoo", ROOT / "examples" / "mlp_bc")
"""Plugins only the tests see: found through real entry points, never installed into the user's .venv."""
TEST_PLUGIN_SITE_VARIABLE = "POLICYZOO_TEST_PLUGIN_SITE"


def _write_dist_info(site: Path, project: Path) -> None:
    """What an installer would write for `project`: METADATA and entry_points.txt, from its pyproject.toml."""
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    name, version = metadata["name"], metadata["version"]
    dist_info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    groups = metadata.get("entry-points", {})
    (dist_info / "entry_points.txt").write_text(
        "".join(
            f"[{group}]\n" + "".join(f"{key} = {value}\n" for key, value in entries.items()) + "\n"
            for group, entries in groups.items()
        )
    )


def plugin_paths_for_tests() -> list[str]:
    """The folders that make the test plugins visible: their dist-info site, then their sources."""
    site = os.environ.get(TEST_PLUGIN_SITE_VARIABLE)
    if not site or not Path(site, ".complete").is_file():  # this process is the first (xdist workers inherit)
        site = tempfile.mkdtemp(prefix="policyzoo-tests-plugins-")
        atexit.register(shutil.rmtree, site, ignore_errors=True)  # the creator outlives the xdist workers
        for project in TEST_PLUGIN_PROJECTS:
            name = tomllib.loads((project / "pyproject.toml").read_text())["project"]["name"]
            try:
                importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                _write_dist_info(Path(site), project)
            # else: left in the venv by an older `make test` (which now uninstalls it); a second dist-info
            # would load it twice, and test_test_plugins_stay_out_of_the_venv says what to do.
        Path(site, ".complete").touch()
        os.environ[TEST_PLUGIN_SITE_VARIABLE] = site
    return [site, *(str(project / "src") for project in TEST_PLUGIN_PROJECTS)]


def _expose_test_plugins() -> None:
    """Put the test plugins on sys.path and PYTHONPATH: this session and its subprocesses see them."""
    paths = plugin_paths_for_tests()
    sys.path.extend(path for path in paths if path not in sys.path)
    current = [path for path in os.environ.get("PYTHONPATH", "").split(os.pathsep) if path]
    os.environ["PYTHONPATH"] = os.pathsep.join([*(p for p in paths if p not in current), *current])


_expose_test_plugins()

os.environ["HF_HUB_OFFLINE"] = "1"
# Two pytest-xdist workers share two cores: more threads per worker only thrash.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MUJOCO_GL", "egl")
os.environ["WANDB_MODE"] = "offline"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
for _token_variable in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
    os.environ.pop(_token_variable, None)
# huggingface_hub reads HF_HOME once, at import: point it at a temp folder before anything imports it.
os.environ["HF_HOME"] = tempfile.mkdtemp(prefix="policyzoo-tests-hf-")
os.environ["HF_LEROBOT_HOME"] = tempfile.mkdtemp(prefix="policyzoo-tests-lerobot-")
# torchvision's weights cache (ImageNet backbones): empty, so a user's cache never changes what a test builds.
os.environ["TORCH_HOME"] = tempfile.mkdtemp(prefix="policyzoo-tests-torch-")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow tests first. `make test` keeps this order (`--no-loadscope-reorder`): the two workers start on the
    long modules and share out the many short ones at the end, rather than one worker finishing a long module
    alone while the other idles."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _isolated_homes(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point HF_HOME (cache and token), LeRobot's home and W&B at a temp folder for every test."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HF_HOME", str(home / "hf"))
    monkeypatch.setenv("HF_LEROBOT_HOME", str(home / "lerobot"))
    monkeypatch.setenv("WANDB_DIR", str(home / "wandb"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    constants = sys.modules.get("huggingface_hub.constants")
    if constants is not None:
        monkeypatch.setattr(constants, "HF_HOME", str(home / "hf"))
        monkeypatch.setattr(constants, "HF_HUB_CACHE", str(home / "hf" / "hub"))
        monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "hf" / "token"))
        monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "hf" / "stored_tokens"))
    # transformers 5 reads the cache path from huggingface_hub.constants when it looks a file up


@pytest.fixture
def register_plugin() -> Iterator[Callable[..., bool]]:
    """Register plugin objects in-process for one test; everything is undone afterwards."""
    from policyzoo.plugins import get_plugins
    from policyzoo.registry import reset_registry

    plugins = get_plugins()
    problems_before = list(plugins.problems)
    added: list[str] = []

    def register(plugin: object, name: str, distribution: str = "(in-process)") -> bool:
        added.append(name)
        loaded = plugins.add(plugin, name, distribution, "0.0.0")
        reset_registry()
        return loaded

    yield register
    for name in added:
        if name in plugins.info:
            plugins.remove(name)
    plugins.problems[:] = problems_before
    reset_registry()


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str, str]]:
    """Run `policyzoo ARGS` in-process: (exit code, stdout, stderr)."""
    from policyzoo.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        out, err = capsys.readouterr()
        return code, out, err

    return run


@pytest.fixture(scope="session")
def python_bin() -> Path:
    return Path(sys.executable)


@pytest.fixture
def plain_env() -> dict[str, str]:
    """os.environ as a user's shell has it: without the test plugins on PYTHONPATH (for subprocesses)."""
    hidden = set(plugin_paths_for_tests())
    env = {key: value for key, value in os.environ.items() if key != TEST_PLUGIN_SITE_VARIABLE}
    kept = [path for path in env.get("PYTHONPATH", "").split(os.pathsep) if path and path not in hidden]
    if kept:
        env["PYTHONPATH"] = os.pathsep.join(kept)
    else:
        env.pop("PYTHONPATH", None)
    return env


def write_tiny_dataset(
    root: Path,
    episodes: int = 4,
    frames: int = 40,
    size: int = 48,
    cameras: tuple[str, ...] = ("top", "wrist"),
    joints: int = 6,
    offset: float = 0.0,
) -> Path:
    """A small learnable LeRobot v3 dataset (waves around `offset` to follow, two square cameras, rewards),
    no videos."""
    import numpy as np
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    names = [f"joint{i}.pos" for i in range(joints)]
    features: dict = {
        "observation.state": {"dtype": "float32", "shape": (joints,), "names": names},
        "action": {"dtype": "float32", "shape": (joints,), "names": names},
        "next.reward": {"dtype": "float32", "shape": (1,), "names": None},
    }
    for camera in cameras:
        features[f"observation.images.{camera}"] = {
            "dtype": "image",
            "shape": (size, size, 3),
            "names": ["height", "width", "channels"],
        }
    dataset = LeRobotDataset.create(
        "test/tiny", fps=10, features=features, root=root, robot_type="test", use_videos=False
    )
    rng = np.random.default_rng(0)
    for _ in range(episodes):
        phase = rng.uniform(0, 2 * np.pi, joints)
        for t in range(frames):
            state = (offset + np.sin(phase + 0.2 * t)).astype(np.float32)
            action = (offset + np.sin(phase + 0.2 * (t + 1))).astype(np.float32)
            frame = {
                "observation.state": state,
                "action": action,
                "task": "follow the wave",
                "next.reward": np.array([-np.abs(action - state).sum()], np.float32),
            }
            for index, camera in enumerate(cameras):
                image = np.zeros((size, size, 3), np.uint8)
                image[..., index % 3] = int(127 + 120 * (state[0] - offset))
                image[: size // 2, :, 2] = int(127 + 120 * (state[1] - offset))
                frame[f"observation.images.{camera}"] = image
            dataset.add_frame(frame)
        dataset.save_episode()
    dataset.finalize()
    return root


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`write_tiny_dataset` once per session: 4 episodes x 40 frames, 6 joints, cameras top and wrist."""
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny-dataset") / "data")


@pytest.fixture(scope="session")
def tiny_dataset_other_names(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As `tiny_dataset` recorded elsewhere: 2 episodes, cameras front and side, joints waving around 2."""
    return write_tiny_dataset(
        tmp_path_factory.mktemp("tiny-dataset-other-names") / "data",
        episodes=2,
        cameras=("front", "side"),
        offset=2.0,
    )


@pytest.fixture(scope="session")
def tiny_dataset_seven_joints(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As `tiny_dataset` with 7 joints (one episode of 12 frames), in a folder named `seven`."""
    return write_tiny_dataset(
        tmp_path_factory.mktemp("seven-joints") / "seven", episodes=1, frames=12, joints=7
    )


@pytest.fixture(scope="session")
def tiny_dataset_one_camera(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """As `tiny_dataset`, with the top camera only."""
    return write_tiny_dataset(tmp_path_factory.mktemp("tiny-dataset-one-camera") / "data", cameras=("top",))
