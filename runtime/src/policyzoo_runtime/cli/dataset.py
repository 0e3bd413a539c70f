"""`policyzoo dataset sample|synth|info`."""

from __future__ import annotations

from pathlib import Path

import click

from policyzoo.cli.base import dotted_command, print_table
from policyzoo.errors import BadInput
from policyzoo.flags import Flags


@click.group()
def dataset() -> None:
    """Make the sample dataset or a synthetic one at real sizes; describe a LeRobot dataset."""


@dotted_command(dataset, "sample")
def sample(flags: Flags) -> None:
    """Record the sample dataset in the simulator: --output DIR [--task=TASK] [--episodes N] [--seed S].

    The same as the one embedded in policyzoo-so101 (same robot, cameras and seeds): without --task the one
    `train` uses when given no dataset, with --task=lift the one `policyzoo demo` trains on.
    """
    from policyzoo.features import IMAGE_PREFIX
    from policyzoo.spec import CameraSpec
    from policyzoo_runtime.counts import MAX_EPISODES, MAX_SEED, within
    from policyzoo_runtime.datasets import read_meta, sample_dataset
    from policyzoo_runtime.record.sim import SIM_INSTALL, make_sim, record_episodes
    from policyzoo_runtime.writable import check_writable

    output = flags.take("output", Path, default=Path("sample_dataset"))
    task = flags.take("task", default=None)
    found = sample_dataset(task)
    if not found:
        which = f"a sample dataset of task '{task}'" if task else "a sample dataset"
        raise BadInput(f"dataset sample: no installed plugin provides {which}; run: {SIM_INSTALL}")
    repo_id, embedded = found
    try:
        meta = read_meta(Path(embedded))
    except BadInput as exc:
        raise BadInput(
            f"dataset sample: the sample shipped with the plugin in {embedded} is missing or damaged ({exc}); "
            f"reinstall it: {SIM_INSTALL}"
        ) from None
    episodes = flags.take("episodes", int, default=meta.episodes)
    seed = flags.take("seed", int, default=0)
    flags.finish()
    within("--episodes", episodes, 1, MAX_EPISODES, "episodes of one recording")
    within("--seed", seed, 0, MAX_SEED, "the seed range of NumPy's generators")
    check_writable(output, "--output")  # before the simulator starts
    use_videos = any(feature.get("dtype") == "video" for feature in meta.info.get("features", {}).values())
    cameras = [
        CameraSpec(name=key.removeprefix(IMAGE_PREFIX), height=shape[1], width=shape[2], fps=meta.fps)
        for key, shape in meta.features.visual.items()
    ]
    robot = make_sim(meta.robot_type or "so101_bimanual", cameras=cameras)
    try:
        result = record_episodes(robot, output, repo_id, episodes, seed, use_videos=use_videos)
    finally:
        robot.disconnect()
    click.echo(
        f"wrote {result.episodes} episodes, {result.frames} frames ({result.successes} successful) "
        f"to {result.root} in {result.seconds:.1f} s"
    )


@dotted_command(dataset, "synth")
def synth(flags: Flags) -> None:
    """Write a synthetic bimanual SO101 dataset at real sizes: --output DIR [--episodes 20] [--frames 300]
    [--size 480x640] [--cameras left_top,right_front] [--seed 0].

    LeRobot v3.0, 30 fps, 12 joints of state and action, each camera real AV1 video as LeRobot records it
    (libsvtav1), written with LeRobot's own dataset API; the pictures are moving shapes and noise. For
    measuring data loading (`policyzoo bench data`) and training speed without a robot.
    """
    from policyzoo_runtime.counts import MAX_EPISODE_STEPS, MAX_EPISODES, within
    from policyzoo_runtime.lerobot.synth import SynthSize, write
    from policyzoo_runtime.writable import check_writable

    output = flags.take("output", Path, default=Path("synth_dataset"))
    episodes = flags.take("episodes", int, default=SynthSize.episodes)
    frames = flags.take("frames", int, default=SynthSize.frames)
    height, width = flags.take(
        "size", _size, default=(SynthSize.height, SynthSize.width), help_value="HEIGHTxWIDTH, e.g. 480x640"
    )
    cameras = flags.take(
        "cameras", _names, default=SynthSize.cameras, help_value="camera names, e.g. top,wrist"
    )
    seed = flags.take("seed", int, default=0)
    flags.finish()
    within("--episodes", episodes, 1, MAX_EPISODES, "episodes of one recording")
    within("--frames", frames, 2, MAX_EPISODE_STEPS, "frames of one episode")
    if height < 16 or width < 16 or height % 2 or width % 2:
        raise BadInput(f"--size={height}x{width}: the encoder needs even sizes of at least 16x16")
    output = check_writable(output, "--output")
    if output.is_dir() and any(output.iterdir()):
        raise BadInput(f"--output={output}: the folder exists and is not empty; choose a new one")
    if output.is_dir():
        output.rmdir()  # LeRobot creates the dataset folder itself
    written = write(output, SynthSize(episodes, frames, height, width, cameras), seed)
    click.echo(
        f"wrote {written.episodes} episodes, {written.frames} frames, {len(cameras)} camera(s) at "
        f"{height}x{width} to {written.root} in {written.seconds:.1f} s"
    )


def _size(text: str) -> tuple[int, int]:
    height, width = text.lower().split("x")
    return int(height), int(width)


def _names(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names or len(set(names)) != len(names):
        raise ValueError(text)
    return names


@dotted_command(dataset, "info")
def info(flags: Flags) -> None:
    """Episodes, frames, fps, features, cameras, tasks and rewards of a LeRobot v3 dataset.

    --dataset.root=DIR or --dataset.repo_id=USER/NAME (looked up in LeRobot's local cache); without
    either, the sample dataset.
    """
    from policyzoo_runtime.datasets import locate, read_meta

    values = flags.section("dataset", known=("root", "repo_id"))
    root, repo_id = values.pop("root", None), values.pop("repo_id", None)
    for name in values:
        raise BadInput(
            f"--dataset.{name}: unknown flag; dataset info takes --dataset.root or --dataset.repo_id"
        )
    flags.finish()
    found = locate(
        root, repo_id
    )  # without either: the embedded sample, as `train` uses when given no dataset
    if found is None:
        raise BadInput("--dataset.root: give --dataset.root=DIR or --dataset.repo_id=USER/NAME")
    meta = read_meta(
        found.root, flag="--dataset.repo_id" if found.flag == "--dataset.repo_id" else "--dataset.root"
    )
    click.echo(f"{meta.root}: LeRobot {meta.info.get('codebase_version')}, robot {meta.robot_type or '-'}")
    click.echo(f"episodes: {meta.episodes}  frames: {meta.frames}  fps: {meta.fps}")
    click.echo(f"cameras: {', '.join(meta.cameras) or 'none'}")
    click.echo(f"rewards: {'yes (next.reward)' if meta.has_reward else 'no'}")
    click.echo(f"tasks: {'; '.join(meta.tasks) or '-'}")
    rows = [
        [key, feature.get("dtype", ""), "x".join(str(n) for n in feature.get("shape", ()))]
        for key, feature in meta.info.get("features", {}).items()
    ]
    click.echo()
    print_table(["FEATURE", "DTYPE", "SHAPE"], rows)
