"""Cards of the first-party policies: known to the core without importing any plugin.

Numbers come from LeRobot 0.4.4 as measured on a 2-core CPU, from the papers, or from LeRobot's hardware
guide; each carries its source. Where the popular guide disagrees with LeRobot's code, the code wins.
"""

from __future__ import annotations

from policyzoo.specs import PolicyCard, Source

HARDWARE_GUIDE = "LeRobot hardware guide, batch 8"
MEASURED = "policyzoo, LeRobot 0.4.4 defaults, 2-core CPU"

CARDS: dict[str, PolicyCard] = {
    "act": PolicyCard(
        title="Action Chunking Transformer (ACT)",
        summary="Action Chunking Transformer: fast, data-efficient imitation",
        architecture="ResNet18 image backbone shared by all cameras, 4-layer transformer encoder, 1-layer "
                     "non-causal decoder, CVAE with a 4-layer encoder; predicts chunks of 100 actions and by "
                     "default executes all 100 (temporal ensembling needs n_action_steps=1)",
        training="imitation learning: L1 action loss plus a KL term (CVAE)",
        cameras="any number (one shared backbone)",
        best_for=["precise bimanual manipulation", "small datasets", "low-latency control on modest GPUs"],
        not_for=["language-conditioned multi-task", "demonstrations mixing very different strategies"],
        episodes_needed=Source(value="about 50 demonstrations per task",
                               source="ACT paper (Zhao et al. 2023)"),
        train_memory_gb=(2, 6), train_memory_source=HARDWARE_GUIDE,
        inference_memory=Source(value="about 0.2 GB of fp32 weights", source="51.6 M parameters x 4 bytes"),
        latency=Source(value="about 10 ms per chunk on an RTX 2080 Ti; 0.27 s on a 2-core CPU, 0.5 ms per "
                             "queued action", source="ACT paper; " + MEASURED),
        parameters=Source(value="51.6 M", source=MEASURED),
        paper="https://arxiv.org/abs/2304.13705",
    ),
    "diffusion": PolicyCard(
        title="Diffusion Policy",
        summary="Diffusion Policy: multimodal actions by denoising",
        architecture="ResNet18 image encoder conditioning a 1-D convolutional U-Net that denoises a horizon of "
                     "16 actions from 2 observation steps; DDPM with 100 steps by default, DDIM with 10 steps "
                     "is the fast setting",
        training="imitation learning: denoising (noise-prediction) loss",
        cameras="any number, all of the same shape",
        best_for=["multimodal demonstrations", "smooth, contact-rich trajectories"],
        not_for=["small GPUs", "high control rates without DDIM"],
        episodes_needed=Source(value="about 100-200 demonstrations (Push-T: 200)",
                               source="Diffusion Policy paper (Chi et al. 2023)"),
        train_memory_gb=(8, 14), train_memory_source=HARDWARE_GUIDE,
        inference_memory=Source(value="about 1.1 GB of fp32 weights", source="about 270 M parameters x 4 bytes"),
        latency=Source(value="about 0.1 s per chunk with 10 DDIM steps on an RTX 3080; commands at 10 Hz",
                       source="Diffusion Policy paper"),
        parameters=Source(value="about 263-271 M", source=MEASURED),
        paper="https://arxiv.org/abs/2303.04137",
    ),
    "tdmpc": PolicyCard(
        title="TD-MPC",
        summary="TD-MPC: model-based RL with planning; needs rewards",
        architecture="task-oriented latent dynamics model with reward, value and policy heads; plans over a "
                     "short horizon with MPPI at every step",
        training="model-based reinforcement learning (temporal-difference learning) from data with rewards",
        needs_reward=True,
        cameras="at most one, square",
        max_cameras=1,
        best_for=["tasks with a reward signal", "state-based control", "online fine-tuning"],
        not_for=["reward-free demonstrations", "several cameras"],
        episodes_needed=Source(value="no published figure for offline training; collects its own data online",
                               source="TD-MPC paper (Hansen et al. 2022)"),
        train_memory_gb=(2, 6), train_memory_source=HARDWARE_GUIDE,
        inference_memory=Source(value="about 0.02 GB of fp32 weights", source="5.6 M parameters x 4 bytes"),
        latency=Source(value="no published figure (the guide's 20 Hz has no source): measure with "
                             "`policyzoo bench policies`", source="-"),
        parameters=Source(value="5.6 M", source=MEASURED),
        paper="https://arxiv.org/abs/2203.04955",
    ),
    "vqbet": PolicyCard(
        title="VQ-BeT",
        summary="VQ-BeT: behaviour transformer over vector-quantised actions",
        architecture="residual VQ-VAE over action chunks plus a GPT-style transformer that predicts codes and "
                     "offsets; ResNet18 image encoder with an 84x84 crop by default",
        training="imitation learning in two phases: the residual VQ first (n_vqvae_training_steps), then the "
                 "transformer",
        cameras="exactly one",
        min_cameras=1,
        max_cameras=1,
        best_for=["multimodal demonstrations with fast inference", "one camera"],
        not_for=["several cameras", "language-conditioned tasks"],
        episodes_needed=Source(value="no general figure; Push-T used about 200 demonstrations",
                               source="VQ-BeT paper (Lee et al. 2024)"),
        train_memory_gb=(2, 6), train_memory_source=HARDWARE_GUIDE,
        inference_memory=Source(value="about 0.15 GB of fp32 weights", source="about 38 M parameters x 4 bytes"),
        latency=Source(value="about 5x faster inference than Diffusion Policy (the guide's 30 Hz has no "
                             "source)", source="VQ-BeT paper"),
        parameters=Source(value="about 38 M", source=MEASURED),
        paper="https://arxiv.org/abs/2403.03181",
    ),
    "smolvla": PolicyCard(
        title="SmolVLA",
        summary="SmolVLA: small vision-language-action model; follows a task text",
        architecture="SmolVLM2 vision-language backbone (first layers only) with a flow-matching action "
                     "expert of about 100 M parameters predicting chunks of 50 actions",
        training="imitation learning with flow matching, fine-tuned from a pretrained checkpoint trained on "
                 "about 23 K community episodes",
        needs_language=True,
        cameras="one or more",
        min_cameras=1,
        best_for=["language-conditioned, multi-task manipulation", "research", "async inference"],
        not_for=["GPUs under about 10 GB for training", "hard real-time control without async inference"],
        episodes_needed=Source(value="about 50 episodes per task to fine-tune",
                               source="SmolVLA paper (Shukor et al. 2025)"),
        train_memory_gb=(10, 16), train_memory_source=HARDWARE_GUIDE,
        inference_memory=Source(value="about 1.8 GB of fp32 weights", source="about 450 M parameters x 4 bytes"),
        latency=Source(value="about 207 ms per 50-action chunk on an RTX 4090; async inference cut task time "
                             "about 30% at equal success", source="SmolVLA paper"),
        parameters=Source(value="about 450 M (about 100 M in the action expert)", source="SmolVLA paper"),
        paper="https://arxiv.org/abs/2506.01844",
    ),
}
