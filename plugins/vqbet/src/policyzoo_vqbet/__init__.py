"""policyzoo plugin: LeRobot's VQ-BeT. This entry module holds the spec and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo.cards import CARDS
from policyzoo_vqbet.presets import PRESETS
from policyzoo_vqbet.spec import VQBeTSpec

POLICYZOO_CONTRACT = 1

__all__ = ["POLICYZOO_CONTRACT", "VQBeTSpec", "register_policies"]


@hookimpl
def register_policies(register):
    card = CARDS["vqbet"].model_copy(update={"presets": PRESETS})
    register(VQBeTSpec, card, factory="policyzoo_vqbet.model:factory")
