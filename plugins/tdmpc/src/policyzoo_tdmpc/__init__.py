"""policyzoo plugin: LeRobot's TD-MPC. This entry module holds the spec, card and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo_tdmpc.card import CARD
from policyzoo_tdmpc.spec import TDMPCSpec

POLICYZOO_CONTRACT = 1

__all__ = ["CARD", "POLICYZOO_CONTRACT", "TDMPCSpec", "register_policies"]


@hookimpl
def register_policies(register):
    register(TDMPCSpec, CARD, factory="policyzoo_tdmpc.model:factory")
