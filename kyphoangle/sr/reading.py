"""Reading a kyphoangle Measurement Report (DICOM SR) back: landmarks, levels, settings and values.

The inverse of `kyphoangle.sr.report`: landmarks come from the `POINT` regions (tracking identifier =
landmark key), levels and their not-evaluable reasons from the level groups, the read's settings from
the `read settings` group, values from the numeric items (identified by concept and finding site, see
`kyphoangle.sr.coding`), each landmark's snapping provenance (proposed, accepted, the reader's click)
from its group when the report has it (a report without it gives a read without provenance). The
content tree is walked with pydicom: the report uses a handful of item kinds, and kyphoangle's own text
items inside measurement groups are read the same way.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError
from pydicom.sr.coding import Code
from pydicom.valuerep import DT

from kyphoangle.anatomy import Vertebra
from kyphoangle.errors import KyphoangleError, LandmarkError
from kyphoangle.landmark_file import LandmarkFile, PointProvenance
from kyphoangle.protocol import (
    GlobalEndpoints,
    MeasurementName,
    NotEvaluable,
    Unit,
    validate_points,
)
from kyphoangle.spacing import PixelSpacing, SpacingSource
from kyphoangle.sr import coding
from kyphoangle.sr.report import ENDPLATE_SUFFIX, GROUP_SETTINGS, LEVEL_PREFIX
from kyphoangle.sr.signed_read import Observer, ReportedValue
from kyphoangle.vocabulary import NotEvaluableReason, ReadType

COMPREHENSIVE_SR = "1.2.840.10008.5.1.4.1.1.88.33"
IMAGING_MEASUREMENTS = Code("126010", "DCM", "Imaging Measurements")
MEASUREMENT_GROUP = Code("125007", "DCM", "Measurement Group")
TRACKING_IDENTIFIER = Code("112039", "DCM", "Tracking Identifier")
FINDING_SITE = Code("363698007", "SCT", "Finding Site")
TOPOGRAPHICAL_MODIFIER = Code("106233006", "SCT", "Topographical modifier")
PERSON_OBSERVER_NAME = Code("121008", "DCM", "Person Observer Name")
PERSON_OBSERVER_LOGIN = Code("128774", "DCM", "Person Observer's Login Name")


class ReportFileError(KyphoangleError):
    """A file that is not a kyphoangle measurement report, or one that cannot be read back."""

    def __init__(self, path: str | Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")


@dataclass(frozen=True, slots=True)
class ReportedRead:
    """A read as a measurement report carries it."""

    content: LandmarkFile
    observer: Observer
    signed_at: dt.datetime | None
    normal_table_version: str
    spacing_source: SpacingSource | None
    values: tuple[ReportedValue, ...]
    sop_instance_uid: str
    """The report's own SOP Instance UID."""


def _concept(item: Dataset) -> Dataset | None:
    sequence = item.get("ConceptNameCodeSequence")
    return sequence[0] if sequence else None


def _is(item: Dataset, code: Code) -> bool:
    concept = _concept(item)
    return concept is not None and coding.same_code(concept, code)


def _children(item: Dataset) -> list[Dataset]:
    return list(item.get("ContentSequence", []))


def _code_value(item: Dataset) -> Dataset | None:
    sequence = item.get("ConceptCodeSequence")
    return sequence[0] if sequence else None


def _text_of(item: Dataset) -> str:
    return str(item.get("TextValue", ""))


def _number(item: Dataset) -> tuple[float, Dataset] | None:
    measured = item.get("MeasuredValueSequence")
    if not measured:
        return None
    return float(measured[0].NumericValue), measured[0].MeasurementUnitsCodeSequence[0]


@dataclass(frozen=True, slots=True)
class _Site:
    code: Dataset
    modifier: Dataset | None


def _sites(items: list[Dataset]) -> list[_Site]:
    sites = []
    for item in items:
        if item.ValueType == "CODE" and _is(item, FINDING_SITE):
            code = _code_value(item)
            modifiers = [_code_value(c) for c in _children(item) if _is(c, TOPOGRAPHICAL_MODIFIER)]
            if code is not None:
                sites.append(_Site(code, modifiers[0] if modifiers else None))
    return sites


def _vertebra(site: _Site) -> Vertebra | None:
    return coding.find_by_code(coding.VERTEBRA_CODES, site.code)


def _measurement_name(concept: Dataset, site: _Site | None) -> tuple[MeasurementName, str | None] | None:
    for candidate in coding.MEASUREMENT_CONCEPTS.values():
        if not coding.same_code(concept, candidate.concept) or site is None:
            continue
        if candidate.site == coding.SiteKind.THORACIC_SPINE and coding.same_code(
            site.code, coding.THORACIC_SPINE
        ):
            return candidate.name, None
        if candidate.site == coding.SiteKind.LUMBAR_SPINE and coding.same_code(
            site.code, coding.LUMBAR_SPINE
        ):
            return candidate.name, None
        if candidate.site != coding.SiteKind.VERTEBRA:
            continue
        vertebra = _vertebra(site)
        if vertebra is None:
            continue
        if candidate.modifier is None and site.modifier is None:
            return candidate.name, str(vertebra)
        if (
            candidate.modifier is not None
            and site.modifier is not None
            and coding.same_code(site.modifier, candidate.modifier)
        ):
            return candidate.name, str(vertebra)
    return None


def _groups(ds: Dataset) -> Iterator[Dataset]:
    for item in ds.get("ContentSequence", []):
        if _is(item, IMAGING_MEASUREMENTS):
            for group in _children(item):
                if _is(group, MEASUREMENT_GROUP):
                    yield group


def _observer(ds: Dataset) -> Observer:
    name, login = "", None
    for item in ds.get("ContentSequence", []):
        if _is(item, PERSON_OBSERVER_NAME):
            name = str(item.get("PersonName", "")).rstrip("^")
        elif _is(item, PERSON_OBSERVER_LOGIN):
            login = _text_of(item) or None
    return Observer(name=name, login=login, blinded=login is None)


def _signed_at(ds: Dataset) -> dt.datetime | None:
    observers = ds.get("VerifyingObserverSequence")
    if ds.get("VerificationFlag") != "VERIFIED" or not observers:
        return None
    stamp = observers[0].get("VerificationDateTime")
    if not stamp:
        return None
    value = DT(stamp)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _exact_point(text: str) -> tuple[float, float] | None:
    """`column\\row` as written by `kyphoangle.sr.report.exact_text`, or None when it is not that."""
    try:
        column, row = (float(v) for v in text.split("\\"))
    except ValueError:
        return None
    return column, row


class _Collected:
    """What the groups of one report say, gathered while walking them."""

    def __init__(self) -> None:
        self.points: dict[str, tuple[float, float]] = {}
        self.fractured: list[str] = []
        self.not_evaluable: dict[str, NotEvaluable] = {}
        self.values: list[ReportedValue] = []
        self.texts: dict[str, str] = {}
        self.read_type: ReadType | None = None
        self.spacing_source: SpacingSource | None = None
        self.calibration: dict[str, float] = {}
        self.films: set[str] = set()
        self.exact: dict[str, str] = {}
        self.proposed: dict[str, bool] = {}
        self.accepted: dict[str, bool] = {}
        self.clicks: dict[str, tuple[float, float]] = {}

    def landmarks(self) -> dict[str, tuple[float, float]]:
        """The points, as clicked where the exact text agrees with the SCOORD's 32-bit value."""
        points = dict(self.points)
        for key, text in self.exact.items():
            if key not in points:
                continue
            exact = _exact_point(text)
            if exact is None:
                continue
            if np.array_equal(np.array(exact, dtype=np.float32), np.array(points[key], dtype=np.float32)):
                points[key] = exact
        return points

    def provenance(self) -> dict[str, PointProvenance]:
        """How each landmark was placed, for the landmarks whose group states both proposed and accepted."""
        found = {}
        for key, proposed in self.proposed.items():
            accepted = self.accepted.get(key)
            if key not in self.points or accepted is None:
                continue
            found[key] = PointProvenance(proposed, accepted, self.clicks.get(key))
        return found

    def group(self, group: Dataset) -> None:
        items = _children(group)
        identifier = next((_text_of(i) for i in items if _is(i, TRACKING_IDENTIFIER)), "")
        sites = _sites(items)
        for item in items:
            kind = item.ValueType
            if kind == "SCOORD":
                self.region(identifier, item)
            elif kind == "NUM":
                self.number(item, sites)
            elif kind == "CODE":
                self.statement(identifier, item)
            elif kind == "TEXT" and identifier == GROUP_SETTINGS:
                concept = _concept(item)
                if concept is not None:
                    self.texts[str(concept.CodeValue)] = _text_of(item)
            elif kind == "TEXT" and _is(item, coding.EXACT_POINT):
                self.exact[identifier] = _text_of(item)
            elif kind == "TEXT" and _is(item, coding.READER_CLICK):
                click = _exact_point(_text_of(item))
                if click is not None:
                    self.clicks[identifier] = click
            elif kind == "TEXT" and _is(item, coding.NOT_EVALUABLE_NOTE):
                level = identifier.removeprefix(LEVEL_PREFIX)
                if level in self.not_evaluable:
                    self.not_evaluable[level] = NotEvaluable(self.not_evaluable[level].reason, _text_of(item))

    def region(self, identifier: str, item: Dataset) -> None:
        for reference in _children(item):
            for sop in reference.get("ReferencedSOPSequence", []):
                self.films.add(str(sop.ReferencedSOPInstanceUID))
        if item.GraphicType != "POINT" or identifier.endswith(ENDPLATE_SUFFIX):
            return
        data = [float(v) for v in item.GraphicData]
        self.points[identifier] = (data[0], data[1])

    def number(self, item: Dataset, sites: list[_Site]) -> None:
        concept = _concept(item)
        measured = _number(item)
        if concept is None or measured is None:
            return
        value, unit_code = measured
        if coding.same_code(concept, coding.CALIBRATION_ROW):
            self.calibration["row_mm"] = value
            return
        if coding.same_code(concept, coding.CALIBRATION_COLUMN):
            self.calibration["col_mm"] = value
            return
        own_sites = _sites(_children(item)) or sites
        named = _measurement_name(concept, own_sites[0] if own_sites else None)
        unit = coding.find_by_code(coding.UNIT_CODES, unit_code)
        if named is not None and unit is not None:
            self.values.append(ReportedValue(named[0], named[1], value, Unit(unit)))

    def statement(self, identifier: str, item: Dataset) -> None:
        answer = _code_value(item)
        if answer is None:
            return
        if _is(item, coding.READ_TYPE):
            self.read_type = coding.find_by_code(coding.READ_TYPE_CODES, answer)
        elif _is(item, coding.SPACING_SOURCE):
            self.spacing_source = coding.find_by_code(coding.SPACING_SOURCE_CODES, answer)
        elif _is(item, coding.SNAP_PROPOSED):
            self.proposed[identifier] = coding.same_code(answer, coding.YES)
        elif _is(item, coding.SNAP_ACCEPTED):
            self.accepted[identifier] = coding.same_code(answer, coding.YES)
        elif _is(item, coding.FRACTURED_LEVEL) and coding.same_code(answer, coding.YES):
            self.fractured.append(identifier.removeprefix(LEVEL_PREFIX))
        elif _is(item, coding.NOT_EVALUABLE):
            reason = coding.find_by_code(coding.NOT_EVALUABLE_CODES, answer)
            level = identifier.removeprefix(LEVEL_PREFIX)
            if reason is not None:
                note = self.not_evaluable[level].note if level in self.not_evaluable else ""
                self.not_evaluable[level] = NotEvaluable(NotEvaluableReason(reason), note)


def parse_measurement_report(ds: Dataset, *, origin: str | Path = "report") -> ReportedRead:
    """The read a kyphoangle measurement report holds; ReportFileError when it holds none."""
    if str(ds.get("SOPClassUID", "")) != COMPREHENSIVE_SR:
        raise ReportFileError(origin, "this file is not a DICOM structured report of kyphoangle measurements")
    collected = _Collected()
    for group in _groups(ds):
        collected.group(group)
    if collected.read_type is None:
        raise ReportFileError(
            origin, "this structured report was not written by kyphoangle (no read settings)"
        )
    if len(collected.films) != 1:
        raise ReportFileError(
            origin, f"the report should refer to one film, it refers to {len(collected.films)}"
        )
    texts = collected.texts
    calibration = None
    if {"row_mm", "col_mm"} <= set(collected.calibration):
        calibration = PixelSpacing.manual(collected.calibration["row_mm"], collected.calibration["col_mm"])
    observer = _observer(ds)
    try:
        points = collected.landmarks()
        validate_points(points)
        content = LandmarkFile(
            sop_instance_uid=next(iter(collected.films)),
            points=points,
            reader=observer.login or observer.name,
            read_type=collected.read_type,
            fractured_levels=tuple(collected.fractured),
            not_evaluable=collected.not_evaluable,
            normal_table=texts.get(coding.NORMAL_TABLE.value) or None,
            endpoints=GlobalEndpoints.parse(
                texts.get(coding.KYPHOSIS_ENDPOINTS.value), texts.get(coding.LORDOSIS_ENDPOINTS.value)
            ),
            calibration=calibration,
            provenance=collected.provenance(),
        )
    except LandmarkError as exc:
        raise ReportFileError(origin, f"the report's landmarks cannot be read back: {exc}") from None
    return ReportedRead(
        content=content,
        observer=observer,
        signed_at=_signed_at(ds),
        normal_table_version=texts.get(coding.NORMAL_TABLE_VERSION.value, ""),
        spacing_source=collected.spacing_source,
        values=tuple(collected.values),
        sop_instance_uid=str(ds.SOPInstanceUID),
    )


def read_measurement_report(path: str | Path) -> ReportedRead:
    """Read a report file; ReportFileError for anything else."""
    try:
        ds = dcmread(path)
    except (OSError, InvalidDicomError) as exc:
        raise ReportFileError(path, f"cannot be read as DICOM: {exc}") from None
    return parse_measurement_report(ds, origin=path)
