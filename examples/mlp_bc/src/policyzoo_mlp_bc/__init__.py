"""The mlp_bc policy plugin: its entry module holds the spec, the card and one hook, and imports no torch.

The model code (`policyzoo_mlp_bc.policy`) is imported only when a policy is built or loaded.
"""

from __future__ import annotations

import policyzoo

from .spec import CARD, MlpBcSpec

POLICYZOO_CONTRACT = 1
"""The policyzoo plugin contract this plugin targets; policyzoo refuses to load any other."""

__all__ = ["CARD", "POLICYZOO_CONTRACT", "MlpBcSpec", "register_policies"]


@policyzoo.hookimpl
def register_policies(register):
    register(MlpBcSpec, CARD, factory="policyzoo_mlp_bc.policy:factory")
