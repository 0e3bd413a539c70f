"""TD-MPC's card: the comparison-table facts with their sources, its fit per goal, its loss indicator and
the published figures `policyzoo bench claims` checks. Pure data: no torch.
"""

from __future__ import annotations

from policyzoo.card import Bench, GoalFit, Guide, PolicyCard, PolicyClaim, Source, TrainingIndicator
from policyzoo_tdmpc.presets import PRESETS

HARDWARE_GUIDE = "LeRobot hardware guide, batch 8"
MEASURED = "policyzoo, LeRobot 0.4.4 defaults, 2-core CPU"
PAPER = "TD-MPC paper (Hansen et al. 2022)"

GUIDE = Guide(
    cameras="at most one, square",
    max_cameras=1,
    square_images=True,
    best_for=["tasks with a reward signal", "state-based control", "online fine-tuning"],
    not_for=["reward-free demonstrations", "several cameras"],
    episodes_needed=Source(
        value="no published figure for offline training; collects its own data online", source=PAPER
    ),
    train_memory_gb=(2, 6),
    train_memory_source=HARDWARE_GUIDE,
    train_steps=100_000,
    train_steps_source="lerobot-train's default (LeRobot 0.4.4); no published offline recipe",
    inference_memory=Source(value="about 0.02 GB of fp32 weights", source="5.6 M parameters x 4 bytes"),
    latency=Source(
        value="no published figure (the guide's 20 Hz has no source): measure with "
        "`policyzoo bench policies`",
        source="-",
    ),
    parameters=Source(value="5.6 M", source=MEASURED),
    goals={
        "production": GoalFit(
            score=1, reason="plans at every step and needs a reward signal; little real-arm evidence"
        ),
        "research": GoalFit(
            score=3, reason="model-based RL: planning with a learned world model", sources=(PAPER,)
        ),
        "limited-data": GoalFit(
            score=1, reason="offline from few episodes is not what it was made for", sources=(PAPER,)
        ),
        "contact-rich": GoalFit(score=2, reason="needs a dense reward for contact"),
        "long-horizon": GoalFit(
            score=1, reason="plans over a short horizon with a learned value", sources=(PAPER,)
        ),
    },
    indicator=TrainingIndicator(
        note="a sum of consistency, reward, value and policy terms; no reference figure: "
        "judge it by evaluation (policyzoo eval)"
    ),
)


BENCH = Bench(
    presets=PRESETS,
    claims=(
        PolicyClaim(
            id="hz",
            text="TD-MPC runs inference at about 20 Hz",
            kind="inference_hz",
            value=20,
            source="the guide (no source given)",
        ),
        PolicyClaim(
            id="memory",
            text="TD-MPC trains in 2-6 GB of GPU memory at batch 8",
            kind="train_memory_gb",
            value=(2, 6),
            source="LeRobot hardware guide",
            hardware="GPU",
        ),
    ),
)


CARD = PolicyCard(
    title="TD-MPC",
    summary="TD-MPC: model-based RL with planning; needs rewards",
    architecture="task-oriented latent dynamics model with reward, value and policy heads; plans over a "
    "short horizon with MPPI at every step",
    training="model-based reinforcement learning (temporal-difference learning) from data with rewards",
    needs_reward=True,
    paper="https://arxiv.org/abs/2203.04955",
    guide=GUIDE,
    bench=BENCH,
)
