"""The install catalogue: the first-party policy types, so that a known type that is missing says what to install.

This is the one place the core names the first-party policies. What a policy *is* (its card: architecture,
fit per goal, training indicators, claims, presets) ships with its plugin; the core reads those fields only.
"""

from __future__ import annotations

from typing import NamedTuple


class CatalogueEntry(NamedTuple):
    type: str
    summary: str
    distribution: str


FIRST_PARTY: dict[str, CatalogueEntry] = {
    entry.type: entry
    for entry in (
        CatalogueEntry("act", "Action Chunking Transformer: fast, data-efficient imitation", "policyzoo-act"),
        CatalogueEntry(
            "diffusion", "Diffusion Policy: multimodal actions by denoising", "policyzoo-diffusion"
        ),
        CatalogueEntry("tdmpc", "TD-MPC: model-based RL with planning; needs rewards", "policyzoo-tdmpc"),
        CatalogueEntry(
            "vqbet", "VQ-BeT: behaviour transformer over vector-quantised actions", "policyzoo-vqbet"
        ),
        CatalogueEntry(
            "smolvla", "SmolVLA: small vision-language-action model; follows a task text", "policyzoo-smolvla"
        ),
    )
}
