"""`policyzoo calibrate` (LeRobot's calibration of each arm) and `policyzoo deploy` (run a policy on a robot)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import click
from pydantic import Field

from policyzoo.cli.base import dotted_command, fail
from policyzoo.errors import BadInput
from policyzoo.flags import Flag, Flags, bind
from policyzoo_runtime.deploy.config import DeployConfig, Finite
from policyzoo_runtime.settings import Settings

if TYPE_CHECKING:
    from policyzoo.handle import PolicyHandle
    from policyzoo.spec import RobotSpec
    from policyzoo_runtime.evaluation.real import EvalPlan
    from policyzoo_runtime.robot import RobotBackend

EPISODE_TIME_S = RESET_TIME_S = 60.0
"""Default length of an evaluation episode and of the reset pause after it, as lerobot-record's."""
EVAL_KEYS = "s success, f failure, r retry (during or after an episode), right arrow ends it early, Esc stops"
SIM_BACKEND = "sim"
"""The backend name of a robot's simulator, whose cameras deploy fits to the policy."""
REAL_MAX_STEP = 5.0
"""Default largest change of a joint target per tick on the real robot (degrees, or percent of the gripper)."""


@click.group()
def _commands() -> None:
    """Not a command: `dotted_command` needs a group; the top-level CLI imports `calibrate` and `deploy`."""


class DeployRun(Settings):
    """The flags of `policyzoo deploy` beside its `DeployConfig`: the seed, the report, an evaluation's."""

    seed: Annotated[int | None, Flag("seed", "an integer")] = None
    report: Annotated[Path | None, Flag("report")] = None
    episodes: Annotated[int | None, Field(ge=1), Flag("episodes")] = None
    episode_time_s: Annotated[
        float | None, Field(gt=0), Finite, Flag("episode_time_s", "a finite number of seconds > 0")
    ] = None
    reset_time_s: Annotated[
        float | None, Field(ge=0), Finite, Flag("reset_time_s", "a finite number of seconds >= 0")
    ] = None
    record: Annotated[Path | None, Flag("record")] = None


@dotted_command(_commands, "calibrate")
def calibrate(flags: Flags) -> None:
    """Calibrate the real robot's arms, or its leader arms, with LeRobot (files where LeRobot keeps them;
    existing ones are offered).

    --robot.type=so101_bimanual --robot.left_port=PORT --robot.right_port=PORT [--robot.id=NAME]
    (one arm: --robot.type=so101 --robot.port=PORT --robot.id=NAME)
    Leader arms: --teleop.type=so101_bimanual_leader --teleop.left_port=PORT --teleop.right_port=PORT
    [--teleop.id=NAME] (one: --teleop.type=so101_leader --teleop.port=PORT --teleop.id=NAME)
    """
    from policyzoo_runtime.robot import (
        make_robot,  # not through policyzoo_runtime.deploy, which imports torch
    )

    arm_flags = ("type", "port", "left_port", "right_port", "id")
    robot_flags = flags.section("robot", known=arm_flags)
    teleop_flags = flags.section("teleop", known=arm_flags)
    flags.finish()
    if teleop_flags:
        from policyzoo_runtime.teleop import make_teleop

        if robot_flags:
            raise BadInput(
                "--teleop.type: calibrate the robot (--robot.*) or its leader arms (--teleop.*), "
                "one at a time"
            )
        teleop_type = teleop_flags.pop("type", None)
        device, what = make_teleop(teleop_type, None, teleop_flags), f"--teleop.type={teleop_type}"
    else:
        robot_type = robot_flags.pop("type", None)
        if robot_type is None:
            raise BadInput(
                "--robot.type: required, e.g. --robot.type=so101_bimanual (see: policyzoo robots "
                "list), or --teleop.type=... for leader arms"
            )
        if robot_flags.pop("backend", "real") != "real":
            raise BadInput("--robot.backend: calibrate works on the real robot only; leave it out")
        device, what = make_robot(robot_type, "real", robot_flags), f"--robot.type={robot_type}"
    run = getattr(device, "calibrate", None)
    if run is None:
        raise BadInput(f"{what}: it has no calibration step")
    for path in run():
        click.echo(f"calibration: {path}")


@dotted_command(_commands, "deploy")
def deploy(flags: Flags) -> None:
    """Run a trained policy on a robot at a fixed rate, then print (and optionally save) a report.

    --policy.path=DIR_OR_REPO [--policy.device=cpu] --robot.type=so101_bimanual --robot.backend=sim|real
    [--robot.left_port=... --robot.right_port=...] [--fps=30] [--task "..."] [--duration_s=S]
    [--async=true] [--chunk_threshold=0.5] [--temporal_ensemble=0.01] [--n_action_steps=N]
    [--max_relative_target=DEG (default 5 on the real robot, none in the simulator)]
    [--inference_threads=N (default: all cores but one with --async)] [--seed=N] [--report=FILE.json]
    The simulator renders the cameras the policy reads, at the size it was trained on, as `policyzoo eval` does.

    Evaluation on the robot: --episodes=N [--episode_time_s=60] [--reset_time_s=60] [--record=DIR]: N episodes
    with a reset pause between them, each marked by the operator's key (s success, f failure, r retry; right
    arrow ends an episode early, Esc stops). DIR gets every kept rollout as a LeRobot dataset with its mark,
    and eval_summary.json, in `policyzoo eval`'s form (--report=FILE writes it there too).
    """
    from policyzoo_runtime.devices import check_device
    from policyzoo_runtime.writable import check_writable

    policy = flags.section("policy", known=("path", "device"))
    robot_flags = flags.section("robot", known=("type", "backend"))
    given = bind(flags, DeployConfig)
    run = DeployRun(**bind(flags, DeployRun))
    flags.finish()
    seed, report_path, episodes, record_dir = run.seed, run.report, run.episodes, run.record
    episode_s, reset_s, duration = run.episode_time_s, run.reset_time_s, given.get("duration_s")
    if report_path is not None:  # before the run, so that its report is not lost after it
        check_writable(report_path, "--report", folder=False)
    _check_evaluation_flags(episodes, episode_s, reset_s, record_dir, duration)

    path = policy.pop("path", None)
    device = policy.pop("device", None)
    check_device(device)
    for name in policy:
        raise BadInput(f"--policy.{name}: deploy takes --policy.path and --policy.device")
    if not path:
        raise BadInput("--policy.path: required; a saved policy folder, a training output or a Hub repo id")
    from policyzoo.api import load_policy  # torch comes with these: after the checks above
    from policyzoo.capabilities import EnsemblingSpec
    from policyzoo_runtime.robot import load_backend, make_robot

    robot_type = robot_flags.pop("type", None) or _checkpoint_robot(path)
    backend = robot_flags.pop("backend", "sim")
    given.setdefault("max_relative_target", REAL_MAX_STEP if backend == "real" else None)
    load_backend(robot_type, backend)  # an unknown or missing backend, before the policy loads
    simulated = backend == SIM_BACKEND
    if simulated and "cameras" in robot_flags:
        raise BadInput(
            "--robot.cameras: the simulator renders the cameras the policy was trained with (names and "
            "sizes); leave it out"
        )
    robot = None if simulated else make_robot(robot_type, backend, robot_flags)
    try:
        config = DeployConfig(**{"fps": (robot.spec if robot else _registered_spec(robot_type)).fps, **given})
        handle = load_policy(path, device=device)
        if "temporal_ensemble" not in given:  # an ACT configured with temporal ensembling keeps it
            try:
                spec = handle.spec
                config = config.replace(
                    temporal_ensemble=spec.temporal_ensemble_coeff
                    if isinstance(spec, EnsemblingSpec)
                    else None
                )
            except ValueError as exc:
                raise BadInput(f"--policy.path={path}: {exc}") from None
        if robot is None:
            robot = _fitted_simulator(handle, robot_type, backend, robot_flags, path)
        config = config.replace(task=config.task or getattr(robot, "task", ""))
        if seed is not None and hasattr(robot, "reset"):
            robot.reset(seed=seed)
        if episodes is not None:
            from policyzoo_runtime.evaluation.real import EvalPlan

            plan = EvalPlan(
                episodes, episode_s or EPISODE_TIME_S, RESET_TIME_S if reset_s is None else reset_s
            )
            _evaluate(handle, robot, config, plan, path, record_dir, report_path, f"{robot_type}_{backend}")
        else:
            _run(handle, robot, config, path, report_path)
    finally:
        if robot is not None:  # every path: a simulator's renderers are closed before the interpreter exits
            robot.disconnect()


def _run(
    handle: PolicyHandle, robot: RobotBackend, config: DeployConfig, path: str, report_path: Path | None
) -> None:
    """Run the policy on the robot; print the report (and write it to `report_path`)."""
    from policyzoo_runtime.deploy.session import deploy as run_deploy
    from policyzoo_runtime.deploy.status import StatusLine

    if config.duration_s is None:
        click.echo("running until Ctrl-C", err=True)
    status = StatusLine()
    try:
        report = run_deploy(handle, robot, config, name=f"--policy.path={path}", status=status)
    finally:
        status.close()
    if hasattr(robot, "success"):
        report.success = bool(robot.success())
    for line in report.lines():
        click.echo(line)
    if report_path is not None:
        report.write(report_path)
        click.echo(f"wrote {report_path}")
    if not report.ok:
        fail(report.stop_reason, code=1)


def _registered_spec(robot_type: str) -> RobotSpec:
    from policyzoo.registry import get_registry

    return get_registry().robot(robot_type).spec


def _fitted_simulator(
    handle: PolicyHandle, robot_type: str, backend: str, options: dict[str, str], path: str
) -> RobotBackend:
    """The simulator with one camera per image the policy reads, named and sized as in its training data (as
    `policyzoo eval` builds it), once the policy is known to fit the robot otherwise."""
    from policyzoo_runtime.deploy.session import check_policy_fits
    from policyzoo_runtime.evaluation.sim import robot_spec_for
    from policyzoo_runtime.robot import make_robot

    spec = robot_spec_for(_registered_spec(robot_type), handle.features.visual)
    check_policy_fits(handle, spec, f"--policy.path={path}")
    return make_robot(robot_type, backend, options, spec=spec)


def _check_evaluation_flags(
    episodes: int | None,
    episode_s: float | None,
    reset_s: float | None,
    record_dir: Path | None,
    duration: float | None,
) -> None:
    from policyzoo_runtime.counts import MAX_EPISODES, within
    from policyzoo_runtime.writable import check_writable

    if episodes is None:
        for flag, value in (("episode_time_s", episode_s), ("reset_time_s", reset_s), ("record", record_dir)):
            if value is not None:
                raise BadInput(f"--{flag}: only with --episodes=N (an evaluation on the robot)")
        return
    if duration is not None:
        raise BadInput("--duration_s: not with --episodes; each episode lasts --episode_time_s")
    within("--episodes", episodes, 1, MAX_EPISODES, "episodes of one evaluation")
    if record_dir is not None:
        check_writable(record_dir, "--record")
        if record_dir.exists() and any(record_dir.iterdir()):
            raise BadInput(f"--record={record_dir}: the folder is not empty; choose a new one")


def _evaluate(
    handle: PolicyHandle,
    robot: RobotBackend,
    config: DeployConfig,
    plan: EvalPlan,
    path: str,
    record_dir: Path | None,
    report_path: Path | None,
    env: str,
) -> None:
    """Evaluate on the robot with the operator's marks; print the summary and write it as eval_summary.json."""
    import json

    from policyzoo_runtime.deploy.status import StatusLine
    from policyzoo_runtime.evaluation.real import (
        eval_features,
        run_evaluation,
        summarize_evaluation,
        summary_lines,
    )
    from policyzoo_runtime.evaluation.sim import SUMMARY_FILE
    from policyzoo_runtime.keys import open_keys
    from policyzoo_runtime.lerobot.episodes import create_writer

    def open_writer():
        return create_writer(
            f"local/{record_dir.name}",
            record_dir,
            config.fps,
            eval_features(robot.spec, True),
            robot.spec.type,
            use_videos=True,
        )

    keys = open_keys()
    click.echo(f"keys: {EVAL_KEYS}", err=True)
    result = run_evaluation(
        handle,
        robot,
        config,
        plan,
        keys,
        open_writer if record_dir else None,
        name=f"--policy.path={path}",
        say=lambda text: click.echo(text, err=True),
        status=StatusLine(),
    )
    summary = summarize_evaluation(result, plan, path, handle.spec.type, env, config.task, config.fps)
    summary["dataset"] = str(record_dir) if record_dir else None
    for line in summary_lines(summary):
        click.echo(line)
    for target in (record_dir / SUMMARY_FILE if record_dir else None, report_path):
        if target is not None:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(summary, indent=2) + "\n")
            click.echo(f"wrote {target}")


def _checkpoint_robot(path: str) -> str:
    from policyzoo.checkpoint import read_meta, resolve_pretrained

    meta = read_meta(resolve_pretrained(path))
    if meta is None or meta.robot is None:
        raise BadInput(
            "--robot.type: required (the checkpoint names no robot), e.g. --robot.type=so101_bimanual"
        )
    return meta.robot.type
