"""policyzoo plugin: LeRobot's VQ-BeT. This entry module holds the spec, card and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo_vqbet.card import CARD
from policyzoo_vqbet.spec import VQBeTSpec

POLICYZOO_CONTRACT = 1

__all__ = ["CARD", "POLICYZOO_CONTRACT", "VQBeTSpec", "register_policies"]


@hookimpl
def register_policies(register):
    register(VQBeTSpec, CARD, factory="policyzoo_vqbet.model:factory")
