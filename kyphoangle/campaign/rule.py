"""The adjudication rule, pure: whether two readers' first reads of a case disagree enough to adjudicate."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

from kyphoangle.campaign.errors import CampaignError
from kyphoangle.campaign.slots import READER_ROLES, reader_name
from kyphoangle.protocol import MeasurementName
from kyphoangle.storage.models import (
    Read,
)
from kyphoangle.storage.reads import (
    measurements_of,
)
from kyphoangle.vocabulary import CampaignRole

DEFAULT_THRESHOLD_DEG = 5.0


@dataclass(frozen=True, slots=True)
class AdjudicationRule:
    """The rule fixed in advance that sends a case to the adjudicator.

    A case is adjudicated when `measurement` differs by more than `threshold_deg` between any two of
    the readers at any fractured level (or globally, for a measurement without level), or, with
    `level_disagreement`, when two readers disagree on which fractured levels are evaluable (a level one
    reader measured and the other marked not evaluable or could not measure).
    """

    measurement: MeasurementName = MeasurementName.REGIONAL_ANGLE
    threshold_deg: float = DEFAULT_THRESHOLD_DEG
    level_disagreement: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "measurement", MeasurementName(self.measurement))
        if not self.threshold_deg > 0:
            raise CampaignError(f"the adjudication threshold must be positive, not {self.threshold_deg}")


def _evaluable_levels(read: Read) -> set[str]:
    return {level.level for level in read.levels if level.fractured and level.not_evaluable_reason is None}


def evaluate_rule(
    rule: AdjudicationRule,
    first: Read,
    second: Read,
    *,
    names: tuple[str, str] = ("reader 1", "reader 2"),
) -> list[str]:
    """Why the two reads need adjudication under `rule` (empty when they agree well enough).

    `names` are how the triggers call the two readers (their slots, never their logins).
    """
    first_name, second_name = names
    pair = f"{first_name} and {second_name}"
    triggers: list[str] = []
    first_values = measurements_of(first)
    second_values = measurements_of(second)
    name = str(rule.measurement)
    first_levels, second_levels = _evaluable_levels(first), _evaluable_levels(second)
    if rule.level_disagreement and first_levels != second_levels:
        only_first = ", ".join(sorted(first_levels - second_levels)) or "none"
        only_second = ", ".join(sorted(second_levels - first_levels)) or "none"
        triggers.append(
            f"{pair} disagree on the evaluable levels (only {first_name}: {only_first}; "
            f"only {second_name}: {only_second})"
        )
    keys = sorted(
        {key for key in (*first_values, *second_values) if key[0] == name}, key=lambda k: k[1] or ""
    )
    for key in keys:
        a, b = first_values.get(key), second_values.get(key)
        a_value = a.value if a is not None else None
        b_value = b.value if b is not None else None
        where = f" at {key[1]}" if key[1] else ""
        if a_value is not None and b_value is not None:
            if abs(a_value - b_value) > rule.threshold_deg:
                triggers.append(
                    f"{name}{where} differs by {abs(a_value - b_value):.1f} deg between {pair} "
                    f"(> {rule.threshold_deg:g} deg)"
                )
        elif rule.level_disagreement and (a_value is None) != (b_value is None):
            measured, unmeasured = (first_name, second_name) if b_value is None else (second_name, first_name)
            triggers.append(f"{name}{where} was measured by {measured} but not by {unmeasured}")
    return triggers


def evaluate_rule_for_reads(rule: AdjudicationRule, reads: Mapping[CampaignRole, Read]) -> list[str]:
    """The triggers of every pair of readers (reader i with reader j, i < j); empty when all agree."""
    roles = [role for role in READER_ROLES if role in reads]
    triggers: list[str] = []
    for first, second in itertools.combinations(roles, 2):
        names = (reader_name(first), reader_name(second))
        triggers.extend(evaluate_rule(rule, reads[first], reads[second], names=names))
    return triggers
