"""policyzoo plugin: LeRobot's ACT. This entry module holds the spec and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo.cards import CARDS
from policyzoo_act.presets import PRESETS
from policyzoo_act.spec import ACTSpec

POLICYZOO_CONTRACT = 1

__all__ = ["POLICYZOO_CONTRACT", "ACTSpec", "register_policies"]


@hookimpl
def register_policies(register):
    card = CARDS["act"].model_copy(update={"presets": PRESETS})
    register(ACTSpec, card, factory="policyzoo_act.model:factory")
