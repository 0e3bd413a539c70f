"""LeRobot's `--dataset.image_transforms.*` and `--scheduler.*` training flags: parsed as LeRobot parses them,
refused in one line when wrong, and really applied to the run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from policyzoo.errors import BadInput
from policyzoo.flags import Flags
from policyzoo_runtime.lerobot.datasets import open_dataset
from policyzoo_runtime.lerobot.options import TrainOptions, build_image_transforms, scheduler_config
from policyzoo_runtime.train import prepare
from policyzoo_runtime.train.config import CONFIG_FILE, TrainConfig, parse_flags, resolve

SHIFT = '{"shift": {"type": "RandomAffine", "kwargs": {"degrees": 0, "translate": [0.2, 0.2]}}}'
COSINE = [
    "--scheduler.type=cosine_decay_with_warmup",
    "--scheduler.num_warmup_steps=2",
    "--scheduler.num_decay_steps=10",
    "--scheduler.peak_lr=1e-3",
    "--scheduler.decay_lr=1e-5",
]


def config_of(args: list[str]) -> TrainConfig:
    return resolve(parse_flags(Flags(args)), "policyzoo train " + " ".join(args))


def test_the_flags_land_in_the_config_and_resume_keeps_the_scheduler(tmp_path: Path) -> None:
    config = config_of(
        [
            "--policy.type=act",
            "--dataset.image_transforms.enable=true",
            f"--dataset.image_transforms.tfs={SHIFT}",
            *COSINE,
        ]
    )
    assert config.image_transforms == {"enable": "true", "tfs": SHIFT}
    assert config.scheduler["type"] == "cosine_decay_with_warmup" and config.scheduler["peak_lr"] == "1e-3"
    options = TrainOptions.from_flags(config.image_transforms, config.scheduler)
    assert type(options.scheduler).__name__ == "CosineDecayWithWarmupSchedulerConfig"
    assert options.scheduler.num_decay_steps == 10
    stored = TrainConfig(
        dataset_root="/data", policy_type="act", output_dir=str(tmp_path), scheduler=config.scheduler
    )
    (tmp_path / CONFIG_FILE).write_text(stored.to_json())
    assert config_of(["--resume=true", f"--output_dir={tmp_path}"]).scheduler == config.scheduler
    with pytest.raises(BadInput, match=re.escape("--scheduler.*: cannot change when resuming")):
        config_of(["--resume=true", f"--output_dir={tmp_path}", "--scheduler.type=diffuser"])


def test_transforms_off_unless_enabled() -> None:
    assert build_image_transforms({}) is None
    assert build_image_transforms({"tfs": SHIFT}) is None
    assert build_image_transforms({"enable": "false"}) is None
    assert scheduler_config({}) is None


@pytest.mark.parametrize(
    ("transforms", "scheduler", "message"),
    [
        ({"enable": "maybe"}, {}, "--dataset.image_transforms.enable: Couldn't parse 'maybe' into a bool"),
        (
            {"enabled": "true"},
            {},
            "--dataset.image_transforms.enabled: unknown option; dataset.image_transforms "
            "takes: --dataset.image_transforms.enable,",
        ),
        (
            {"enable": "true", "tfs": '{"x": {"type": "Warp"}}'},
            {},
            "--dataset.image_transforms.tfs: Transform 'Warp' is not valid",
        ),
        (
            {"enable": "true", "max_num_transforms": "two"},
            {},
            "--dataset.image_transforms.max_num_transforms: Couldn't parse 'two' into an int",
        ),
        (
            {},
            {"peak_lr": "1e-3"},
            "--scheduler.type: name the scheduler these flags configure; one of: "
            "constant_with_warmup, cosine_annealing_with_warmup, cosine_decay_with_warmup, "
            "diffuser, vqbet",
        ),
        ({}, {"type": "cosine"}, "--scheduler.type=cosine: LeRobot has no such scheduler"),
        (
            {},
            {"type": "cosine_decay_with_warmup"},
            "--scheduler: Missing required field(s) `num_warmup_steps`",
        ),
        (
            {},
            {"type": "diffuser", "num_warmup_steps": "ten"},
            "--scheduler.num_warmup_steps: Could not decode the value into any of the given types: int: "
            "Couldn't parse 'ten' into an int",
        ),
        ({}, {"type": "diffuser", "warmup": "10"}, "--scheduler.warmup: unknown option"),
    ],
)
def test_bad_values_get_one_line(transforms: dict[str, str], scheduler: dict[str, str], message: str) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        TrainOptions.from_flags(transforms, scheduler)


def test_the_cli_refuses_a_bad_scheduler_before_creating_the_output(
    run_cli, tiny_dataset: Path, tmp_path: Path
) -> None:
    code, out, err = run_cli(
        "train",
        f"--dataset.root={tiny_dataset}",
        "--policy.type=act",
        f"--output_dir={tmp_path / 'out'}",
        "--scheduler.type=cosine",
    )
    assert code == 2 and "--scheduler.type=cosine: LeRobot has no such scheduler" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_shifted_images_reach_the_batch(tiny_dataset: Path) -> None:
    place = prepare.locate_dataset(TrainConfig(dataset_root=str(tiny_dataset)))
    plain = open_dataset(place, {})
    shifted = open_dataset(place, {}, build_image_transforms({"enable": "true", "tfs": SHIFT}))
    key = next(key for key in place.features.visual)
    torch.manual_seed(0)
    changed = [not torch.equal(plain[index][key], shifted[index][key]) for index in range(8)]
    assert shifted[0][key].shape == plain[0][key].shape
    assert sum(changed) >= 6  # a shift of up to 20% moves almost every frame
    assert torch.equal(plain[3]["action"], shifted[3]["action"])


@pytest.mark.slow
def test_a_run_follows_the_scheduler_and_trains_on_shifted_images(tiny_dataset: Path, tmp_path: Path) -> None:
    from policyzoo_runtime.train.loop import train

    config = config_of(
        [
            f"--dataset.root={tiny_dataset}",
            "--policy.type=act",
            f"--output_dir={tmp_path / 'out'}",
            "--steps=10",
            "--batch_size=2",
            "--log_freq=1",
            "--save_freq=10",
            "--num_workers=0",
            "--policy.device=cpu",
            "--policy.chunk_size=5",
            "--policy.n_action_steps=5",
            "--policy.dim_model=16",
            "--policy.n_heads=2",
            "--policy.dim_feedforward=32",
            "--policy.n_encoder_layers=1",
            "--policy.use_vae=false",
            "--policy.optimizer_lr=1e-3",
            "--policy.optimizer_lr_backbone=1e-3",
            "--dataset.image_transforms.enable=true",
            f"--dataset.image_transforms.tfs={SHIFT}",
            *COSINE,
        ]
    )
    result = train(prepare.plan(config))
    rates = [json.loads(line)["lr"] for line in result.metrics.read_text().splitlines()]
    assert len(rates) == 10
    optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1e-3)  # ACT's rate, both groups
    expected = scheduler_config(config.scheduler).build(optimizer, 10)
    lrs = []
    for _ in range(10):
        optimizer.step()
        expected.step()
        lrs.append(expected.get_last_lr()[0])  # logged after the step, as lerobot-train logs it
    assert rates == pytest.approx(lrs, rel=1e-6)  # LeRobot's cosine decay: 2 warm-up steps, then down to 1%
    assert rates[-1] < 0.1 * max(rates)
    stored = json.loads((tmp_path / "out" / CONFIG_FILE).read_text())
    assert stored["image_transforms"]["enable"] == "true" and stored["scheduler"]["num_decay_steps"] == "10"


def test_every_installed_preset_names_flags_lerobot_takes() -> None:
    from policyzoo.flags import flag_text
    from policyzoo.registry import get_registry

    checked = 0
    for entry in get_registry().policies.values():
        for presets in (entry.card.bench.presets if entry.card.bench else {}).values():
            for preset in (presets.cpu, presets.gpu, presets.demo):
                phases = (
                    []
                    if preset is None
                    else [preset.flags, *([preset.finish.flags] if preset.finish else [])]
                )
                for flags in filter(None, phases):
                    given = parse_flags(
                        Flags([f"--{name}={flag_text(value)}" for name, value in flags.items()])
                    )
                    TrainOptions.from_flags(given.get("image_transforms", {}), given.get("scheduler", {}))
                    checked += 1
    assert checked >= 3  # ACT's lift and transfer CPU presets and the transfer one's finishing phase at least


def test_optimizer_flags_change_the_preset_or_replace_it() -> None:
    from .conftest import tiny_act

    handle = tiny_act()
    preset = handle.config.get_optimizer_preset()
    optimizer, _ = handle.optimizer_and_scheduler(
        None, 10, optimizer={"weight_decay": "0", "grad_clip_norm": "1.5"}
    )
    assert isinstance(optimizer, torch.optim.AdamW) and preset.weight_decay > 0
    assert all(group["weight_decay"] == 0 for group in optimizer.param_groups)
    assert optimizer.param_groups[0]["lr"] == preset.lr and handle.grad_clip_norm() == 1.5
    optimizer, _ = handle.optimizer_and_scheduler(2e-3, 10, optimizer={"type": "sgd", "momentum": "0.9"})
    assert isinstance(optimizer, torch.optim.SGD) and optimizer.param_groups[0]["momentum"] == 0.9
    assert optimizer.param_groups[0]["lr"] == 2e-3
    for settings, message in (
        ({"type": "nope"}, "--optimizer.type=nope: not an optimizer for these policies"),
        ({"type": "multi_adam"}, "--optimizer.type=multi_adam: not an optimizer"),
        ({"betas": "fast"}, "--optimizer.betas"),
        ({"momentum": "0.9"}, "--optimizer.momentum: unknown option"),
    ):
        with pytest.raises(BadInput, match=re.escape(message)):
            handle.optimizer_and_scheduler(None, 10, optimizer=settings)


def test_on_the_cpu_adam_and_adamw_are_lerobots_own_with_torchs_fused_kernel() -> None:
    from lerobot.optim.optimizers import AdamConfig

    from policyzoo_runtime.lerobot.handle import built_optimizer

    from .conftest import tiny_act

    handle = tiny_act()
    optimizer, _ = handle.optimizer_and_scheduler(None, 10)
    lerobots = handle.config.get_optimizer_preset().build(handle.policy.get_optim_params())
    assert type(optimizer) is type(lerobots) is torch.optim.AdamW
    settings = ("lr", "betas", "eps", "weight_decay")
    assert [[group[name] for name in settings] for group in optimizer.param_groups] == [
        [group[name] for name in settings] for group in lerobots.param_groups
    ]  # ACT's two groups (the backbone has its own rate)
    assert all(group["fused"] for group in optimizer.param_groups)
    assert not any(group["fused"] for group in lerobots.param_groups)

    weights = [torch.nn.Parameter(torch.arange(6.0).reshape(2, 3))]
    twin = [torch.nn.Parameter(weights[0].detach().clone())]
    fused, loop = (
        built_optimizer(AdamConfig(lr=0.1), weights, torch.device("cpu")),
        AdamConfig(lr=0.1).build(twin),
    )
    for _ in range(3):  # the same update as the per-tensor loop
        for parameters, stepper in ((weights, fused), (twin, loop)):
            (parameters[0] ** 2).sum().backward()
            stepper.step()
            stepper.zero_grad()
    torch.testing.assert_close(weights[0], twin[0])
    assert type(fused) is torch.optim.Adam and fused.param_groups[0]["fused"]


def test_lerobots_preset_switch_needs_both_replacements() -> None:
    with pytest.raises(BadInput, match=r"--optimizer.type=\.\.\. --scheduler.type=\.\.\."):
        parse_flags(Flags(["--use_policy_training_preset=false", "--optimizer.type=adam"]))
    given = parse_flags(
        Flags(
            [
                "--use_policy_training_preset=false",
                "--optimizer.type=adam",
                "--optimizer.lr=1e-3",
                "--scheduler.type=cosine_decay_with_warmup",
            ]
        )
    )
    assert given["optimizer"] == {"type": "adam"} and given["lr"] == 1e-3
