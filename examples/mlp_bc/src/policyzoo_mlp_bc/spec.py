"""Settings and card of the mlp_bc policy. Pure pydantic: importing this module never imports torch."""

from __future__ import annotations

from pydantic import Field, model_validator

from policyzoo import Bench, Features, Guide, Mismatch, PolicyCard, PolicySpec, Source
from policyzoo.card import GoalFit, TaskPresets, TrainingIndicator, TrainingPreset
from policyzoo.features import STATE_KEY


class MlpBcSpec(PolicySpec):
    """An MLP from the joint state (and pooled camera features) to a chunk of future actions."""

    type = "mlp_bc"

    optimizer_lr: float = Field(1e-3, gt=0, lt=1, description="Learning rate of AdamW.")
    optimizer_weight_decay: float = Field(1e-4, ge=0, lt=1, description="Weight decay of AdamW.")
    chunk_size: int = Field(10, ge=1, le=1000, description="Future actions predicted by one forward pass.")
    n_action_steps: int = Field(10, ge=1, le=1000, description="Actions executed from each chunk.")
    hidden_dim: int = Field(256, ge=8, le=8192, description="Width of the hidden layers.")
    n_layers: int = Field(3, ge=1, le=16, description="Number of hidden layers.")
    dropout: float = Field(0.1, ge=0, lt=1, description="Dropout after each hidden layer.")
    use_images: bool = Field(True, description="Feed pooled features of every camera into the MLP.")
    image_size: int = Field(64, ge=16, le=512, description="Images are resized to this square size first.")
    image_channels: int = Field(32, ge=4, le=512, description="Features per camera from the conv encoder.")

    @model_validator(mode="after")
    def _steps_fit_in_chunk(self) -> MlpBcSpec:
        if self.n_action_steps > self.chunk_size:
            raise ValueError(f"n_action_steps must be at most chunk_size ({self.chunk_size})")
        return self

    def check_features(self, features: Features) -> list[Mismatch]:
        if STATE_KEY in features.state:
            return []
        fix = "record the joint positions as observation.state"
        return [Mismatch(what=STATE_KEY, problem="mlp_bc needs the joint state; the data has none", fix=fix)]


# What `policyzoo recommend` ranks by (a goal left out of `goals` scores 0, and the ranking says the card is
# silent), `policies show` prints and the end-of-training summary compares the loss with (`indicator`).
GUIDE = Guide(
    cameras="any number (optional; state only works too)",
    best_for=["a baseline to compare other policies against", "a template for writing a plugin"],
    not_for=["multimodal demonstrations (it averages them)", "language-conditioned tasks"],
    episodes_needed=Source(value="not measured", source="no evaluation yet: measure it with policyzoo eval"),
    train_memory_gb=(0.1, 0.5),
    train_memory_source="estimate: 0.19 M parameters; the memory is the batch of camera images",
    inference_memory=Source(value="about 0.75 MB of fp32 weights", source="0.19 M parameters x 4 bytes"),
    latency=Source(value="about 1 ms per 10-action chunk", source="measured for the template, 2-core CPU"),
    parameters=Source(value="0.19 M (187,992)", source="measured for the template (2 cameras, 12 joints)"),
    goals={"research": GoalFit(score=1, reason="a simple baseline to compare other policies against")},
    indicator=TrainingIndicator(note="an L1 error on normalized actions; judge a run by policyzoo eval"),
)

# What `policyzoo bench success --task=lift` trains (a third-party policy enters the table by declaring this),
# and the published figures `policyzoo bench claims` checks on the user's machine (`claims=`, each a
# policyzoo.card.PolicyClaim). Claim only what a source backs.
LIFT = TrainingPreset(
    policy={"chunk_size": 20, "dropout": 0.0}, steps=3000, batch_size=32, save_freq=1000, note="no dropout"
)
BENCH = Bench(presets={"lift": TaskPresets(cpu=LIFT)})

# Only title, summary and architecture are required: a card without `guide` or `bench` is listed and shown,
# and left out of the ranking and the benchmarks. policyzoo computes from these fields for every plugin alike.
CARD = PolicyCard(
    title="MLP behaviour cloning",
    summary="Behaviour cloning with a small MLP over state and pooled camera features; no LeRobot class",
    architecture="an MLP over the state and pooled conv features per camera, predicting a chunk of actions",
    training="imitation learning: L1 loss on mean/std-normalized actions, AdamW with cosine decay",
    guide=GUIDE,
    bench=BENCH,
)
