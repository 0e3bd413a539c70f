"""First-party policies the core knows about without importing any plugin."""

from __future__ import annotations

from typing import NamedTuple

from policyzoo.cards import CARDS


class CatalogueEntry(NamedTuple):
    type: str
    summary: str
    distribution: str


FIRST_PARTY: dict[str, CatalogueEntry] = {
    policy_type: CatalogueEntry(policy_type, card.summary, f"policyzoo-{policy_type}")
    for policy_type, card in CARDS.items()
}
