"""What the trial's measurements are: stable names, units, records of values; the definitions are data.

The label, unit, scope, definition and source of each measurement, and the landmarks it needs, are
read from the shipped file `kyphoangle/resources/protocol/measurements.toml` (see `.requirements`);
this module holds the types every other module uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from kyphoangle.anatomy import EndplateRef
from kyphoangle.errors import LandmarkError
from kyphoangle.geometry import Facing, Turn
from kyphoangle.vocabulary import EndplateSide, NotEvaluableReason, SpacingSource, Vertebra


class MeasurementName(StrEnum):
    """Stable names of the measurements; stored and exported as they are."""

    THORACIC_KYPHOSIS = "thoracic_kyphosis"
    LUMBAR_LORDOSIS = "lumbar_lordosis"
    REGIONAL_ANGLE = "regional_angle"
    TRAUMATIC_REGIONAL_ANGLE = "traumatic_regional_angle"
    VERTEBRAL_KYPHOSIS = "vertebral_kyphosis"
    SEGMENTAL_KYPHOSIS = "segmental_kyphosis"
    ANTERIOR_HEIGHT = "anterior_height"
    MIDDLE_HEIGHT = "middle_height"
    POSTERIOR_HEIGHT = "posterior_height"
    BECK_INDEX = "beck_index"
    ANTERIOR_HEIGHT_LOSS = "anterior_height_loss"
    MIDDLE_HEIGHT_LOSS = "middle_height_loss"
    POSTERIOR_HEIGHT_LOSS = "posterior_height_loss"
    GENANT_GRADE = "genant_grade"


class Unit(StrEnum):
    """Unit strings of measurement values."""

    DEG = "deg"
    MM = "mm"
    PX = "px"
    """Pixels; with a Pixel Aspect Ratio, widths of one column (rows scaled by the ratio)."""
    RATIO = "ratio"
    PERCENT = "percent"
    GRADE = "grade"


class Scope(StrEnum):
    """Whether a measurement is one value per film or one per fractured level."""

    FILM = "film"
    LEVEL = "level"


@dataclass(frozen=True, slots=True)
class NotEvaluable:
    """A reader's statement that a level cannot be measured on this film, with the reason."""

    reason: NotEvaluableReason
    note: str = ""

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "reason", NotEvaluableReason(self.reason))
        except ValueError:
            choices = ", ".join(NotEvaluableReason)
            raise LandmarkError(f"{self.reason!r} is not a not-evaluable reason ({choices})") from None

    def __str__(self) -> str:
        return f"{self.reason}: {self.note}" if self.note else str(self.reason)


@dataclass(frozen=True, slots=True)
class MeasurementDefinition:
    """What a measurement is and what it needs, as the protocol file states it."""

    name: MeasurementName
    label: str
    unit: Unit
    per_level: bool
    description: str
    source: str = ""
    needs: tuple[str, ...] = ()
    """Landmark patterns such as `above.superior.anterior` (see the protocol file's header)."""
    uses: tuple[MeasurementName, ...] = ()
    """Other measurements whose landmarks this one needs too."""

    @property
    def scope(self) -> Scope:
        """Film or level."""
        return Scope.LEVEL if self.per_level else Scope.FILM


@dataclass(frozen=True, slots=True)
class GlobalEndpoints:
    """The endplates that bound the global curves; stored and exported with every global value."""

    kyphosis: tuple[EndplateRef, EndplateRef] = (
        EndplateRef(Vertebra.T4, EndplateSide.SUPERIOR),
        EndplateRef(Vertebra.T12, EndplateSide.INFERIOR),
    )
    lordosis: tuple[EndplateRef, EndplateRef] = (
        EndplateRef(Vertebra.L1, EndplateSide.SUPERIOR),
        EndplateRef(Vertebra.S1, EndplateSide.SUPERIOR),
    )

    def __post_init__(self) -> None:
        for upper, lower in (self.kyphosis, self.lordosis):
            if upper.vertebra.order >= lower.vertebra.order:
                raise LandmarkError(f"global endpoints {upper}-{lower} are not cranial to caudal")

    @classmethod
    def parse(cls, kyphosis: str | None = None, lordosis: str | None = None) -> GlobalEndpoints:
        """Build from strings like `T4.superior-T12.inferior`; None keeps the default."""
        default = cls()

        def pair(
            text: str | None, fallback: tuple[EndplateRef, EndplateRef]
        ) -> tuple[EndplateRef, EndplateRef]:
            if text is None:
                return fallback
            upper, sep, lower = text.partition("-")
            if not sep:
                raise LandmarkError(f"{text!r} is not an endpoint pair such as 'T4.superior-T12.inferior'")
            return EndplateRef.parse(upper), EndplateRef.parse(lower)

        return cls(pair(kyphosis, default.kyphosis), pair(lordosis, default.lordosis))

    @staticmethod
    def label(pair: tuple[EndplateRef, EndplateRef]) -> str:
        """The stored text of an endpoint pair, e.g. `T4.superior-T12.inferior`."""
        return f"{pair[0]}-{pair[1]}"


@dataclass(frozen=True, slots=True)
class Measurement:
    """One computed value with its provenance: never a bare float."""

    name: MeasurementName
    level: str | None
    value: float
    unit: Unit
    landmarks: tuple[str, ...]
    spacing_source: SpacingSource
    normal_table: str | None = None
    normal_table_version: str | None = None
    endpoints: str | None = None

    def as_dict(self) -> dict[str, object]:
        """JSON-ready record (the `measurements` entries of `kyphoangle measure --format json`)."""
        return {
            "name": str(self.name),
            "level": self.level,
            "value": self.value,
            "unit": str(self.unit),
            "landmarks": list(self.landmarks),
            "spacing_source": str(self.spacing_source),
            "normal_table": self.normal_table,
            "normal_table_version": self.normal_table_version,
            "endpoints": self.endpoints,
        }


@dataclass(frozen=True, slots=True)
class NotComputed:
    """A measurement that could not be computed, with the landmarks it lacks or the reason."""

    name: MeasurementName
    level: str | None
    missing: tuple[str, ...]
    reason: str

    def as_dict(self) -> dict[str, object]:
        """JSON-ready record (the `not_computed` entries of `kyphoangle measure --format json`)."""
        return {
            "name": str(self.name),
            "level": self.level,
            "missing": list(self.missing),
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class MeasurementSet:
    """Everything computed from one reader's landmarks on one film."""

    measurements: tuple[Measurement, ...]
    not_computed: tuple[NotComputed, ...]
    facing: Facing | None
    inconsistent_endplates: tuple[str, ...] = field(default=())
    turn: Turn | None = None
    """The film's handedness the signs were taken with (None: fewer than two endplates placed)."""

    def get(self, name: MeasurementName | str, level: str | None = None) -> Measurement | None:
        """The measurement of that name at that level, or None."""
        for measurement in self.measurements:
            if measurement.name == name and measurement.level == level:
                return measurement
        return None


DefinitionTable = Mapping[MeasurementName, MeasurementDefinition]
"""Definitions by name, in the protocol file's order."""
