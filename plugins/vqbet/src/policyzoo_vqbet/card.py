"""VQ-BeT's card: the comparison-table facts with their sources, its fit per goal, its loss indicator and
the published figures `policyzoo bench claims` checks. Pure data: no torch.
"""

from __future__ import annotations

from policyzoo.card import Bench, GoalFit, Guide, PolicyCard, PolicyClaim, Source, TrainingIndicator
from policyzoo_vqbet.presets import PRESETS

HARDWARE_GUIDE = "LeRobot hardware guide, batch 8"
MEASURED = "policyzoo, LeRobot 0.4.4 defaults, 2-core CPU"
PAPER = "VQ-BeT paper (Lee et al. 2024)"

GUIDE = Guide(
    cameras="exactly one",
    min_cameras=1,
    max_cameras=1,
    best_for=["multimodal demonstrations with fast inference", "one camera"],
    not_for=["several cameras", "language-conditioned tasks"],
    episodes_needed=Source(value="no general figure; Push-T used about 200 demonstrations", source=PAPER),
    train_memory_gb=(2, 6),
    train_memory_source=HARDWARE_GUIDE,
    train_steps=100_000,
    train_steps_source="lerobot-train's default (LeRobot 0.4.4); the first "
    "n_vqvae_training_steps train the quantiser only",
    inference_memory=Source(value="about 0.15 GB of fp32 weights", source="about 38 M parameters x 4 bytes"),
    latency=Source(
        value="about 5x faster inference than Diffusion Policy (the guide's 30 Hz has no source)",
        source="VQ-BeT paper",
    ),
    parameters=Source(value="about 38 M", source=MEASURED),
    goals={
        "production": GoalFit(score=3, reason="fast inference, but one camera only", sources=(PAPER,)),
        "research": GoalFit(score=3, reason="discrete latent actions: a useful comparison point"),
        "limited-data": GoalFit(
            score=2, reason="its Push-T results used about 200 demonstrations", sources=(PAPER,)
        ),
        "contact-rich": GoalFit(score=3, reason="captures multimodal actions", sources=(PAPER,)),
        "long-horizon": GoalFit(score=2, reason="short action context"),
    },
    indicator=TrainingIndicator(
        note="the first n_vqvae_training_steps train only the action quantiser, so the "
        "loss changes meaning after them; no reference figure: judge it by evaluation"
    ),
)


BENCH = Bench(
    presets=PRESETS,
    claims=(
        PolicyClaim(
            id="hz",
            text="VQ-BeT runs inference at about 30 Hz",
            kind="inference_hz",
            value=30,
            source="the guide (no source given)",
        ),
        PolicyClaim(
            id="vs-diffusion",
            text="VQ-BeT infers about 5x faster than Diffusion Policy",
            kind="speedup",
            value=5,
            source="VQ-BeT paper",
            versus="diffusion",
        ),
        PolicyClaim(
            id="memory",
            text="VQ-BeT trains in 2-6 GB of GPU memory at batch 8",
            kind="train_memory_gb",
            value=(2, 6),
            source="LeRobot hardware guide",
            hardware="GPU",
        ),
    ),
)


CARD = PolicyCard(
    title="VQ-BeT",
    summary="VQ-BeT: behaviour transformer over vector-quantised actions",
    architecture="residual VQ-VAE over action chunks plus a GPT-style transformer that predicts codes and "
    "offsets; ResNet18 image encoder with an 84x84 crop by default",
    training="imitation learning in two phases: the residual VQ first (n_vqvae_training_steps), then the "
    "transformer",
    paper="https://arxiv.org/abs/2403.03181",
    guide=GUIDE,
    bench=BENCH,
)
