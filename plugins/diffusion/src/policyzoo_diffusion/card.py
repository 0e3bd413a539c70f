"""Diffusion Policy's card: the comparison-table facts with their sources, its fit per goal, its loss
indicator and the published figures `policyzoo bench claims` checks. Pure data: no torch.
"""

from __future__ import annotations

from policyzoo.card import Bench, GoalFit, Guide, PolicyCard, PolicyClaim, Source, TrainingIndicator
from policyzoo_diffusion.presets import PRESETS

HARDWARE_GUIDE = "LeRobot hardware guide, batch 8"
MEASURED = "policyzoo, LeRobot 0.4.4 defaults, 2-core CPU"
PAPER = "Diffusion Policy paper (Chi et al. 2023)"

GUIDE = Guide(
    cameras="any number, all of the same shape",
    same_shape_cameras=True,
    best_for=["multimodal demonstrations", "smooth, contact-rich trajectories"],
    not_for=["small GPUs", "high control rates without DDIM"],
    episodes_needed=Source(value="about 100-200 demonstrations (Push-T: 200)", source=PAPER),
    train_memory_gb=(8, 14),
    train_memory_source=HARDWARE_GUIDE,
    train_steps=100_000,
    train_steps_source="lerobot-train's default (LeRobot 0.4.4)",
    inference_memory=Source(value="about 1.1 GB of fp32 weights", source="about 270 M parameters x 4 bytes"),
    latency=Source(
        value="about 0.1 s per chunk with 10 DDIM steps on an RTX 3080; commands at 10 Hz",
        source="Diffusion Policy paper",
    ),
    parameters=Source(value="about 263-271 M", source=MEASURED),
    goals={
        "production": GoalFit(
            score=3, reason="robust but slower: about 10 Hz with 10 DDIM steps", sources=(PAPER,)
        ),
        "research": GoalFit(score=4, reason="strong, widely used baseline for multimodal behaviour"),
        "limited-data": GoalFit(score=2, reason="wants about 100-200 demonstrations", sources=(PAPER,)),
        "contact-rich": GoalFit(
            score=5,
            reason="smooth, multimodal action trajectories suit contact-rich motion",
            sources=(PAPER,),
        ),
        "long-horizon": GoalFit(score=3, reason="receding-horizon chunks stay stable over long tasks"),
    },
    indicator=TrainingIndicator(start=10.0, goal=1.0, note="the guide"),
)


BENCH = Bench(
    presets=PRESETS,
    claims=(
        PolicyClaim(
            id="control-hz",
            text="Diffusion Policy sends commands at 10 Hz (0.1 s per inference)",
            kind="control_hz",
            value=10,
            source="Diffusion Policy paper, 10 DDIM steps",
            hardware="RTX 3080",
        ),
        PolicyClaim(
            id="memory",
            text="Diffusion Policy trains in 8-14 GB of GPU memory at batch 8",
            kind="train_memory_gb",
            value=(8, 14),
            source="LeRobot hardware guide",
            hardware="GPU",
        ),
    ),
)


CARD = PolicyCard(
    title="Diffusion Policy",
    summary="Diffusion Policy: multimodal actions by denoising",
    architecture="ResNet18 image encoder conditioning a 1-D convolutional U-Net that denoises a horizon of "
    "16 actions from 2 observation steps; DDPM with 100 steps by default, DDIM with 10 steps "
    "is the fast setting",
    training="imitation learning: denoising (noise-prediction) loss",
    paper="https://arxiv.org/abs/2303.04137",
    guide=GUIDE,
    bench=BENCH,
)
