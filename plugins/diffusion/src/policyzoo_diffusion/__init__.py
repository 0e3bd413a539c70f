"""policyzoo plugin: LeRobot's Diffusion Policy. The entry module holds the spec, card and registration only."""

from policyzoo import hookimpl
from policyzoo_diffusion.card import CARD
from policyzoo_diffusion.spec import DiffusionSpec

POLICYZOO_CONTRACT = 1

__all__ = ["CARD", "POLICYZOO_CONTRACT", "DiffusionSpec", "register_policies"]


@hookimpl
def register_policies(register):
    register(DiffusionSpec, CARD, factory="policyzoo_diffusion.model:factory")
