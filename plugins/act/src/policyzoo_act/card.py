"""ACT's card: the comparison-table facts with their sources, its fit per goal, its loss indicator and the
published figures `policyzoo bench claims` checks. Pure data: importing it never imports torch.

Numbers come from LeRobot 0.4.4 as measured on a 2-core CPU, from the paper, or from LeRobot's hardware
guide; each carries its source. Where the popular guide disagrees with LeRobot's code, the code wins.
"""

from __future__ import annotations

from policyzoo.card import Bench, GoalFit, Guide, PolicyCard, PolicyClaim, Source, TrainingIndicator
from policyzoo_act.presets import PRESETS

HARDWARE_GUIDE = "LeRobot hardware guide, batch 8"
MEASURED = "policyzoo, LeRobot 0.4.4 defaults, 2-core CPU"
PAPER = "ACT paper (Zhao et al. 2023)"

GUIDE = Guide(
    cameras="any number (one shared backbone)",
    best_for=["precise bimanual manipulation", "small datasets", "low-latency control on modest GPUs"],
    not_for=["language-conditioned multi-task", "demonstrations mixing very different strategies"],
    episodes_needed=Source(value="about 50 demonstrations per task", source=PAPER),
    train_memory_gb=(2, 6),
    train_memory_source=HARDWARE_GUIDE,
    train_steps=100_000,
    train_steps_source="LeRobot's ALOHA transfer-cube recipe; the guide: ~100k steps to a trained loss",
    inference_memory=Source(value="about 0.2 GB of fp32 weights", source="51.6 M parameters x 4 bytes"),
    latency=Source(
        value="about 10 ms per chunk on an RTX 2080 Ti; 0.27 s on a 2-core CPU, 0.5 ms per queued action",
        source="ACT paper; " + MEASURED,
    ),
    parameters=Source(value="51.6 M", source=MEASURED),
    goals={
        "production": GoalFit(
            score=5, reason="reliable on real arms, fast chunked inference on modest GPUs", sources=(PAPER,)
        ),
        "research": GoalFit(score=3, reason="the standard imitation baseline"),
        "limited-data": GoalFit(
            score=5, reason="learns a task from about 50 demonstrations", sources=(PAPER,)
        ),
        "contact-rich": GoalFit(
            score=4,
            reason="precise fine manipulation (its paper: bimanual insertion, battery slotting)",
            sources=(PAPER,),
        ),
        "long-horizon": GoalFit(
            score=3, reason="action chunks reduce compounding errors over long episodes", sources=(PAPER,)
        ),
    },
    indicator=TrainingIndicator(start=1.0, goal=0.1, note="the guide"),
)


BENCH = Bench(
    presets=PRESETS,
    claims=(
        PolicyClaim(
            id="control-hz",
            text="ACT controls the robot at 50 Hz (about 10 ms per inference)",
            kind="control_hz",
            value=50,
            source=PAPER,
            hardware="RTX 2080 Ti",
        ),
        PolicyClaim(
            id="memory",
            text="ACT trains in 2-6 GB of GPU memory at batch 8",
            kind="train_memory_gb",
            value=(2, 6),
            source="LeRobot hardware guide",
            hardware="GPU",
        ),
    ),
    deploy=True,
)


CARD = PolicyCard(
    title="Action Chunking Transformer (ACT)",
    summary="Action Chunking Transformer: fast, data-efficient imitation",
    architecture="ResNet18 image backbone shared by all cameras, 4-layer transformer encoder, 1-layer "
    "non-causal decoder, CVAE with a 4-layer encoder; predicts chunks of 100 actions and by "
    "default executes all 100 (temporal ensembling needs n_action_steps=1)",
    training="imitation learning: L1 action loss plus a KL term (CVAE)",
    paper="https://arxiv.org/abs/2304.13705",
    guide=GUIDE,
    bench=BENCH,
)
