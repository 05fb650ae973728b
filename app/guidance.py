"""Which landmarks a read needs, in the order a reader places them, and what comes next (pure Python).

Generated from the protocol's landmark requirements (`kyphoangle.protocol.landmark_requirements`), so
following the guidance completes every measurement: the global curves' endplates; per fractured level
the endplates of its regional angle, its own six points, and for the height loss and the Genant grade
the six points of the vertebrae above and below. A level marked not evaluable needs nothing of its own.
Steps run cranial to caudal; within an endplate posterior, middle, anterior,
the way the eye follows the endplate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.protocol import (
    MEASUREMENT_DEFINITIONS,
    GlobalEndpoints,
    LandmarkRequirement,
    MeasurementName,
    NotEvaluable,
    landmark_requirements,
)
from kyphoangle.vocabulary import Corner, EndplateSide

_CORNER_ORDER = (Corner.POSTERIOR, Corner.MIDDLE, Corner.ANTERIOR)


@dataclass(frozen=True, slots=True)
class Step:
    """One landmark to place: its key, its endplate and corner, and what it is used for."""

    key: str
    endplate: EndplateRef
    corner: Corner
    purposes: tuple[str, ...]

    @property
    def label(self) -> str:
        """E.g. `L1 superior endplate, posterior corner`."""
        return describe_key(self.key)


def describe_key(key: str) -> str:
    """A landmark key in words: `L1.superior.middle` -> `L1 superior endplate, middle point`."""
    parsed = LandmarkKey.parse(key)
    what = "middle point" if parsed.corner is Corner.MIDDLE else f"{parsed.corner} corner"
    return f"{parsed.endplate.vertebra} {parsed.endplate.side} endplate, {what}"


def short_label(key: str) -> str:
    """A compact on-film label: `L1 sup P`, `T12 inf A`, `L1 sup M`."""
    parsed = LandmarkKey.parse(key)
    side = "sup" if parsed.endplate.side is EndplateSide.SUPERIOR else "inf"
    return f"{parsed.endplate.vertebra} {side} {parsed.corner.value[0].upper()}"


def _purpose(requirement: LandmarkRequirement) -> str:
    """What a landmark is used for, in words: `thoracic kyphosis`, `L1 morphometry`, ..."""
    name, level = requirement.name, requirement.level
    if level is None:
        return MEASUREMENT_DEFINITIONS[name].label.lower()
    if name in (MeasurementName.REGIONAL_ANGLE, MeasurementName.TRAUMATIC_REGIONAL_ANGLE):
        return f"regional angle {level}"
    if name in NEIGHBOUR_MEASUREMENTS:
        return f"{level} height loss and Genant grade"
    return f"{level} morphometry"


NEIGHBOUR_MEASUREMENTS = frozenset({MeasurementName.ANTERIOR_HEIGHT_LOSS, MeasurementName.GENANT_GRADE})
"""Measurements that need the neighbouring vertebrae's six points (optional in the guidance)."""


def required_steps(
    fractured_levels: Iterable[str],
    endpoints: GlobalEndpoints | None = None,
    not_evaluable: Mapping[str, NotEvaluable] | None = None,
    *,
    neighbours: bool = True,
) -> tuple[Step, ...]:
    """Every landmark the protocol's measurements need (`landmark_requirements`), cranial to caudal,
    each once with all its purposes; `neighbours=False` leaves out what only the height loss and the
    Genant grade need."""
    needs: dict[EndplateRef, dict[Corner, list[str]]] = {}
    for requirement in landmark_requirements(fractured_levels, endpoints, not_evaluable):
        if not neighbours and requirement.name in NEIGHBOUR_MEASUREMENTS:
            continue
        purpose = _purpose(requirement)
        for key in requirement.keys:
            parsed = LandmarkKey.parse(key)
            purposes = needs.setdefault(parsed.endplate, {}).setdefault(parsed.corner, [])
            if purpose not in purposes:
                purposes.append(purpose)
    steps: list[Step] = []
    for ref in sorted(needs, key=lambda r: r.sort_key):
        for corner in _CORNER_ORDER:
            if corner in needs[ref]:
                steps.append(Step(ref.key(corner), ref, corner, tuple(needs[ref][corner])))
    return tuple(steps)


def next_step(steps: Iterable[Step], placed: Mapping[str, object]) -> Step | None:
    """The first step whose landmark is not placed yet, or None when all are."""
    for step in steps:
        if step.key not in placed:
            return step
    return None


def progress(steps: Iterable[Step], placed: Mapping[str, object]) -> tuple[int, int]:
    """(placed, required) counts."""
    all_steps = list(steps)
    return sum(1 for s in all_steps if s.key in placed), len(all_steps)
