"""Reader slots of a campaign (reader 1 to reader 6) and how they are named to users, never by login."""

from __future__ import annotations

from kyphoangle.vocabulary import CampaignRole

READER_ROLES: tuple[CampaignRole, ...] = (
    CampaignRole.READER_1,
    CampaignRole.READER_2,
    CampaignRole.READER_3,
    CampaignRole.READER_4,
    CampaignRole.READER_5,
    CampaignRole.READER_6,
)
"""Every reader slot, in order; a campaign of k readers uses the first k (see `reader_roles`)."""
MIN_READERS = 2
"""Fewest central readers of a campaign."""
MAX_READERS = len(READER_ROLES)
"""Most central readers of a campaign."""


def reader_name(role: CampaignRole) -> str:
    """How messages and reports name a reader slot: "reader 1", "reader 2", ... (never a login)."""
    role = CampaignRole(role)
    if role == CampaignRole.ADJUDICATOR:
        return "the adjudicator"
    return f"reader {READER_ROLES.index(role) + 1}"


def reader_label(role: CampaignRole) -> str:
    """`reader_name` at the start of a line or on a button: "Reader 1", ..., "The adjudicator"."""
    name = reader_name(role)
    return name[:1].upper() + name[1:]
