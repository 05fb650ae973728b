"""One reader's read of one film: landmarks, fractured levels, not-evaluable levels (pure Python).

Landmarks are `(column, row)` image pixels, DICOM image-relative, exactly as clicked. Every edit goes
through a method here, called by an undo command; the model announces it through its events.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from app.events import Event
from kyphoangle.anatomy import LandmarkKey
from kyphoangle.errors import ReadLockedError as CoreReadLockedError
from kyphoangle.landmark_file import LandmarkFile, PointProvenance
from kyphoangle.normal_table import DEFAULT_NORMAL_TABLE
from kyphoangle.protocol import GlobalEndpoints, NotEvaluable, validate_levels
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import ReadType

Position = tuple[float, float]


class ReadLockedError(CoreReadLockedError):
    """The read is signed and can no longer be changed (the core's error, with a reader's message)."""

    def __init__(self, what: str = "This read") -> None:
        super().__init__(f"{what} is signed and locked; it can no longer be changed.")


@dataclass(frozen=True, slots=True)
class ReadSnapshot:
    """Everything a read holds, frozen: what is saved, and what reopening restores."""

    sop_instance_uid: str
    reader: str
    points: Mapping[str, Position] = field(default_factory=dict)
    fractured_levels: tuple[str, ...] = ()
    not_evaluable: Mapping[str, NotEvaluable] = field(default_factory=dict)
    endpoints: GlobalEndpoints = field(default_factory=GlobalEndpoints)
    normal_table: str = DEFAULT_NORMAL_TABLE
    read_type: ReadType = ReadType.SITE
    signed: bool = False
    calibration: PixelSpacing | None = None
    """A manual calibration stored with the read (kept through every save)."""
    signature: str = ""
    """Who signed, when and with what meaning ("signed by r.smith, 2026-12-04 09:10 UTC, site read")."""
    provenance: Mapping[str, PointProvenance] = field(default_factory=dict)
    """How snapped points were placed (proposal accepted or declined, the reader's click)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "points", MappingProxyType(dict(self.points)))
        object.__setattr__(self, "not_evaluable", MappingProxyType(dict(self.not_evaluable)))
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))

    def to_landmark_file(self) -> LandmarkFile:
        """The read as a `kyphoangle.landmarks/1` record."""
        return LandmarkFile(
            sop_instance_uid=self.sop_instance_uid,
            points=dict(self.points),
            reader=self.reader,
            read_type=self.read_type,
            fractured_levels=self.fractured_levels,
            not_evaluable=dict(self.not_evaluable),
            normal_table=self.normal_table,
            endpoints=self.endpoints,
            calibration=self.calibration,
            provenance=dict(self.provenance),
        )

    @classmethod
    def from_landmark_file(
        cls, landmarks: LandmarkFile, *, reader: str, signed: bool, signature: str = ""
    ) -> ReadSnapshot:
        """A snapshot from a landmark record (the reader given wins over the file's)."""
        return cls(
            sop_instance_uid=landmarks.sop_instance_uid,
            reader=reader,
            points=dict(landmarks.points),
            fractured_levels=tuple(landmarks.fractured_levels),
            not_evaluable=dict(landmarks.not_evaluable),
            endpoints=landmarks.endpoints or GlobalEndpoints(),
            normal_table=landmarks.normal_table or DEFAULT_NORMAL_TABLE,
            read_type=landmarks.read_type,
            signed=signed,
            calibration=landmarks.calibration,
            signature=signature,
            provenance=dict(landmarks.provenance),
        )


class ReadModel:
    """The read being edited. Events: `landmark_changed(key)`, `levels_changed`, `changed` (any edit)."""

    def __init__(self, snapshot: ReadSnapshot) -> None:
        self.landmark_changed: Event[str] = Event()
        self.levels_changed: Event[None] = Event()
        self.lock_changed: Event[bool] = Event()
        self.changed: Event[None] = Event()
        self._load(snapshot)

    def _load(self, snapshot: ReadSnapshot) -> None:
        self.sop_instance_uid = snapshot.sop_instance_uid
        self.reader = snapshot.reader
        self.read_type = snapshot.read_type
        self._points: dict[str, Position] = dict(snapshot.points)
        self._levels = validate_levels(snapshot.fractured_levels)
        self._not_evaluable: dict[str, NotEvaluable] = dict(snapshot.not_evaluable)
        self._provenance: dict[str, PointProvenance] = dict(snapshot.provenance)
        self.endpoints = snapshot.endpoints
        self.normal_table = snapshot.normal_table
        self._signed = snapshot.signed
        self.calibration = snapshot.calibration

    def replace(self, snapshot: ReadSnapshot) -> None:
        """Load another read wholesale (opening a film); announces everything."""
        self._load(snapshot)
        self.levels_changed.emit(None)
        self.lock_changed.emit(self._signed)
        self.changed.emit(None)

    @property
    def points(self) -> Mapping[str, Position]:
        """Placed landmarks, key -> (column, row)."""
        return MappingProxyType(self._points)

    @property
    def fractured_levels(self) -> tuple[str, ...]:
        """Fractured levels, cranial to caudal."""
        return self._levels

    @property
    def not_evaluable(self) -> Mapping[str, NotEvaluable]:
        """Levels marked not evaluable, with the reason."""
        return MappingProxyType(self._not_evaluable)

    @property
    def signed(self) -> bool:
        """Whether the read is signed (locked)."""
        return self._signed

    def snapshot(self) -> ReadSnapshot:
        """The read as it stands."""
        return ReadSnapshot(
            sop_instance_uid=self.sop_instance_uid,
            reader=self.reader,
            points=dict(self._points),
            fractured_levels=self._levels,
            not_evaluable=dict(self._not_evaluable),
            endpoints=self.endpoints,
            normal_table=self.normal_table,
            read_type=self.read_type,
            signed=self._signed,
            calibration=self.calibration,
            provenance={key: item for key, item in self._provenance.items() if key in self._points},
        )

    def _check_unlocked(self) -> None:
        if self._signed:
            raise ReadLockedError()

    def set_point(self, key: str, position: Position | None) -> None:
        """Place or move a landmark (None removes it)."""
        self._check_unlocked()
        LandmarkKey.parse(key)
        if position is None:
            if self._points.pop(key, None) is None:
                return
        else:
            column, row = float(position[0]), float(position[1])
            if not (math.isfinite(column) and math.isfinite(row)):
                raise ValueError(f"landmark {key}: position must be finite")
            if self._points.get(key) == (column, row):
                return
            self._points[key] = (column, row)
        self.landmark_changed.emit(key)
        self.changed.emit(None)

    @property
    def provenance(self) -> Mapping[str, PointProvenance]:
        """How snapped points were placed, key -> provenance (hand-placed points are absent)."""
        return MappingProxyType(self._provenance)

    def set_provenance(self, key: str, provenance: PointProvenance | None) -> None:
        """Record how a point was placed (None: by hand, nothing to record)."""
        self._check_unlocked()
        LandmarkKey.parse(key)
        if self._provenance.get(key) == provenance:
            return
        if provenance is None:
            del self._provenance[key]
        else:
            self._provenance[key] = provenance
        self.changed.emit(None)

    def set_fractured_levels(self, levels: Iterable[str]) -> None:
        """Choose the fractured levels (T10 to L5)."""
        self._check_unlocked()
        checked = validate_levels(levels)
        if checked == self._levels:
            return
        self._levels = checked
        self.levels_changed.emit(None)
        self.changed.emit(None)

    def set_not_evaluable(self, level: str, value: NotEvaluable | None) -> None:
        """Mark a level not evaluable with a reason, or clear the mark (None)."""
        self._check_unlocked()
        validate_levels([level])
        if self._not_evaluable.get(level) == value:
            return
        if value is None:
            del self._not_evaluable[level]
        else:
            self._not_evaluable[level] = value
        self.levels_changed.emit(None)
        self.changed.emit(None)

    def mark_signed(self) -> None:
        """Lock the read after a successful signature."""
        self._signed = True
        self.lock_changed.emit(True)
        self.changed.emit(None)
