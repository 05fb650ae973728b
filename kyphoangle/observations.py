"""Reader observations stored with a read: a Genant grade per level (new and adjacent fractures) and
cement leakage per treated level.

- **Fracture grade**: the reader's semi-quantitative Genant grade (0 normal, 1 mild, 2 moderate,
  3 severe; Genant et al., J Bone Miner Res 1993;8:1137) of any level from T4 to L5, not only the
  measured ones. A **new fracture** is a level of grade 0 on the same reader's baseline read and grade
  1 or more later; it is **adjacent** when immediately above or below a treated level.
- **Cement leakage** per treated level, as seen on the lateral radiograph: none, or one or more of
  disc, paravertebral, canal, venous; and the type of Yeom et al. (J Bone Joint Surg Br 2003;85:83):
  B through the basivertebral vein, S through a segmental vein, C through a cortical defect. Plain
  radiographs miss most leaks that CT shows: the export records them as "seen on radiograph".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from kyphoangle.errors import LandmarkError
from kyphoangle.vocabulary import CementLeakage, Vertebra, YeomType

OBSERVATION_LEVELS: tuple[str, ...] = tuple(
    v.value for v in Vertebra if Vertebra.T4.order <= v.order <= Vertebra.L5.order
)
"""Levels a reader can grade: T4 to L5."""


def _members(kind: type[StrEnum], values: Iterable[object], what: str) -> tuple[Any, ...]:
    try:
        members = {kind(str(value)) for value in values}
    except ValueError:
        raise LandmarkError(f"{what} must be among {', '.join(kind)}") from None
    return tuple(member for member in kind if member in members)


@dataclass(frozen=True, slots=True)
class LevelObservation:
    """What a reader saw at one level: its Genant grade and, for a treated level, cement leakage.

    An empty `cement_leakage` means not assessed; `(CementLeakage.NONE,)` means assessed, none seen.
    """

    genant_grade: int | None = None
    cement_leakage: tuple[CementLeakage, ...] = ()
    yeom_types: tuple[YeomType, ...] = ()

    def __post_init__(self) -> None:
        grade = self.genant_grade
        if grade is not None and (isinstance(grade, bool) or grade not in (0, 1, 2, 3)):
            raise LandmarkError(f"a Genant grade is 0, 1, 2 or 3, not {grade!r}")
        leakage = _members(CementLeakage, self.cement_leakage, "cement leakage")
        types = _members(YeomType, self.yeom_types, "Yeom types")
        if CementLeakage.NONE in leakage and len(leakage) > 1:
            raise LandmarkError("cement leakage cannot be 'none' and a site at once")
        if types and (not leakage or leakage == (CementLeakage.NONE,)):
            raise LandmarkError("a Yeom type needs a leakage site")
        object.__setattr__(self, "cement_leakage", leakage)
        object.__setattr__(self, "yeom_types", types)

    @property
    def is_empty(self) -> bool:
        """Nothing observed."""
        return self.genant_grade is None and not self.cement_leakage

    def to_document(self) -> dict[str, Any]:
        """JSON-ready record (the landmark file's `observations` entries)."""
        document: dict[str, Any] = {}
        if self.genant_grade is not None:
            document["genant_grade"] = self.genant_grade
        if self.cement_leakage:
            document["cement_leakage"] = [str(site) for site in self.cement_leakage]
        if self.yeom_types:
            document["yeom_types"] = [str(kind) for kind in self.yeom_types]
        return document

    @classmethod
    def from_document(cls, data: object, level: str) -> LevelObservation:
        """Parse one `observations` entry; raises LandmarkError naming the level."""
        if not isinstance(data, dict):
            raise LandmarkError(
                f"observations {level}: expected {{genant_grade, cement_leakage, yeom_types}}"
            )
        unknown = set(data) - {"genant_grade", "cement_leakage", "yeom_types"}
        if unknown:
            raise LandmarkError(f"observations {level}: unknown field {sorted(unknown)[0]!r}")
        leakage, types = data.get("cement_leakage", []), data.get("yeom_types", [])
        if not isinstance(leakage, list) or not isinstance(types, list):
            raise LandmarkError(f"observations {level}: cement_leakage and yeom_types are lists")
        try:
            return cls(data.get("genant_grade"), tuple(leakage), tuple(types))
        except LandmarkError as exc:
            raise LandmarkError(f"observations {level}: {exc}") from None


def validate_observations(
    observations: Mapping[str, LevelObservation], treated_levels: Iterable[str] = ()
) -> Mapping[str, LevelObservation]:
    """Check levels (T4 to L5) and that leakage is only recorded at treated levels when those are known."""
    treated = set(treated_levels)
    for level, observation in observations.items():
        if level not in OBSERVATION_LEVELS:
            raise LandmarkError(f"{level!r} is not a level a reader grades (T4 to L5)")
        if treated and observation.cement_leakage and level not in treated:
            raise LandmarkError(f"cement leakage recorded at {level}, which is not a treated level")
    order = {level: n for n, level in enumerate(OBSERVATION_LEVELS)}
    return MappingProxyType(dict(sorted(observations.items(), key=lambda item: order[item[0]])))


@dataclass(frozen=True, slots=True)
class FractureStatus:
    """Whether a graded level is a new fracture since baseline, and whether it is adjacent to treatment."""

    new: bool | None
    """None when either grade is missing."""
    adjacent: bool


def fracture_status(
    level: str, grade: int | None, baseline_grade: int | None, treated_levels: Iterable[str]
) -> FractureStatus:
    """New: grade 0 at baseline and 1 or more now; adjacent: just above or below a treated level."""
    vertebra = Vertebra(level)
    neighbours = {str(v) for v in (vertebra.above(), vertebra.below()) if v is not None}
    treated = set(treated_levels)
    adjacent = level not in treated and bool(neighbours & treated)
    if grade is None or baseline_grade is None:
        return FractureStatus(None, adjacent)
    return FractureStatus(baseline_grade == 0 and grade >= 1, adjacent)
