"""SmolVLA's training settings for the simulator tasks (`policyzoo bench success`): data, no torch."""

from policyzoo.card import TaskPresets

PRESETS = {
    "lift": TaskPresets(
        note="SmolVLA learns from its pretrained SmolVLM backbone (lerobot/smolvla_base); without the Hub there "
        "is none to start from, and a random 450 M-parameter VLM does not train on a CPU in an hour",
    ),
}
