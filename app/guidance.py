"""Which landmarks a read needs, in the order a reader places them, and what comes next (pure Python).

The global curves need the posterior and anterior corners of their endpoint endplates; each fractured
level needs the endplates bounding its regional angle (`regional_endplates`) and its own six points
(superior and inferior endplates, each posterior, middle and anterior). A level marked not evaluable
needs nothing of its own. Steps run cranial to caudal; within an endplate posterior, middle, anterior,
the way the eye follows the endplate.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.protocol import GlobalEndpoints, NotEvaluable, regional_endplates
from kyphoangle.vocabulary import Corner, EndplateSide, Vertebra

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


def required_steps(
    fractured_levels: Iterable[str],
    endpoints: GlobalEndpoints | None = None,
    not_evaluable: Mapping[str, NotEvaluable] | None = None,
) -> tuple[Step, ...]:
    """Every landmark the protocol needs, cranial to caudal, each once with all its purposes."""
    endpoints = endpoints or GlobalEndpoints()
    skipped = not_evaluable or {}
    needs: dict[EndplateRef, dict[Corner, list[str]]] = {}

    def need(ref: EndplateRef, corners: Iterable[Corner], purpose: str) -> None:
        slot = needs.setdefault(ref, {})
        for corner in corners:
            purposes = slot.setdefault(corner, [])
            if purpose not in purposes:
                purposes.append(purpose)

    line = (Corner.POSTERIOR, Corner.ANTERIOR)
    for ref in endpoints.kyphosis:
        need(ref, line, "thoracic kyphosis")
    for ref in endpoints.lordosis:
        need(ref, line, "lumbar lordosis")
    for level in fractured_levels:
        if level in skipped:
            continue
        vertebra = Vertebra(level)
        for ref in regional_endplates(vertebra):
            need(ref, line, f"regional angle {level}")
        for side in EndplateSide:
            need(EndplateRef(vertebra, side), _CORNER_ORDER, f"{level} morphometry")

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
