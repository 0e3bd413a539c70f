"""policyzoo plugin: LeRobot's SmolVLA. This entry module holds the spec, card and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo_smolvla.card import CARD
from policyzoo_smolvla.spec import SmolVLASpec

POLICYZOO_CONTRACT = 1

__all__ = ["CARD", "POLICYZOO_CONTRACT", "SmolVLASpec", "register_policies"]


@hookimpl
def register_policies(register):
    register(SmolVLASpec, CARD, factory="policyzoo_smolvla.model:factory")
