"""Which landmarks a read needs, in the order a reader places them, and what comes next (pure Python).

What is needed comes from the protocol file through `kyphoangle.protocol.required_landmarks`: each
measurement declares its landmarks there (the global curves their endpoint endplates; each fractured
level its regional, segmental and vertebral angles, its six points for the heights, and its neighbours'
endplates for the height loss and the Genant grade). A level marked not evaluable needs nothing of its
own. Steps run cranial to caudal; within an endplate posterior, middle, anterior, the way the eye
follows the endplate. `neighbours=False` leaves out what only the height losses and the Genant grade
need (the vertebrae above and below), for a reader who is not asked to grade.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.protocol import (
    MEASUREMENT_DEFINITIONS,
    GlobalEndpoints,
    MeasurementName,
    NotEvaluable,
    required_landmarks,
)
from kyphoangle.vocabulary import Corner, EndplateSide

NEIGHBOUR_MEASUREMENTS = frozenset(
    {
        MeasurementName.ANTERIOR_HEIGHT_LOSS,
        MeasurementName.MIDDLE_HEIGHT_LOSS,
        MeasurementName.POSTERIOR_HEIGHT_LOSS,
        MeasurementName.GENANT_GRADE,
    }
)
"""Measurements that need the neighbouring vertebrae's points (optional in the guidance)."""


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


def required_steps(
    fractured_levels: Iterable[str],
    endpoints: GlobalEndpoints | None = None,
    not_evaluable: Mapping[str, NotEvaluable] | None = None,
    *,
    neighbours: bool = True,
) -> tuple[Step, ...]:
    """Every landmark the protocol needs, cranial to caudal, each once with all its purposes;
    `neighbours=False` leaves out what only the height losses and the Genant grade need."""
    definitions = (
        MEASUREMENT_DEFINITIONS
        if neighbours
        else {n: d for n, d in MEASUREMENT_DEFINITIONS.items() if n not in NEIGHBOUR_MEASUREMENTS}
    )
    steps: list[Step] = []
    for needed in required_landmarks(fractured_levels, endpoints, not_evaluable, definitions=definitions):
        parsed = LandmarkKey.parse(needed.key)
        steps.append(Step(needed.key, parsed.endplate, parsed.corner, needed.purposes))
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
