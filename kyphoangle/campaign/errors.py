"""What goes wrong with a campaign: one exception type with a message for the data manager or reader."""

from __future__ import annotations

from kyphoangle.errors import (
    KyphoangleError,
)


class CampaignError(KyphoangleError):
    """A campaign cannot be created or used as asked (bad settings, nothing left to read, ...)."""
