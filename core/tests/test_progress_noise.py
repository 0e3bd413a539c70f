"""Long work shows progress (train, eval, record) and LeRobot's helpers keep quiet unless POLICYZOO_VERBOSE=1:
the datasets "Map" bar, the SVT-AV1 encoder's and FFmpeg's logs, numpy's RuntimeWarnings in lerobot.datasets."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from policyzoo.features import STATE_KEY
from policyzoo.registry import get_registry
from policyzoo.spec import JointSpec, RobotSpec
from policyzoo_runtime.quiet import SVT_LOG_VARIABLE, VERBOSE_VARIABLE, quiet_lerobot, verbose
from policyzoo_runtime.record.sim import record_episodes
from policyzoo_runtime.train.config import TrainConfig
from policyzoo_runtime.train.metrics import verdict
from policyzoo_runtime.train.progress import RunLog, say, starting


class Terminal(io.StringIO):
    """A stream that says it is a terminal, so tqdm draws its bar into it."""

    def isatty(self) -> bool:
        return True


def terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """A terminal as sys.stderr, from here to the end of the test (called in the test: capsys replaces
    sys.stderr once the fixtures are set up)."""
    stream = Terminal()
    monkeypatch.setattr(sys, "stderr", stream)
    return stream


# -- the quiet scope ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("", False), ("0", False), ("false", False), ("1", True), ("yes", True)]
)
def test_verbose_reads_the_variable(monkeypatch: pytest.MonkeyPatch, value: str, expected: bool) -> None:
    monkeypatch.setenv(VERBOSE_VARIABLE, value)
    assert verbose() is expected


def test_svt_log_is_set_inside_only_and_a_users_own_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SVT_LOG_VARIABLE, raising=False)
    with quiet_lerobot():
        assert os.environ[SVT_LOG_VARIABLE] == "1"
    assert SVT_LOG_VARIABLE not in os.environ
    monkeypatch.setenv(SVT_LOG_VARIABLE, "3")
    with quiet_lerobot():
        assert os.environ[SVT_LOG_VARIABLE] == "3"
    monkeypatch.delenv(SVT_LOG_VARIABLE)
    monkeypatch.setenv(VERBOSE_VARIABLE, "1")
    with quiet_lerobot():
        assert SVT_LOG_VARIABLE not in os.environ


def test_the_datasets_map_bar_is_hidden_inside_and_back_after(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import datasets
    from datasets.utils import are_progress_bars_disabled

    table = datasets.Dataset.from_dict({"a": list(range(20))})
    with quiet_lerobot():
        table.map(lambda row: row)
    assert "Map" not in capfd.readouterr().err
    assert not are_progress_bars_disabled()
    monkeypatch.setenv(VERBOSE_VARIABLE, "1")
    with quiet_lerobot():
        table.map(lambda row: row)
    assert "Map" in capfd.readouterr().err


ENCODE = textwrap.dedent("""
    import os, sys
    from pathlib import Path
    import numpy as np
    from PIL import Image
    from lerobot.datasets.video_utils import concatenate_video_files, encode_video_frames
    from policyzoo_runtime.quiet import quiet_lerobot

    folder = Path(sys.argv[1])
    for index in range(4):
        Image.fromarray(np.full((32, 32, 3), index * 40, np.uint8)).save(folder / f"frame-{index:06d}.png")

    def encode(name):
        with quiet_lerobot():
            encode_video_frames(folder, folder / f"{name}.mp4", 10, overwrite=True)
            concatenate_video_files([folder / f"{name}.mp4"] * 2, folder / f"{name}-twice.mp4")

    encode("quiet")
    print("VERBOSE FROM HERE", file=sys.stderr, flush=True)
    os.environ["POLICYZOO_VERBOSE"] = "1"
    encode("verbose")
""")


@pytest.mark.slow
def test_the_encoder_and_ffmpeg_print_nothing_unless_verbose(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if key not in (SVT_LOG_VARIABLE, VERBOSE_VARIABLE)}
    result = subprocess.run(
        [sys.executable, "-c", ENCODE, str(tmp_path)], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stderr
    quiet, loud = result.stderr.split("VERBOSE FROM HERE")
    assert "Svt[" not in quiet and "[mp4 @" not in quiet, quiet
    assert "Svt[info]" in loud and "[mp4 @" in loud  # what the user saw before, and sees with the variable
    assert (tmp_path / "quiet-twice.mp4").stat().st_size > 0


# -- record: a bar over the episodes, no library noise ---------------------------------------------------------


class Expert:
    def __init__(self, frames: int) -> None:
        self.left = frames

    @property
    def done(self) -> bool:
        return self.left == 0

    def __call__(self, observation: dict[str, Any]) -> np.ndarray:
        self.left -= 1
        return np.zeros(2, np.float32)


class ScriptedSim:
    """The little of a simulated robot that recording uses: two joints, no camera, a 3-frame expert."""

    spec = RobotSpec(
        type="pair",
        fps=10,
        joints=[JointSpec(name=name, unit="deg", lower=-90, upper=90) for name in ("a", "b")],
    )
    task = "hold still"

    def __init__(self) -> None:
        self.episodes = 0

    def reset(self, seed: int) -> dict[str, Any]:
        self.episodes += 1
        return self.observe()

    def observe(self) -> dict[str, Any]:
        return {STATE_KEY: np.zeros(2, np.float32)}

    def expert(self) -> Expert:
        return Expert(3)

    def act(self, action: np.ndarray) -> None:
        pass

    def reward(self) -> float:
        return 0.0

    def success(self) -> bool:
        return self.episodes % 2 == 1


def record_quietly(root: Path, progress: bool = True) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        record_episodes(ScriptedSim(), root, f"local/{root.name}", 2, progress=progress)
    return [w for w in caught if issubclass(w.category, RuntimeWarning)]


@pytest.mark.slow
def test_record_shows_a_bar_and_a_line_per_episode_and_no_library_noise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = terminal(monkeypatch)
    caught = record_quietly(tmp_path / "quiet")
    out = capsys.readouterr().out
    assert "episode 0: 3 frames, seed 0, success True\nepisode 1: 3 frames, seed 1, success False\n" in out
    bar = stderr.getvalue()
    assert "2/2" in bar and "episode" in bar and "1 successful" in bar
    assert "Map" not in bar and not caught
    monkeypatch.setenv(VERBOSE_VARIABLE, "1")
    record_quietly(tmp_path / "verbose")
    assert "Map" in stderr.getvalue()


@pytest.mark.slow
def test_record_without_progress_prints_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stderr = terminal(monkeypatch)
    record_quietly(tmp_path / "silent", progress=False)
    assert capsys.readouterr().out == "" and stderr.getvalue() == ""


# -- eval: a bar over the episodes ------------------------------------------------------------------------------


def fake_evaluate(config: Any, progress: Any = None) -> dict[str, Any]:
    for index, success in enumerate([True, False]):
        progress(
            SimpleNamespace(
                index=index,
                success=success,
                failure=None,
                length=10,
                sum_reward=1.0,
                max_reward=0.5,
                video=None,
            )
        )
    return {
        "episodes": 2,
        "policy": {"type": "act"},
        "env": config.env,
        "seed": 0,
        "success_rate": 0.5,
        "success_interval_95": [0.1, 0.9],
        "mean_sum_reward": 1.0,
        "mean_episode_length": 10.0,
        "timing": {"env_steps_per_s": 5.0, "workers": 1},
    }


def test_eval_says_what_it_loads_then_draws_a_bar_with_the_successes(
    run_cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import policyzoo_runtime.evaluation.sim

    stderr = terminal(monkeypatch)
    monkeypatch.setattr(policyzoo_runtime.evaluation.sim, "evaluate", fake_evaluate)
    code, out, _ = run_cli(
        "eval",
        "--policy.path=some/policy",
        "--episodes=2",
        "--workers=4",
        f"--output_dir={tmp_path / 'eval'}",
    )
    assert code == 0, stderr.getvalue()
    lines = out.splitlines()
    assert lines[0] == "loading some/policy and starting so101_bimanual_sim in 2 process(es) ..."
    assert lines[1:3] == [
        "episode 0: success, 10 steps, reward sum 1.00, max 0.50",
        "episode 1: failure, 10 steps, reward sum 1.00, max 0.50",
    ]
    bar = stderr.getvalue()
    assert "2/2" in bar and ("episode/s" in bar or "s/episode" in bar)
    assert "1/2 successful" in bar


# -- train: the bar, the lines above it and the one-line summary -----------------------------------------------


def test_say_and_starting_write_whole_lines_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    class Stream(io.StringIO):
        flushed = ""

        def flush(self) -> None:
            self.flushed = self.getvalue()

    stream = Stream()
    monkeypatch.setattr(sys, "stdout", stream)
    starting("loading torch and LeRobot")
    assert stream.flushed == "loading torch and LeRobot ...\n"
    say("step:1 loss:1.0")
    assert stream.flushed.endswith("step:1 loss:1.0\n")
    monkeypatch.setenv("RANK", "1")  # another process of an accelerate launch
    starting("building act")
    assert "building" not in stream.getvalue()


def indicated_types() -> list[str]:
    guides = {entry.type: entry.card.guide for entry in get_registry().policies.values()}
    return sorted(
        policy_type
        for policy_type, guide in guides.items()
        if guide is not None and guide.indicator is not None and guide.indicator.goal is not None
    )


@pytest.mark.parametrize("policy_type", indicated_types())
def test_the_verdict_is_one_line_that_names_its_source_once(policy_type: str) -> None:
    indicator = get_registry().policy(policy_type).card.guide.indicator
    assert indicator is not None and indicator.goal is not None
    text = verdict(policy_type, 123.0, 45.0)
    assert "\n" not in text and text.startswith("loss 123 -> 45 (-63%); ")
    assert text.count(indicator.note) == 1 and text.count(f"below {indicator.goal:g}") == 1
    if indicator.start is not None:
        assert text.count(f"near {indicator.start:g} ") == 1
    assert text.endswith(": not reached yet")


def test_first_party_indicators_name_the_guide() -> None:
    for policy_type in ("act", "diffusion"):
        assert verdict(policy_type, 20.0, 0.01).split("; ")[1].startswith("the guide expects ")


def test_the_end_of_training_summary_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = RunLog(TrainConfig(steps=2, log_freq=1), "act", tmp_path, 0, main=True)
    for step, loss in ((1, 2.0), (2, 0.05)):
        log.add(step, {"loss": loss, "grad_norm": 1.0, "update_s": 0.1, "data_s": 0.01})
        log.log(step, 1e-5)
    log.say_done(log.summary("finished", 2), 2)
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in out] == ["step:1", "step:2", "done:"]
    assert out[-1].endswith(
        "; loss 2 -> 0.05 (-98%); the guide expects act to start near 1 and to end below 0.1: reached"
    )


@pytest.mark.slow
def test_training_draws_a_bar_with_rate_and_eta_from_the_first_step(
    tiny_dataset_one_camera: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "mlp_bc" not in get_registry().policies:
        pytest.skip("the mlp_bc example plugin is not installed")
    from policyzoo_runtime.train import prepare
    from policyzoo_runtime.train.loop import train

    config = TrainConfig(
        dataset_root=str(tiny_dataset_one_camera),
        policy_type="mlp_bc",
        policy={"device": "cpu"},
        output_dir=str(tmp_path / "out"),
        steps=3,
        batch_size=2,
        log_freq=10,
        save_freq=10,
        num_workers=0,
    )
    stderr = terminal(monkeypatch)
    train(prepare.plan(config))
    bar = stderr.getvalue()
    assert "0/3 [00:00<?" in bar  # drawn before the first step
    assert re.search(r"3/3 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+(step/s|s/step)\]", bar), bar  # elapsed<left, rate


def test_train_says_what_it_loads_before_the_slow_imports(
    run_cli: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import policyzoo_runtime.train.loop as loop

    def stop(plan: Any) -> None:
        raise loop.TrainingStopped("stopped by the test", 3)

    monkeypatch.setattr(loop, "train", stop)
    code, out, _ = run_cli("train", "--policy.type=act", "--steps=1", f"--output_dir={tmp_path / 'run'}")
    assert code == 3 and out.splitlines()[0] == "loading torch and LeRobot ..."
