"""policyzoo plugin: LeRobot's SmolVLA. This entry module holds the spec and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo.cards import CARDS
from policyzoo_smolvla.presets import PRESETS
from policyzoo_smolvla.spec import SmolVLASpec

POLICYZOO_CONTRACT = 1

__all__ = ["POLICYZOO_CONTRACT", "SmolVLASpec", "register_policies"]


@hookimpl
def register_policies(register):
    card = CARDS["smolvla"].model_copy(update={"presets": PRESETS})
    register(SmolVLASpec, card, factory="policyzoo_smolvla.model:factory")
