"""policyzoo plugin: LeRobot's ACT. This entry module holds the spec, card and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo_act.card import CARD
from policyzoo_act.spec import ACTSpec

POLICYZOO_CONTRACT = 1

__all__ = ["CARD", "POLICYZOO_CONTRACT", "ACTSpec", "register_policies"]


@hookimpl
def register_policies(register):
    register(ACTSpec, CARD, factory="policyzoo_act.model:factory")
