"""`policyzoo record` (scripted expert in the simulator, or a person with leader arms on the real robot ->
LeRobot v3.0) and `policyzoo replay`."""

from __future__ import annotations

from pathlib import Path

import click

from policyzoo.cli.base import dotted_command
from policyzoo.errors import BadInput
from policyzoo.flags import Flags, parse_bool


@click.group()
def _commands() -> None:
    """Not a command: `dotted_command` needs a group; the top-level CLI imports `record` and `replay`."""


def _robot_flags(flags: Flags, command: str, real: bool = False) -> tuple[str, str, dict[str, str]]:
    """(robot type, backend, the other --robot.* options). With `real` (record) the real backend takes its own
    options and the simulator --robot.cameras; without it (replay) only the simulator, without options."""
    robot = flags.section("robot", known=("type", "backend"))
    robot_type = robot.pop("type", "so101_bimanual")
    backend = robot.pop("backend", "sim")
    if real and backend == "real":
        return robot_type, backend, robot
    takes = ("cameras",) if real else ()
    for name in sorted(set(robot) - set(takes)):
        allowed = (
            "--robot.type, --robot.backend and --robot.cameras"
            if real
            else "--robot.type and --robot.backend"
        )
        raise BadInput(f"--robot.{name}: {command} takes {allowed} only")
    if backend != "sim":
        real_too = " or --robot.backend=real (with leader arms, --teleop.type=...)" if real else ""
        raise BadInput(
            f"--robot.backend={backend}: {command} drives the simulator; use --robot.backend=sim{real_too}"
        )
    return robot_type, backend, robot


@dotted_command(_commands, "record")
def record(flags: Flags) -> None:
    """Record episodes into a LeRobot v3.0 dataset: the scripted expert in the simulator, or demonstrations
    with leader arms on the real robot.

    Simulator: --robot.type=so101_bimanual --robot.backend=sim --dataset.root=DIR [--dataset.repo_id=ID]
    [--episodes=N (or --dataset.num_episodes=N)] [--seed=S] [--dataset.video=true|false]
    [--robot.cameras=left_top,right_front,right_wrist (simulator cameras instead of the robot's own)]

    Real robot: --robot.type=so101_bimanual --robot.backend=real --robot.left_port=P --robot.right_port=P
    [--robot.id=NAME] [--robot.cameras=YAML] --teleop.type=so101_bimanual_leader --teleop.left_port=P
    --teleop.right_port=P [--teleop.id=NAME] --dataset.repo_id=USER/NAME --dataset.single_task="..."
    [--dataset.root=DIR (default: LeRobot's cache)] [--dataset.num_episodes=50] [--dataset.episode_time_s=60]
    [--dataset.reset_time_s=60] [--dataset.fps=30] [--dataset.video=true] [--resume=true (append)]
    (one arm: --robot.type=so101 --robot.port=P --teleop.type=so101_leader --teleop.port=P).
    Keys: right arrow ends the episode or reset early, left arrow records the episode again, Esc saves and
    stops; Ctrl-C keeps every finished episode.

    SIGTERM and SIGHUP count as Ctrl-C; in the simulator a disk with too little room for the next episode
    stops the recording with the finished episodes kept too. At most 10000 episodes.

    Cameras are stored as AV1 video by default, as LeRobot does; load them with video_backend="pyav".
    """
    from policyzoo_runtime.counts import MAX_EPISODES, MAX_SEED, within
    from policyzoo_runtime.hub.push import check_repo_id
    from policyzoo_runtime.record.sim import make_sim, record_episodes, sim_cameras
    from policyzoo_runtime.writable import check_writable

    robot_type, backend, options = _robot_flags(flags, "record", real=True)
    if backend == "real":
        from policyzoo_runtime.cli.record_real import record_real

        record_real(flags, robot_type, options)
        return
    data = flags.section("dataset", known=("root", "repo_id", "num_episodes", "video"))
    use_videos = _boolean("--dataset.video", data.pop("video", "true"))
    episodes, flag = flags.take("episodes", int, default=None), "--episodes"
    if "num_episodes" in data:
        episodes, flag = (
            _integer("--dataset.num_episodes", data.pop("num_episodes")),
            "--dataset.num_episodes",
        )
    seed = flags.take("seed", int, default=0)
    root, repo_id = data.pop("root", None), data.pop("repo_id", None)
    for name in data:
        raise BadInput(
            f"--dataset.{name}: unknown flag; record takes --dataset.root, --dataset.repo_id, "
            "--dataset.num_episodes"
        )
    flags.finish()
    if not root:
        raise BadInput("--dataset.root: required; the folder to write the dataset to (must not exist)")
    episodes = 1 if episodes is None else episodes
    within(flag, episodes, 1, MAX_EPISODES, "episodes of one recording")
    within("--seed", seed, 0, MAX_SEED, "the seed range of NumPy's generators")
    if repo_id is not None:
        check_repo_id(repo_id, flag="--dataset.repo_id")
    root_path = check_writable(root, "--dataset.root")  # before the simulator starts
    cameras = options.get("cameras")
    robot = make_sim(
        robot_type, cameras=None if cameras is None else sim_cameras(robot_type, _names(cameras))
    )
    try:
        result = record_episodes(
            robot, root_path, repo_id or f"local/{root_path.name}", episodes, seed, use_videos=use_videos
        )
    finally:
        robot.disconnect()
    click.echo(
        f"recorded {result.episodes} episodes, {result.frames} frames ({result.successes} successful) "
        f"to {result.root} in {result.seconds:.1f} s"
    )


@dotted_command(_commands, "replay")
def replay(flags: Flags) -> None:
    """Replay the actions of one recorded episode in the simulator and report whether it succeeds.

    --dataset.root=DIR --episode=N [--robot.type=so101_bimanual] --robot.backend=sim [--seed=S]
    """
    from policyzoo_runtime.datasets import read_meta
    from policyzoo_runtime.record.sim import make_sim, replay_episode

    data = flags.section("dataset", known=("root",))
    episode = flags.take("episode", int, default=0)
    seed = flags.take("seed", int, default=None)
    root = data.pop("root", None)
    for name in data:
        raise BadInput(f"--dataset.{name}: unknown flag; replay takes --dataset.root")
    if not root:
        raise BadInput("--dataset.root: required; the dataset whose episode to replay")
    meta = read_meta(Path(root).expanduser())
    robot_flags = flags.values.get("robot.type")
    robot_type = _robot_flags(flags, "replay")[0]
    if robot_flags is None and meta.robot_type:
        robot_type = meta.robot_type
    flags.finish()
    robot = make_sim(robot_type)
    try:
        frames, success = replay_episode(robot, meta.root, episode, seed)
    finally:
        robot.disconnect()
    click.echo(f"replayed episode {episode}: {frames} frames, success: {success}")


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _boolean(flag: str, text: str) -> bool:
    try:
        return parse_bool(text)
    except ValueError:
        raise BadInput(f"{flag}={text}: expected true or false") from None


def _integer(flag: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise BadInput(f"{flag}={text}: expected an integer") from None
