"""A campaign's settings and limits: readers (two to six), repeats, gaps, the adjudication rule's defaults."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from kyphoangle.campaign.rule import AdjudicationRule
from kyphoangle.protocol import MeasurementName

DEFAULT_REPEAT_FRACTION = 0.1
DEFAULT_MIN_GAP = 20


@dataclass(frozen=True, slots=True)
class CampaignSettings:
    """What a campaign was created with; stored as JSON in `campaign.adjudication_rule`."""

    rule: AdjudicationRule = field(default_factory=AdjudicationRule)
    measurements: tuple[MeasurementName, ...] = (MeasurementName.REGIONAL_ANGLE,)
    min_gap: int = DEFAULT_MIN_GAP
    min_gap_days: int | None = None
    snapping: bool = True
    """Whether readers may accept snapping proposals (off keeps every read clicked by hand)."""

    def to_json(self) -> str:
        """The stored JSON text."""
        return json.dumps(
            {
                "measurement": str(self.rule.measurement),
                "threshold_deg": self.rule.threshold_deg,
                "level_disagreement": self.rule.level_disagreement,
                "measurements": [str(m) for m in self.measurements],
                "min_gap": self.min_gap,
                "min_gap_days": self.min_gap_days,
                "snapping": self.snapping,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> CampaignSettings:
        """Read the stored JSON text back."""
        data = json.loads(text)
        return cls(
            rule=AdjudicationRule(
                MeasurementName(data["measurement"]),
                float(data["threshold_deg"]),
                bool(data.get("level_disagreement", True)),
            ),
            measurements=tuple(MeasurementName(m) for m in data.get("measurements", [data["measurement"]])),
            min_gap=int(data.get("min_gap", DEFAULT_MIN_GAP)),
            min_gap_days=data.get("min_gap_days"),
            snapping=bool(data.get("snapping", True)),
        )
