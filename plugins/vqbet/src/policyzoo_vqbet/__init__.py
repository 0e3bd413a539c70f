"""policyzoo plugin: LeRobot's VQ-BeT. This entry module holds the spec and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo.cards import CARDS
from policyzoo_vqbet.spec import VQBeTSpec

POLICYZOO_CONTRACT = 1

__all__ = ["POLICYZOO_CONTRACT", "VQBeTSpec", "register_policies"]


@hookimpl
def register_policies(register):
    register(VQBeTSpec, CARDS["vqbet"], factory="policyzoo_vqbet.model:factory")
