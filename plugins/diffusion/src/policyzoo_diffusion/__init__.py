"""policyzoo plugin: LeRobot's Diffusion Policy. The entry module holds the spec and registration only."""

from policyzoo import hookimpl
from policyzoo.cards import CARDS
from policyzoo_diffusion.presets import PRESETS
from policyzoo_diffusion.spec import DiffusionSpec

POLICYZOO_CONTRACT = 1

__all__ = ["POLICYZOO_CONTRACT", "DiffusionSpec", "register_policies"]


@hookimpl
def register_policies(register):
    card = CARDS["diffusion"].model_copy(update={"presets": PRESETS})
    register(DiffusionSpec, card, factory="policyzoo_diffusion.model:factory")
