"""Checking a LeRobot v3 dataset folder before it is used, so that a broken or lying file is one line naming it.

`check_info` checks `meta/info.json` alone (numbers, dtypes, shapes, path templates) with nothing but Python.
`check_files` checks the rest against it, reading each file no further than it must: `meta/stats.json`, the
Parquet footers of `meta/tasks.parquet`, `meta/episodes/` and `data/` (row counts, column types and shapes,
index ranges from the column statistics), one image of each image column, and of each video file its stream
and one decoded frame, the last one an episode needs (its size must be the declared one). It needs pyarrow and
PyAV (the `train` extra); the core alone reads `meta/info.json` only, and so checks that only.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from policyzoo.errors import BadInput

MAX_FPS = 1000
MAX_SIDE = 16384
"""The longest side a camera image may declare (a 16K frame)."""
MAX_NUMBERS = 1_000_000
"""The most numbers a non-camera feature may declare per frame."""
INDEX_FEATURES = ("timestamp", "frame_index", "episode_index", "index", "task_index")
NUMERIC_DTYPES = {
    "bool",
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
}
OTHER_DTYPES = {"image", "video", "string", "language"}
VISUAL = ("image", "video")
DEFAULT_PATHS = {
    "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
    "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4",
}
"""LeRobot's file path templates, for an info.json without them."""
FIX_INFO = "correct it, or restore the dataset's original meta/info.json"
FIX_FILE = "copy the dataset again, or record it again"
FIX_STATS = "recompute the statistics from the data, or restore the original meta/stats.json"


def check_info(info: dict, path: Path) -> None:
    """`meta/info.json` (its parsed content `info`, read from `path`) is one policyzoo and LeRobot can use."""
    fps = info.get("fps")
    if not (_is_number(fps) and math.isfinite(fps) and float(fps).is_integer() and 1 <= fps <= MAX_FPS):
        raise BadInput(
            f'{path}: "fps" is {json.dumps(fps)}; it must be the frame rate the data was recorded '
            f"at, a whole number from 1 to {MAX_FPS}: {FIX_INFO}"
        )
    for key, least in (
        ("total_episodes", 0),
        ("total_frames", 0),
        ("total_tasks", 0),
        ("chunks_size", 1),
        ("data_files_size_in_mb", 1),
        ("video_files_size_in_mb", 1),
    ):
        value = info.get(key, least)
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= least):
            raise BadInput(
                f'{path}: "{key}" is {json.dumps(value)}; it must be a whole number of at least '
                f"{least}: {FIX_INFO}"
            )
    if info.get("total_frames", 0) < info.get("total_episodes", 0):
        raise BadInput(
            f"{path}: {info['total_episodes']} episodes cannot have {info['total_frames']} frames "
            f'("total_frames" or "total_episodes" is wrong): {FIX_INFO}'
        )
    features = info.get("features")
    if not isinstance(features, dict) or not features:
        raise BadInput(f'{path}: "features" is missing or empty; {FIX_INFO}')
    for key in INDEX_FEATURES:
        if key not in features:
            raise BadInput(f"{path}: feature '{key}' is missing (every LeRobot dataset has it); {FIX_INFO}")
    for key, feature in features.items():
        _check_feature(key, feature, path)
    _check_template(info, "data_path", path, chunk_index=0, file_index=0)
    if any(_dtype(feature) == "video" for feature in features.values()):
        _check_template(info, "video_path", path, video_key="camera", chunk_index=0, file_index=0)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _dtype(feature: Any) -> str:
    return str(feature.get("dtype")) if isinstance(feature, dict) else ""


def _check_feature(key: str, feature: Any, path: Path) -> None:
    """One entry of "features": a known dtype and a shape of whole numbers of sensible size."""
    where = f"{path}: feature '{key}'"
    if not isinstance(feature, dict):
        raise BadInput(f"{where} is not a JSON object; {FIX_INFO}")
    dtype, shape = feature.get("dtype"), feature.get("shape")
    if dtype not in NUMERIC_DTYPES | OTHER_DTYPES:
        raise BadInput(
            f"{where} has dtype {json.dumps(dtype)}; LeRobot knows "
            f"{', '.join(sorted(NUMERIC_DTYPES | OTHER_DTYPES))}: {FIX_INFO}"
        )
    if not (
        isinstance(shape, list | tuple)
        and shape
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in shape)
    ):
        raise BadInput(
            f"{where} has shape {json.dumps(shape)}; a shape is a list of whole numbers of at least "
            f"1: {FIX_INFO}"
        )
    if dtype in VISUAL:
        height, width, channels = _image_shape(shape, feature.get("names"), where)
        if max(height, width) > MAX_SIDE or channels not in (1, 3, 4):
            raise BadInput(
                f"{where} declares {height}x{width} images with {channels} channels; a camera has "
                f"at most {MAX_SIDE} pixels a side and 1, 3 or 4 channels: {FIX_INFO}"
            )
    elif math.prod(shape) > MAX_NUMBERS:
        raise BadInput(
            f"{where} has shape {list(shape)}, {math.prod(shape)} numbers a frame (at most "
            f"{MAX_NUMBERS}); {FIX_INFO}"
        )


def _image_shape(shape: list[int], names: Any, where: str) -> tuple[int, int, int]:
    """(height, width, channels) of a camera's declared shape, laid out as policyzoo's `Features` reads it."""
    if len(shape) != 3:
        raise BadInput(
            f"{where} has shape {list(shape)}; a camera's shape is [height, width, channels]: {FIX_INFO}"
        )
    if (isinstance(names, list) and names[:3] == ["height", "width", "channels"]) or (
        shape[-1] in (1, 3, 4) and shape[0] not in (1, 3, 4)
    ):
        return shape[0], shape[1], shape[2]
    return shape[1], shape[2], shape[0]


def _check_template(info: dict, key: str, path: Path, **fields: Any) -> None:
    """A file path template ("data_path", "video_path") that fills in and stays inside the dataset's folder."""
    template = info.get(key, DEFAULT_PATHS[key])
    try:
        filled = Path(template.format(**fields)) if isinstance(template, str) else None
    except (KeyError, IndexError, ValueError):
        filled = None
    if filled is None or filled.is_absolute() or ".." in filled.parts:
        raise BadInput(
            f'{path}: "{key}" is {json.dumps(template)}; it must be a path inside the dataset '
            f"folder with {', '.join('{' + name + '}' for name in fields)}: {FIX_INFO}"
        )


def check_files(root: Path, info: dict, complete: bool = True) -> None:
    """Every file of the dataset at `root` agrees with its checked `info` (see the module's doc).

    `complete`: every data and video file must be there (a local dataset); False for a Hub dataset's local
    copy, whose missing files LeRobot downloads when it opens it (the files that are there are checked)."""
    try:  # the `train` extra brings them
        import av  # noqa: F401
        import PIL  # noqa: F401
        import pyarrow.parquet  # noqa: F401
    except ImportError:  # the core alone: meta/info.json is all it reads
        return
    root = Path(root)
    tasks = _check_tasks(root, info)
    episodes = _read_episodes(root, info)
    _check_data(root, info, episodes, tasks, complete)
    _check_videos(root, info, episodes, complete)
    check_stats(root, info)


def check_stats(root: Path, info: dict) -> None:
    """`meta/stats.json`, when there: one finite number per dimension of each feature for each statistic, and
    statistics that data could have (min <= mean <= max, 0 <= std <= (max - min) / 2, and a std no smaller than
    any `count` values between min and max have, which is (max - min) / sqrt(2 * count))."""
    path = root / "meta" / "stats.json"
    if not path.is_file():
        return  # LeRobot reads a dataset without statistics; training says it needs them
    try:
        stats = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"{path}: unreadable ({' '.join(str(exc).split())}); {FIX_STATS}") from None
    if not isinstance(stats, dict):
        raise BadInput(f"{path}: not a JSON object; {FIX_STATS}")
    for key, feature in info["features"].items():
        if key in stats and feature["dtype"] not in ("string", "language"):
            _check_feature_stats(f"{path}: '{key}'", stats[key], feature)


def _check_feature_stats(where: str, stats: Any, feature: dict) -> None:
    if not isinstance(stats, dict):
        raise BadInput(f"{where} is not a JSON object of statistics; {FIX_STATS}")
    visual = feature["dtype"] in VISUAL
    size = (
        _image_shape(feature["shape"], feature.get("names"), where)[2]
        if visual
        else math.prod(feature["shape"])
    )
    values: dict[str, list[float]] = {}
    for name, value in stats.items():
        numbers = _flat_numbers(value)
        if numbers is None:
            raise BadInput(
                f"{where} {name} holds {_short(value)}; statistics are lists of numbers: {FIX_STATS}"
            )
        odd = [dim for dim, number in enumerate(numbers) if not math.isfinite(number)]
        if odd:
            raise BadInput(
                f"{where} dimension {odd[0]}: {name} is {numbers[odd[0]]}; statistics are finite "
                f"numbers: {FIX_STATS}"
            )
        if name != "count" and len(numbers) != size:
            raise BadInput(
                f"{where} {name} has {len(numbers)} values, the feature has {size} "
                f"(shape {list(feature['shape'])}); {FIX_STATS}"
            )
        values[name] = numbers
    count = values.get("count", [0.0])[0]
    if "count" in values and count < 1:
        raise BadInput(
            f"{where} count is {_short(stats['count'])}; it must be the number of frames: {FIX_STATS}"
        )
    for dim in range(size):
        problem = _dimension_problem(
            {name: numbers[dim] for name, numbers in values.items() if name != "count"},
            0.0 if visual else count,
        )
        if problem:
            raise BadInput(f"{where} dimension {dim}: {problem}; {FIX_STATS}")


def _dimension_problem(stat: dict[str, float], count: float) -> str | None:
    """What makes one dimension's statistics impossible (`count` 0: not known), or None."""
    low, high, mean, std = stat.get("min"), stat.get("max"), stat.get("mean"), stat.get("std")
    if std is not None and std < 0:
        return f"std is {std:g}, below 0"
    if low is None or high is None:
        return None
    slack = 1e-6 * max(1.0, abs(low), abs(high))  # float32 data, statistics in float64
    if low > high + slack:
        return f"min {low:g} is above max {high:g}"
    if mean is not None and not low - slack <= mean <= high + slack:
        return f"mean {mean:g} is outside min {low:g} .. max {high:g}"
    if std is None:
        return None
    if std == 0 and high - low > slack:
        return f"std is 0 while the values vary (min {low:g}, max {high:g})"
    if count and std > (high - low) / 2 * (1 + 1e-3) + slack:
        return f"std {std:g} is larger than any values between min {low:g} and max {high:g} can have"
    least = (high - low) / math.sqrt(2 * count) if count else 0.0
    if std * (1 + 1e-3) + slack < least:
        return (
            f"std {std:g} is smaller than any {count:.0f} values between min {low:g} and max {high:g} can "
            f"have (at least {least:.3g})"
        )
    return None


def _flat_numbers(value: Any) -> list[float] | None:
    """The numbers of a (nested) JSON list, booleans as 0/1; None when something else is in it."""
    if isinstance(value, int | float):
        return [float(value)]
    if not isinstance(value, list):
        return None
    numbers: list[float] = []
    for item in value:
        inner = _flat_numbers(item)
        if inner is None:
            return None
        numbers.extend(inner)
    return numbers


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _parquet(path: Path) -> Any:
    """The opened `pyarrow.parquet.ParquetFile` at `path` (its footer read), or a BadInput naming it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise BadInput(f"{path}: missing; {FIX_FILE}")
    try:
        return pq.ParquetFile(path)
    except (OSError, pa.ArrowException) as exc:
        raise BadInput(
            f"{path}: not a readable Parquet file ({_reason(exc)}), it is damaged or cut short; {FIX_FILE}"
        ) from None


def _read(path: Path, file: Any, columns: list[str]) -> dict[str, list[Any]]:
    """`columns` of the opened Parquet `file` at `path`, as lists."""
    import pyarrow as pa

    missing = [name for name in columns if name not in file.schema_arrow.names]
    if missing:
        raise BadInput(f"{path}: has no column '{missing[0]}'; {FIX_FILE}")
    try:
        return file.read(columns=columns).to_pydict()
    except (OSError, pa.ArrowException) as exc:
        raise BadInput(f"{path}: unreadable ({_reason(exc)}), it is damaged; {FIX_FILE}") from None


def _reason(exc: BaseException) -> str:
    text = " ".join(str(getattr(exc, "strerror", None) or exc).split())
    return text[:120] if text else type(exc).__name__


def _check_tasks(root: Path, info: dict) -> int:
    """The number of tasks `meta/tasks.parquet` lists: "total_tasks" of them."""
    path = root / "meta" / "tasks.parquet"
    total = info.get("total_tasks", 0)
    if total == 0 and not path.exists():
        return 0
    rows = _parquet(path).metadata.num_rows
    if rows != total:
        raise BadInput(
            f'{path}: lists {rows} tasks, meta/info.json says "total_tasks": {total}; correct '
            f"meta/info.json, or {FIX_FILE}"
        )
    return rows


def _episode_columns(info: dict) -> list[str]:
    columns = [
        "episode_index",
        "dataset_from_index",
        "dataset_to_index",
        "data/chunk_index",
        "data/file_index",
    ]
    for key in _video_keys(info):
        columns += [
            f"videos/{key}/{name}" for name in ("chunk_index", "file_index", "from_timestamp", "to_timestamp")
        ]
    return columns


def _video_keys(info: dict) -> list[str]:
    return [key for key, feature in info["features"].items() if feature["dtype"] == "video"]


def _read_episodes(root: Path, info: dict) -> dict[str, list[Any]]:
    """The columns of `meta/episodes/` that locate each episode's frames, in episode order, checked against
    "total_episodes" and "total_frames"."""
    folder = root / "meta" / "episodes"
    files = sorted(folder.glob("*/*.parquet"))
    columns = _episode_columns(info)
    episodes: dict[str, list[Any]] = {name: [] for name in columns}
    for path in files:
        for name, values in _read(path, _parquet(path), columns).items():
            if not all(
                _is_number(value) and (name.endswith("timestamp") or isinstance(value, int))
                for value in values
            ):
                raise BadInput(
                    f"{path}: column '{name}' holds a value that is not a "
                    f"{'number' if name.endswith('timestamp') else 'whole number'}; {FIX_FILE}"
                )
            episodes[name] += values
    total, found = info.get("total_episodes", 0), len(episodes["episode_index"])
    if found != total:
        held = f"holds {found} episodes" if files else "holds no episode files"
        raise BadInput(
            f'{folder}: {held}, meta/info.json says "total_episodes": {total}; correct '
            f"meta/info.json, or {FIX_FILE}"
        )
    order = sorted(range(found), key=lambda row: episodes["episode_index"][row])
    episodes = {name: [values[row] for row in order] for name, values in episodes.items()}
    _check_episode_bounds(folder, info, episodes)
    return episodes


def _check_episode_bounds(folder: Path, info: dict, episodes: dict[str, list[Any]]) -> None:
    """Episodes 0..n-1, each a non-empty run of frames right after the one before, "total_frames" in all."""
    end = 0
    for row, number in enumerate(episodes["episode_index"]):
        start, stop = episodes["dataset_from_index"][row], episodes["dataset_to_index"][row]
        if number != row or start != end or stop <= start:
            raise BadInput(
                f"{folder}: episode {number} spans frames {start} to {stop}, where episode {row} "
                f"from frame {end} was expected; {FIX_FILE}"
            )
        end = stop
    if end != info.get("total_frames", 0):
        raise BadInput(
            f'{folder}: the episodes hold {end} frames, meta/info.json says "total_frames": '
            f"{info.get('total_frames', 0)}; correct meta/info.json, or {FIX_FILE}"
        )


def _check_data(root: Path, info: dict, episodes: dict[str, list[Any]], tasks: int, complete: bool) -> None:
    """Every data file: readable, with the declared columns and shapes, and rows of the episodes listed."""
    template = info.get("data_path", DEFAULT_PATHS["data_path"])
    pairs = zip(episodes["data/chunk_index"], episodes["data/file_index"], strict=True)
    listed = {root / template.format(chunk_index=chunk, file_index=file) for chunk, file in pairs}
    files = sorted({*(root / "data").glob("*/*.parquet"), *(path for path in listed if complete)})
    rows = 0
    for path in files:
        file = _parquet(path)
        _check_columns(path, file, info["features"])
        _check_index_ranges(path, file, info, tasks)
        rows += file.metadata.num_rows
    if complete and rows != info.get("total_frames", 0):
        raise BadInput(
            f'{root / "data"}: holds {rows} frames, meta/info.json says "total_frames": '
            f"{info.get('total_frames', 0)}; correct meta/info.json, or {FIX_FILE}"
        )


def _check_columns(path: Path, file: Any, features: dict[str, dict]) -> None:
    """The columns of a data file are the declared non-video features, of their dtype and shape."""
    names = file.schema_arrow.names
    for name in names:
        if name not in features:
            raise BadInput(
                f"{path}: column '{name}' is not a feature in meta/info.json; declare it there, or {FIX_FILE}"
            )
    for key, feature in features.items():
        if feature["dtype"] == "video":
            continue
        if key not in names:
            raise BadInput(
                f"{path}: has no column '{key}', which meta/info.json declares; correct "
                f"meta/info.json, or {FIX_FILE}"
            )
        stored, declared = _stored(path, file, key, feature), _declared(feature)
        if stored is not None and stored != declared:
            raise BadInput(
                f"{path}: '{key}' holds {_say(stored)}, meta/info.json declares {_say(declared)}; "
                f"correct meta/info.json, or {FIX_FILE}"
            )


Stored = tuple[str, tuple[int, ...]]
"""The kind of a column's values (real-number, whole-number, boolean, text, image) and their shape."""


def _say(stored: Stored) -> str:
    return f"{stored[0]} values of shape {list(stored[1])}"


def _declared(feature: dict) -> Stored:
    dtype, shape = feature["dtype"], tuple(feature["shape"])
    if dtype == "image":
        return "image", _image_shape(list(shape), feature.get("names"), "")
    kinds = {"bool": "boolean", "string": "text"}
    return kinds.get(dtype, "real-number" if dtype.startswith("float") else "whole-number"), shape


def _stored(path: Path, file: Any, key: str, feature: dict) -> Stored | None:
    """What the column `key` of a data file holds; None for what is not checked here (language columns,
    features of several dimensions, images kept as files)."""
    import pyarrow as pa

    kind = file.schema_arrow.field(key).type
    if feature["dtype"] == "image" and pa.types.is_struct(kind):
        size = _image_size(path, file, key)
        return ("image", size) if size else None
    if feature["dtype"] == "language" or len(feature["shape"]) > 1:
        return None
    if pa.types.is_fixed_size_list(kind):
        return _kind(kind.value_type), (kind.list_size,)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        first = _first(path, file, key)
        return None if first is None else (_kind(kind.value_type), (len(first),))
    return _kind(kind), (1,)


def _first(path: Path, file: Any, key: str) -> Any:
    """The first value of column `key` of the opened Parquet `file` (None when it has no rows)."""
    import pyarrow as pa

    try:
        batch = next(file.iter_batches(batch_size=1, columns=[key]), None)
    except (OSError, pa.ArrowException) as exc:
        raise BadInput(f"{path}: unreadable ({_reason(exc)}), it is damaged; {FIX_FILE}") from None
    return batch.column(0)[0].as_py() if batch is not None and batch.num_rows else None


def _kind(kind: Any) -> str:
    import pyarrow as pa

    for name, test in (
        ("boolean", pa.types.is_boolean),
        ("whole-number", pa.types.is_integer),
        ("real-number", pa.types.is_floating),
        ("text", pa.types.is_string),
        ("text", pa.types.is_large_string),
    ):
        if test(kind):
            return name
    return str(kind)


def _image_size(path: Path, file: Any, key: str) -> tuple[int, int, int] | None:
    """(height, width, channels) of the first image of column `key`, as `Features` would declare it."""
    import io

    from PIL import Image, UnidentifiedImageError

    value = _first(path, file, key)
    if not value or not value.get("bytes"):
        return None  # an image kept as a file beside the data: LeRobot reads it there
    try:
        with Image.open(io.BytesIO(value["bytes"])) as image:
            width, height = image.size
            channels = len(image.getbands())
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise BadInput(
            f"{path}: the first image of '{key}' cannot be decoded ({_reason(exc)}); {FIX_FILE}"
        ) from None
    return height, width, channels


def _check_index_ranges(path: Path, file: Any, info: dict, tasks: int) -> None:
    """Episode, frame and task numbers within what meta/info.json and meta/tasks.parquet list (from the
    column statistics of the footer; columns without them are not checked)."""
    limits = {
        "episode_index": (info.get("total_episodes", 0), '"total_episodes"'),
        "index": (info.get("total_frames", 0), '"total_frames"'),
        "task_index": (tasks, "the tasks of meta/tasks.parquet"),
    }
    for key, (count, what) in limits.items():
        low, high = _column_range(file, key)
        if low is not None and (low < 0 or high >= count):
            raise BadInput(
                f"{path}: '{key}' runs from {low} to {high}, beyond {what} ({count}); "
                f"correct meta/info.json, or {FIX_FILE}"
            )


def _column_range(file: Any, key: str) -> tuple[Any, Any]:
    """(min, max) of column `key` over the row groups' statistics; (None, None) when some are missing."""
    metadata = file.metadata
    leaves = [metadata.schema.column(index).path for index in range(metadata.num_columns)]
    if key not in leaves:
        return None, None
    column = leaves.index(key)
    lows, highs = [], []
    for group in range(metadata.num_row_groups):
        stats = metadata.row_group(group).column(column).statistics
        if stats is None or not stats.has_min_max:
            return None, None
        lows.append(stats.min)
        highs.append(stats.max)
    return (min(lows), max(highs)) if lows else (None, None)


def _check_videos(root: Path, info: dict, episodes: dict[str, list[Any]], complete: bool) -> None:
    """Each camera's video files: there, of the declared size, and decodable up to the last frame an episode
    in them needs."""
    fps = float(info["fps"])
    template = info.get("video_path", DEFAULT_PATHS["video_path"])
    for key in _video_keys(info):
        feature = info["features"][key]
        height, width, _ = _image_shape(feature["shape"], feature.get("names"), key)
        ends: dict[Path, float] = {}
        columns = [episodes[f"videos/{key}/{name}"] for name in ("chunk_index", "file_index", "to_timestamp")]
        for chunk, file, end in zip(*columns, strict=True):
            path = root / template.format(video_key=key, chunk_index=chunk, file_index=file)
            ends[path] = max(ends.get(path, 0.0), float(end))
        for path, end in ends.items():
            if path.is_file() or complete:
                _check_video(path, key, (height, width), fps, end - 1 / fps)


def _check_video(path: Path, key: str, size: tuple[int, int], fps: float, last: float) -> None:
    """The video at `path` holds frames of `size` (height, width) at `fps` up to `last` seconds."""
    import av

    if not path.is_file():
        raise BadInput(f"{path}: missing (camera '{key}'); {FIX_FILE}")
    damaged = f"{path}: not a readable video, it is damaged"
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.FFmpegError, OSError) as exc:
        raise BadInput(f"{damaged} ({_reason(exc)}); {FIX_FILE}") from None
    with container:
        if not container.streams.video:
            raise BadInput(f"{path}: holds no video stream (camera '{key}'); {FIX_FILE}")
        rate = container.streams.video[0].average_rate
        if rate and abs(float(rate) - fps) > 0.01 * fps:
            raise BadInput(
                f'{path}: a {float(rate):g} fps video, meta/info.json says "fps": {fps:g}; correct '
                f"meta/info.json, or {FIX_FILE}"
            )
        try:
            frame = _frame_at(container, last, 0.5 / fps)
        except (av.FFmpegError, OSError, EOFError) as exc:
            raise BadInput(f"{damaged} ({_reason(exc)}); {FIX_FILE}") from None
    if frame is None:
        raise BadInput(
            f"{path}: has no frame at {last:.3f} s, where the last episode in it ends: the video is "
            f"cut short or damaged; {FIX_FILE}"
        )
    if (frame.height, frame.width) != size:
        raise BadInput(
            f"{path}: frames are {frame.height}x{frame.width}, meta/info.json declares camera "
            f"'{key}' as {size[0]}x{size[1]}; correct meta/info.json, or {FIX_FILE}"
        )


def _frame_at(container: Any, time_s: float, tolerance: float) -> Any:
    """The decoded frame of the first video stream within `tolerance` of `time_s`, or None."""
    stream = container.streams.video[0]
    stream.codec_context.thread_count = 1
    container.seek(
        int(max(0.0, time_s - tolerance) / stream.time_base), backward=True, any_frame=False, stream=stream
    )
    for frame in container.decode(stream):
        if frame.pts is None:
            continue
        at = float(frame.pts * frame.time_base)
        if at >= time_s - tolerance:
            return frame if at <= time_s + tolerance else None
    return None
