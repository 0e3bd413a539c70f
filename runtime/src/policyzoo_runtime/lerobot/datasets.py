"""LeRobot's datasets: opening one for training, fetching a Hub dataset's metadata, creating a new one."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Protocol

from policyzoo.errors import BadInput
from policyzoo_runtime.quiet import quiet_lerobot


class DatasetOptions(Protocol):
    """What `open_dataset` reads of a run's settings (`policyzoo_runtime.train.config.TrainConfig` has it)."""

    dataset_episodes: list[int] | None
    dataset_revision: str | None
    video_backend: str
    tolerance_s: float


def delta_timestamps(delta_indices: dict[str, list[int]], fps: int, keys: set[str]) -> dict[str, list[float]]:
    """Frame offsets as seconds, for the keys the dataset has."""
    return {key: [index / fps for index in indices] for key, indices in delta_indices.items() if key in keys}


def open_dataset(
    place: Any,
    delta_indices: dict[str, list[int]],
    image_transforms: Any = None,
    config: DatasetOptions | None = None,
) -> Any:
    """The LeRobotDataset at `place` (`repo_id`, `root`, `info`: a `policyzoo_runtime.train.prepare.DatasetPlace`),
    yielding the past/future frames the policy asks for, its camera images passed through `image_transforms`
    (LeRobot's `ImageTransforms`, or None); `config` picks the episodes, revision, video backend and timestamp
    tolerance as LeRobot's `--dataset.*` and `--tolerance_s` flags do (None: all episodes, LeRobot's defaults)."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    # LeRobot decodes videos with PyAV through torchvision, which warns about its own future on every run.
    warnings.filterwarnings("ignore", message="The video decoding and encoding capabilities of torchvision")
    fps = int(place.info["fps"])
    timestamps = delta_timestamps(delta_indices, fps, set(place.info.get("features", {})))
    options: dict[str, Any] = {"video_backend": "pyav"}
    if config is not None:
        options.update(
            episodes=config.dataset_episodes,
            revision=config.dataset_revision,
            video_backend=config.video_backend,
            tolerance_s=config.tolerance_s,
        )
    try:
        with quiet_lerobot():
            return LeRobotDataset(
                place.repo_id,
                root=place.root,
                delta_timestamps=timestamps or None,
                image_transforms=image_transforms,
                **options,
            )
    except Exception as exc:  # LeRobot raises many types for a broken or partial dataset
        raise unreadable(place, exc) from None


def unreadable(place: Any, exc: Exception) -> BadInput:
    """What to say when LeRobot cannot open the dataset at `place`. A local folder's problem is its own files,
    named by `policyzoo_runtime.dataset_check` where it can; never the network, which LeRobot reaches for when it
    finds a file missing."""
    from policyzoo_runtime.dataset_check import check_files
    from policyzoo_runtime.datasets import lerobot_home

    cause = _innermost(exc)
    what = f"{type(cause).__name__}: {' '.join(str(cause).split())[:200]}"
    if Path(place.root).resolve() == (lerobot_home() / place.repo_id).resolve():
        return BadInput(f"dataset {place.repo_id} at {place.root}: LeRobot cannot read it ({what})")
    check_files(Path(place.root), place.info)  # raises the BadInput that names the file, when it finds one
    if _from_the_network(exc):
        what = (
            "it looks for data or video files of an episode that are not in the folder; copy the dataset "
            "again, or record it again"
        )
    return BadInput(f"dataset at {place.root}: LeRobot cannot read it ({what})")


def _chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it was raised from or while handling, outermost first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _innermost(exc: BaseException) -> BaseException:
    """The first cause of `exc` (what `datasets` wraps in "An error occurred while generating the dataset")."""
    return _chain(exc)[-1]


def _from_the_network(exc: BaseException) -> bool:
    """Whether `exc` comes from a download (huggingface_hub, its HTTP clients)."""
    modules = ("huggingface_hub", "requests", "httpx", "httpcore", "urllib3")
    return any(type(link).__module__.split(".")[0] in modules for link in _chain(exc))


def fetch_metadata(repo_id: str, root: Path) -> Path:
    """Download a Hub dataset's `meta/` into `root` (LeRobot's cache folder of it), as LeRobot does; `root`.

    A `policyzoo_runtime.datasets.Fetch` for `policyzoo_runtime.datasets.locate`; the frames come when the dataset is opened."""
    from lerobot.datasets.lerobot_dataset import LeRobotDatasetMetadata

    try:
        LeRobotDatasetMetadata(repo_id, root=root)
    except Exception as exc:  # any Hub or network failure is the user's to fix
        raise BadInput(
            f"--dataset.repo_id={repo_id}: cannot fetch it from the Hub "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:160]})"
        ) from None
    return root


def create_dataset(
    repo_id: str,
    root: Path,
    fps: int,
    features: dict[str, dict[str, Any]],
    robot_type: str,
    use_videos: bool,
    streaming_encoding: bool = False,
) -> Any:
    """A new, empty LeRobotDataset at `root` to `add_frame` / `save_episode` / `finalize` (inside
    `policyzoo_runtime.quiet.quiet_lerobot()`, or LeRobot's encoder and statistics print to the terminal).

    `streaming_encoding`: LeRobot encodes each camera's frames as they are added (same codec settings), instead
    of writing them as PNG files and encoding those when the episode is saved."""
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset.create(
        repo_id=repo_id,
        fps=fps,
        features=features,
        root=root,
        robot_type=robot_type,
        use_videos=use_videos,
        streaming_encoding=streaming_encoding,
    )
