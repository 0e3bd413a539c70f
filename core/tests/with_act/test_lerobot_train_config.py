"""A run as LeRobot's `TrainPipelineConfig`: the optimizer and schedule it really used, in LeRobot's terms."""

from __future__ import annotations

from typing import Any

from policyzoo_runtime.lerobot.train_config import lerobot_train_config
from policyzoo_runtime.train.config import TrainConfig

RUN = TrainConfig(
    dataset_repo_id="me/data",
    dataset_root="data",
    policy_type="act",
    output_dir="out",
    batch_size=4,
    gradient_accumulation_steps=2,
    steps=10,
)


def act_config() -> Any:
    from lerobot.policies.factory import make_policy_config

    return make_policy_config("act", device="cpu", push_to_hub=False)


def test_a_changed_rate_becomes_the_policys_and_keeps_its_presets() -> None:
    policy = act_config()
    optimizer = policy.get_optimizer_preset()
    optimizer.lr = 3e-4
    lerobot = lerobot_train_config(RUN, policy, optimizer, None)
    assert lerobot.use_policy_training_preset and lerobot.optimizer is None and lerobot.scheduler is None
    assert lerobot.policy.optimizer_lr == 3e-4 and lerobot.policy.get_optimizer_preset() == optimizer
    assert policy.optimizer_lr != 3e-4  # the run's own policy config is left alone
    assert lerobot.batch_size == 8 and lerobot.dataset.root == "data" and lerobot.env_eval_freq == 0


def test_another_optimizer_with_a_schedule_is_written_out() -> None:
    from lerobot.optim.optimizers import SGDConfig
    from lerobot.optim.schedulers import CosineDecayWithWarmupSchedulerConfig

    schedule = CosineDecayWithWarmupSchedulerConfig(
        num_warmup_steps=1, num_decay_steps=10, peak_lr=0.01, decay_lr=0.001
    )
    lerobot = lerobot_train_config(RUN, act_config(), SGDConfig(lr=0.01), schedule)
    assert not lerobot.use_policy_training_preset
    assert lerobot.optimizer == SGDConfig(lr=0.01) and lerobot.scheduler == schedule


def test_another_optimizer_without_a_schedule_cannot_be_said_in_lerobots_terms() -> None:
    from lerobot.optim.optimizers import SGDConfig

    assert lerobot_train_config(RUN, act_config(), SGDConfig(lr=0.01), None) is None
