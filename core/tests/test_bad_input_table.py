"""Bad input across every command: one line on stderr, exit code 2, no traceback, what is wrong and the fix.

The command lines run in-process and fail before any slow work (nothing here trains, records or loads a
policy); `select_action`'s checks use one tiny ACT built in memory.
"""

from __future__ import annotations

import errno
import re
from pathlib import Path

import pytest

from policyzoo.errors import BadInput

IN_THE_WAY = r"{file} is a file, not a folder \(a file is in the way\); choose another "
IS_A_FILE = r": is a file, not a folder; choose another "
NO_GPU = r"--policy.device=cuda: this machine has no NVIDIA GPU .*; use --policy.device=cpu or auto"

# (command line, pattern of the one error line); {file} is a file, {dir} an empty folder, {new} a path
# that does not exist, {results} a folder with an earlier evaluation, {ckpt} a folder with a config.json.
TABLE = [
    # train
    ("train --policy.type=act --output_dir={file}/run", "--output_dir=.*: " + IN_THE_WAY + "--output_dir"),
    ("train --policy.type=act --output_dir={file}", "--output_dir={file}" + IS_A_FILE + "--output_dir"),
    ("train --policy.type=act --output_dir={dir}", "already exists; continue that run with --resume=true"),
    ("train --policy.type=act --policy.device=cuda", NO_GPU),
    ("train --policy.type=act --policy.device=mps", "--policy.device=mps: MPS exists on macOS only"),
    ("train --policy.type=act --policy.device=gpu", "--policy.device=gpu: must be one of auto, cpu, cuda"),
    ("train --dataset.root={file} --policy.type=act", "--dataset.root={file}: is a file, not a folder"),
    ("train --dataset.root={new} --policy.type=act", "--dataset.root={new}: no such folder"),
    ("train --dataset.root={dir} --policy.type=act", "not a LeRobot dataset \\(no meta/info.json\\)"),
    ("train --dataset.repo_id=bad --policy.type=act", "--dataset.repo_id=bad: expected USER/NAME"),
    ("train --policy.type=actt", "unknown policy type.*Did you mean 'act'\\?"),
    ("train --policy.type=act --policy.n_action_steps=500", "n_action_steps \\(500\\) must be <= chunk_size"),
    (
        "train --policy.type=act --policy.chunk_size=abc",
        "--policy.chunk_size=abc: Input should be a valid integer",
    ),
    ("train --policy.type=act --policy.chunk_sise=5", "Did you mean --policy.chunk_size\\?"),
    ("train --policy.type=act --steps=0", "--steps=0"),
    ("train --policy.type=act --batch_size=two", "--batch_size=two"),
    ("train --policy.type=act --stepz=3", "--stepz: .*--steps"),
    ("train --policy.type=act --wandb.mode=loud", "--wandb.mode=loud: allowed values are"),
    ("train --policy.type=act --optimizer.lr=-1", "--optimizer.lr=-1"),
    ("train --policy.path={new}", "--policy.path={new}: no such folder"),
    (
        "train --policy.type=act --num_workers=1000",
        "--num_workers=1000: expected an integer from 0 to \\d+ \\(one data worker per CPU core",
    ),
    (
        "train --policy.type=act --prefetch_factor=100000",
        "--prefetch_factor=100000: expected an integer from 1",
    ),
    (
        "train --policy.type=act --output_dir={new}/" + "x" * 300,
        "the name 'x{{24}}...' is 300 bytes, longer than the file system allows \\(255\\); choose a shorter "
        "--output_dir",
    ),
    # eval
    ("eval --policy.path={new} --output_dir={file}", "--output_dir={file}" + IS_A_FILE + "--output_dir"),
    ("eval --policy.path={new} --output_dir={file}/eval", IN_THE_WAY + "--output_dir"),
    (
        "eval --policy.path={new} --output_dir=",
        "--output_dir=: an empty folder name; name a folder, or leave the flag",
    ),
    (
        "eval --policy.path={new} --output_dir={results}",
        "holds an earlier evaluation .*; pick a new --output_dir, or replace it with --overwrite=true",
    ),
    ("eval --policy.path={new} --policy.device=cuda", NO_GPU),
    ("eval --policy.path={new} --overwrite=maybe", "--overwrite=maybe: expected true or false"),
    ("eval --episodes=3", "--policy.path: required"),
    ("eval --policy.path={new} --episodes=0", "--episodes=0: expected a whole number >= 1"),
    ("eval --policy.path={new} --videos=-1", "--videos=-1: expected a whole number >= 0"),
    ("eval --policy.path={new} --workers=0", "--workers=0: expected a whole number >= 1"),
    ("eval --policy.path={new} --policy.chunk_size=3", "eval takes --policy.path and --policy.device only"),
    ("eval --policy.path={new}", "--policy.path={new}: no such folder"),
    (
        "eval --policy.path={new} --episodes=1e12",
        "--episodes=1e12: expected a whole number >= 1, at most 10000",
    ),
    (
        "eval --policy.path={new} --videos=20000",
        "--videos=20000: expected a whole number >= 0, at most 10000",
    ),
    (
        "eval --policy.path={new} --max_steps=1e9",
        "--max_steps=1e9: expected a whole number >= 1, at most 100000",
    ),
    ("eval --policy.path={new} --seed=-1", "--seed=-1: expected a whole number >= 0, at most 4294967295"),
    ("eval --policy.path={new} --workers=100000", "--workers=100000: expected a whole number >= 1, at most"),
    # deploy
    ("deploy --policy.path={new} --fps=0", "--fps=0: expected a whole number >= 1"),
    (
        "deploy --policy.path={new} --duration_s=-1",
        "--duration_s=-1: expected a finite number of seconds > 0",
    ),
    ("deploy --policy.path={new} --duration_s=inf", "--duration_s=inf: expected a finite number"),
    ("deploy --policy.path={new} --report={file}/report.json", IN_THE_WAY + "--report"),
    ("deploy --policy.path={new} --report={dir}", "--report={dir}: is a folder, not a file; choose another"),
    ("deploy --policy.path={new} --policy.device=cuda", NO_GPU),
    ("deploy --fps=30", "--policy.path: required"),
    ("deploy --policy.path={new} --episodes=20000", "--episodes=20000: must be at most 10000"),
    (
        "deploy --policy.path={new} --robot.type=so101_bimanual --robot.cameras=top",
        "--robot.cameras: the simulator renders the cameras the policy was trained with",
    ),
    (
        "deploy --policy.path={new} --report={new}/" + "r" * 300 + ".json",
        "longer than the file system allows",
    ),
    ("deploy --policy.path={new} --n_action_steps=0", "--n_action_steps=0: expected a whole number >= 1"),
    ("deploy --policy.path={new} --async=perhaps", "--async=perhaps: expected true or false"),
    ("deploy --policy.path={new} --policy.chunk_size=4", "deploy takes --policy.path and --policy.device"),
    ("deploy --policy.path={new} --max_relative_target=-5", "--max_relative_target=-5: expected a finite"),
    ("deploy --policy.path={new} --temporal_ensemble=nan", "--temporal_ensemble=nan: expected a finite"),
    ("deploy --policy.path={new} --inference_threads=0", "--inference_threads=0: expected a whole number"),
    # record, replay
    ("record --dataset.root={new}/" + "e" * 300, "--dataset.root=.*longer than the file system allows"),
    ("record --dataset.root={file}", "--dataset.root={file}" + IS_A_FILE + "--dataset.root"),
    ("record --dataset.root={file}/data", IN_THE_WAY + "--dataset.root"),
    (
        "record --dataset.root={new} --dataset.repo_id=bad",
        "--dataset.repo_id=bad: not a Hub repo id.*USER/NAME",
    ),
    ("record --episodes=2", "--dataset.root: required"),
    (
        "record --dataset.root={new} --episodes=10001",
        "--episodes=10001: must be at most 10000 \\(episodes of one recording\\)",
    ),
    ("record --dataset.root={new} --seed=-1", "--seed=-1: must be at least 0"),
    (
        "record --robot.backend=real --dataset.repo_id=a/b --dataset.single_task=go --dataset.num_episodes=20000",
        "--dataset.num_episodes=20000: must be at most 10000",
    ),
    ("record --dataset.root={new} --episodes=0", "--episodes=0: must be at least 1"),
    ("record --dataset.root={new} --robot.backend=real", "--dataset.repo_id: required"),
    ("record --dataset.root={new} --robot.backend=rael", "--robot.backend=rael: record drives the simulator"),
    ("record --dataset.root={new} --dataset.video=maybe", "--dataset.video=maybe: expected true or false"),
    ("record --dataset.root={new} --dataset.fps=3", "--dataset.fps: unknown flag"),
    (
        "record --dataset.root={new} --robot.port=/dev/x",
        "record takes --robot.type, --robot.backend and --robot.cameras only",
    ),
    (
        "record --dataset.root={new} --robot.cameras=left_top,nose",
        "--robot.cameras: the simulator has no camera 'nose' for so101_bimanual; it has: .*right_wrist",
    ),
    (
        "record --dataset.root={new} --robot.type=so101 --robot.cameras=left_wrist",
        "--robot.cameras: the simulator has no camera 'left_wrist' for so101",
    ),
    ("record --dataset.root={new} --robot.cameras=,", "--robot.cameras: name at least one camera"),
    ("replay --episode=0", "--dataset.root: required"),
    ("replay --dataset.root={file}", "--dataset.root={file}: is a file, not a folder"),
    ("replay --dataset.root={new}", "--dataset.root={new}: no such folder"),
    ("replay --dataset.root={dir} --episode=abc", "--episode=abc: expected an integer"),
    ("replay --dataset.root={dir} --dataset.repo_id=a/b", "replay takes --dataset.root"),
    # dataset
    ("dataset sample --output {file}", "--output={file}" + IS_A_FILE + "--output"),
    ("dataset sample --output {file}/sample", IN_THE_WAY + "--output"),
    ("dataset sample --output {new} --episodes 0", "--episodes=0: must be at least 1"),
    ("dataset sample --output {new} --episodes 10001", "--episodes=10001: must be at most 10000"),
    ("dataset synth --output {new} --episodes 1000000", "--episodes=1000000: must be at most 10000"),
    ("dataset synth --output {new} --frames 1e9", "--frames=1e9: expected"),
    ("dataset sample --task=nosuch", "no installed plugin provides a sample dataset of task 'nosuch'"),
    ("dataset info --dataset.root={file}", "--dataset.root={file}: is a file, not a folder"),
    ("dataset info --dataset.root={new}", "--dataset.root={new}: no such folder"),
    ("dataset info --dataset.repo_id=bad", "--dataset.repo_id=bad: expected USER/NAME"),
    ("dataset infoo", "(?i)no (such )?command 'infoo'.*Did you mean 'info'\\?"),
    # export, push
    ("export {ckpt} --to {file}", "--to={file}" + IS_A_FILE + "--to"),
    ("export {ckpt} --to {file}/model", IN_THE_WAY + "--to"),
    ("export {new} --to {dir}/model", "CHECKPOINT={new}: no such folder"),
    ("export {dir} --to {new}", "CHECKPOINT={dir}: no config.json here"),
    ("export {ckpt}", "Missing option '--to'"),
    ("export {ckpt} --to {new} --repo-id=bad", "--repo_id=bad: not a Hub repo id"),
    ("export {ckpt} --to {new}/" + "m" * 300, "--to=.*longer than the file system allows"),
    (
        "export {ckpt} --to {new} --overwrite=maybe",
        "Invalid value for '--overwrite': 'maybe' is not a valid boolean",
    ),
    ("push {ckpt}", "Missing option '--repo_id'"),
    ("push {ckpt} --repo_id=bad", "--repo_id=bad: not a Hub repo id"),
    # recommend
    ("recommend --gpu-memory-gb=inf", "--gpu_memory_gb=inf: expected a number of GB"),
    ("recommend --gpu_memory_gb=nan", "--gpu_memory_gb=nan: expected a number of GB"),
    ("recommend --gpu-memory-gb=-1", "--gpu_memory_gb=-1: expected a number of GB"),
    ("recommend --goal=fast", "--goal=fast: allowed values are"),
    ("recommend --language=maybe", "--language=maybe: expected true or false"),
    ("recommend --dataset.episodes=3", "--dataset.episodes: unknown flag; recommend reads"),
    # plugin, calibrate, bench, listings
    ("plugin new mine --dir {file}/mine", IN_THE_WAY + "--dir"),
    ("plugin new mine --dir {file}", "Invalid value for '--dir': Directory .* is a file"),
    ("plugin new act", "NAME=act: policy type 'act' already exists \\(policyzoo-act\\)"),
    ("plugin new Bad-Name", "NAME=Bad-Name: a plugin name is lowercase letters"),
    ("plugin neww mine", "(?i)no (such )?command 'neww'.*Did you mean 'new'\\?"),
    ("calibrate", "--robot.type: required"),
    ("calibrate --robot.type=so101 --robot.backend=sim", "calibrate works on the real robot only"),
    ("bench cli --repeats 0", "Invalid value for '--repeats'"),
    ("bench clii", "no command 'clii'.*Did you mean 'cli'\\?"),
    ("policies show actt", "TYPE=actt: unknown policy type.*Did you mean 'act'\\?"),
    ("policies schema nonsense", "TYPE=nonsense: unknown policy type"),
    ("robots show nobot", "TYPE=nobot: unknown robot type"),
    ("plugins doctr", "no command 'doctr'.*Did you mean 'doctor'\\?"),
]


@pytest.fixture
def places(tmp_path: Path) -> dict[str, str]:
    (tmp_path / "a_file").write_text("not a folder\n")
    (tmp_path / "empty").mkdir()
    results = tmp_path / "results"
    results.mkdir()
    (results / "eval_summary.json").write_text("{}\n")
    (results / "episode_000.mp4").write_bytes(b"old video")
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "config.json").write_text('{"type": "act"}\n')
    return {
        "file": str(tmp_path / "a_file"),
        "dir": str(tmp_path / "empty"),
        "new": str(tmp_path / "new"),
        "results": str(results),
        "ckpt": str(tmp_path / "ckpt"),
    }


def test_the_table_covers_every_command() -> None:
    commands = {line.split()[0] for line, _ in TABLE}
    assert len(TABLE) >= 60
    assert commands >= {
        "train",
        "eval",
        "deploy",
        "record",
        "replay",
        "dataset",
        "export",
        "push",
        "recommend",
        "plugin",
        "calibrate",
        "bench",
        "policies",
        "robots",
        "plugins",
    }


@pytest.mark.parametrize(("line", "pattern"), TABLE, ids=[line for line, _ in TABLE])
def test_bad_line_is_one_line_exit_2(
    line: str, pattern: str, places: dict[str, str], run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "policyzoo_runtime.devices.nvidia_driver_present", lambda: False
    )  # also on a GPU machine
    code, out, err = run_cli(*line.format(**places).split())
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("policyzoo: error: ")
    assert re.search(pattern.format(**{k: re.escape(v) for k, v in places.items()}), lines[0]), lines[0]
    assert Path(places["results"], "episode_000.mp4").read_bytes() == b"old video"  # nothing saved is lost


@pytest.mark.parametrize(
    ("number", "problem"),
    [
        (errno.ENOSPC, "no space left on the device \\(disk full\\); free some space and run again"),
        (errno.EROFS, "read-only file system; choose a path on a writable disk"),
        (errno.EACCES, "permission denied; choose a path you can write to"),
        (errno.ENOTDIR, "not a directory \\(a file is in the way\\); choose another path"),
    ],
)
def test_file_system_errors_become_one_line_naming_the_path(
    number: int, problem: str, tmp_path: Path, run_cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "plugin" / "pyproject.toml"

    def create(*_args, **_kwargs):
        raise OSError(number, "raised by the test", str(target))

    monkeypatch.setattr("policyzoo_runtime.scaffold.create", create)
    code, out, err = run_cli("plugin", "new", "mine", "--dir", str(tmp_path / "plugin"))
    assert code == 2 and "Traceback" not in err
    assert re.fullmatch(f"policyzoo: error: {re.escape(str(target))}: {problem}", err.strip()), err


def test_output_checks_name_permission_and_read_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policyzoo_runtime import writable as files

    assert files.check_writable(tmp_path / "x" / "y", "--to") == tmp_path / "x" / "y"
    monkeypatch.setattr(files.os, "access", lambda *_: False)
    with pytest.raises(
        BadInput,
        match=f"--to={re.escape(str(tmp_path))}/x/y: no permission to write in "
        f"{re.escape(str(tmp_path))}; choose another --to",
    ):
        files.check_writable(tmp_path / "x" / "y", "--to")

    class ReadOnly:
        f_flag = files.os.ST_RDONLY

    monkeypatch.setattr(files.os, "statvfs", lambda _path: ReadOnly)
    with pytest.raises(
        BadInput,
        match=f"--report=.*/r.json: {re.escape(str(tmp_path))} is on a read-only "
        f"file system; choose another --report",
    ):
        files.check_writable(tmp_path / "r.json", "--report", folder=False)


def test_eval_overwrite_passes_the_check_and_finds_the_old_results(places: dict[str, str]) -> None:
    from policyzoo_runtime.evaluation.sim import check_output, earlier_results

    results = Path(places["results"])
    check_output(results, overwrite=True)
    assert [path.name for path in earlier_results(results)] == ["episode_000.mp4", "eval_summary.json"]
    assert earlier_results(Path(places["new"])) == []


def test_deploy_that_misses_most_deadlines_says_what_to_change() -> None:
    from policyzoo_runtime.deploy.report import DeployReport

    late = DeployReport(
        mode="sync", fps=30, ticks=300, late_ticks=300, missed_deadlines=647, latencies_s=[0.12] * 10
    )
    hint = late.lines()[-1]
    assert hint.startswith("hint: 100% of deadlines missed (inference p50 120 ms for a 33 ms period)")
    assert "--async=true" in hint and "a smaller model" in hint and "--policy.device=cuda" in hint
    assert late.summary()["hint"] == hint
    already_async = DeployReport(
        mode="async", fps=30, ticks=300, late_ticks=200, missed_deadlines=300, latencies_s=[0.05]
    )
    assert "--async" not in already_async.lines()[-1] and "a GPU" in already_async.lines()[-1]
    on_time = DeployReport(mode="sync", fps=30, ticks=300, late_ticks=3, latencies_s=[0.01])
    assert not any(line.startswith("hint") for line in on_time.lines()) and on_time.summary()["hint"] is None


def test_wandb_without_a_login_logs_offline_and_says_so_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from policyzoo_runtime.train.config import TrainConfig
    from policyzoo_runtime.train.wandb_logger import run_mode

    for variable in ("WANDB_API_KEY", "WANDB_IDENTITY_TOKEN_FILE", "WANDB_MODE", "WANDB_BASE_URL"):
        monkeypatch.delenv(variable, raising=False)
    netrc = tmp_path / "netrc"
    netrc.write_text("machine example.org login me password secret\n")
    monkeypatch.setenv("NETRC", str(netrc))
    assert run_mode(TrainConfig(wandb_enable=True)) == "offline"
    warning = capsys.readouterr().err.strip().splitlines()
    assert len(warning) == 1 and "without a W&B login" in warning[0] and "wandb sync" in warning[0]
    assert run_mode(TrainConfig(wandb_enable=True, wandb_mode="disabled")) == "disabled"
    netrc.write_text("machine api.wandb.ai login user password abc123\n")
    assert run_mode(TrainConfig(wandb_enable=True)) is None  # logged in: wandb decides (online)
    assert capsys.readouterr().err == ""


JOINTS = 12
CAMERA = "observation.images.top"


@pytest.fixture(scope="module")
def tiny_act():
    import policyzoo
    from policyzoo import Features

    spec = policyzoo.get_spec("act")(
        device="cpu",
        chunk_size=3,
        n_action_steps=3,
        dim_model=16,
        n_heads=2,
        dim_feedforward=16,
        n_encoder_layers=1,
        n_decoder_layers=1,
        n_vae_encoder_layers=1,
        latent_dim=4,
    )
    features = Features(
        state={"observation.state": (JOINTS,)},
        visual={CAMERA: (3, 16, 20)},
        action={"action": (JOINTS,)},
        fps=30,
    )
    stats = {
        "observation.state": {"mean": [0.0] * JOINTS, "std": [1.0] * JOINTS},
        "action": {"mean": [0.0] * JOINTS, "std": [1.0] * JOINTS},
        CAMERA: {"mean": [[[0.5]]] * 3, "std": [[[0.25]]] * 3},
    }
    return policyzoo.build_policy(spec, features, stats)


def camera_observation():
    import numpy as np

    rng = np.random.default_rng(0)
    return {
        "observation.state": rng.uniform(-1, 1, JOINTS),  # float64, as numpy makes it
        CAMERA: rng.integers(0, 256, (16, 20, 3), dtype=np.uint8),
        "task": "",
    }


def test_select_action_takes_what_a_camera_gives(tiny_act) -> None:
    import torch

    observation = camera_observation()
    tiny_act.reset()
    from_camera = tiny_act.predict_chunk(observation)
    as_dataset = {
        "observation.state": torch.tensor(observation["observation.state"], dtype=torch.float32),
        CAMERA: torch.from_numpy(observation[CAMERA]).permute(2, 0, 1).float() / 255,
        "task": "",
    }
    assert from_camera.shape == (3, JOINTS)
    assert torch.allclose(from_camera, tiny_act.predict_chunk(as_dataset))
    tiny_act.reset()
    assert tiny_act.select_action(observation).shape == (JOINTS,)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda o: {k: v for k, v in o.items() if k != CAMERA},
            f"the observation has no '{CAMERA}' \\(it has: observation.state, task\\); the policy takes "
            f"'observation.state': \\(12,\\) numbers; '{CAMERA}': \\(16, 20, 3\\) uint8 or \\(3, 16, 20\\) float",
        ),
        (
            lambda o: {**o, "observation.state": o["observation.state"][None]},
            "'observation.state' has shape \\(1, 12\\); the policy takes \\(12,\\) \\(one observation, without a batch",
        ),
        (
            lambda o: {**o, CAMERA: o[CAMERA][None]},
            f"'{CAMERA}' has shape \\(1, 16, 20, 3\\).*without a batch",
        ),
        (
            lambda o: {**o, CAMERA: o[CAMERA].transpose(2, 0, 1).astype("float32")},
            f"'{CAMERA}' holds floats up to 25[0-5]; pass floats in \\[0, 1\\] \\(divide by 255\\)",
        ),
        (
            lambda o: {**o, CAMERA: o[CAMERA][:8]},
            f"'{CAMERA}' has shape \\(8, 20, 3\\); the policy takes \\(16, 20, 3\\)",
        ),
        (
            lambda o: {**o, "observation.state": o["observation.state"][:6]},
            "has shape \\(6,\\); the policy takes \\(12,\\)",
        ),
        (lambda o: {**o, "observation.state": "zeros"}, "'observation.state' is a str; pass numbers"),
        (lambda o: list(o.values()), "the observation is a list; pass a dict with 'observation.state'"),
    ],
    ids=[
        "missing camera",
        "batched state",
        "batched image",
        "0-255 floats",
        "wrong size",
        "short state",
        "text",
        "not a dict",
    ],
)
def test_select_action_says_what_it_expects(tiny_act, change, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        tiny_act.select_action(change(camera_observation()))
    with pytest.raises(BadInput, match=message):
        tiny_act.predict_chunk(change(camera_observation()))


def test_a_path_too_long_for_what_is_written_inside_is_refused(tmp_path: Path) -> None:
    from policyzoo_runtime import writable as files

    deep = tmp_path.joinpath(*["d" * 200] * 20)
    with pytest.raises(
        BadInput,
        match=r"\.\.\.: the path is \d+ bytes, too long for the files written inside it "
        r"\(the file system takes 4096\); choose a shorter --output_dir",
    ):
        files.check_writable(deep, "--output_dir")
    assert files.check_writable(tmp_path / ("d" * 200), "--output_dir") == tmp_path / ("d" * 200)
