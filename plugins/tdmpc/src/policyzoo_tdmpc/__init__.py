"""policyzoo plugin: LeRobot's TD-MPC. This entry module holds the spec and registration only (no torch)."""

from policyzoo import hookimpl
from policyzoo.cards import CARDS
from policyzoo_tdmpc.presets import PRESETS
from policyzoo_tdmpc.spec import TDMPCSpec

POLICYZOO_CONTRACT = 1

__all__ = ["POLICYZOO_CONTRACT", "TDMPCSpec", "register_policies"]


@hookimpl
def register_policies(register):
    card = CARDS["tdmpc"].model_copy(update={"presets": PRESETS})
    register(TDMPCSpec, card, factory="policyzoo_tdmpc.model:factory")
