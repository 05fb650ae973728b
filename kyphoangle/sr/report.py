"""A signed read as a DICOM Comprehensive SR holding a TID 1500 Measurement Report (with highdicom).

The report's content, from the top:

- observation context: the observer (the reader's name and login, or their blinded pseudonym and no
  login), and the film in the image library;
- one measurement group (TID 1501) `read settings`: read type, calibration source, manual
  calibration spacings, normal table and version, the endpoints of the global curves, software version;
- one group `global curves` with the thoracic kyphosis and lumbar lordosis;
- one group per level read (fractured, or marked not evaluable with its reason and note), whose finding
  site is the vertebra, with that level's values;
- one planar ROI group (TID 1410) per landmark: a SCOORD `POINT` whose tracking identifier is the
  landmark key (`T12.superior.posterior`), and one per endplate with both corners: a `POLYLINE` from
  the posterior to the anterior corner (`T12.superior endplate`);
- in a landmark's group, when the read recorded how the point was placed (snapping provenance): whether
  snapping proposed a position (`99KYPHO SNAPPROPOSED`, yes/no), whether the reader accepted it
  (`99KYPHO SNAPACCEPTED`, yes/no) and, when known, the reader's click as a text item
  (`99KYPHO CLICKXY`, `column\\row`, read back exactly; a second SCOORD would be a second region of the
  group, which TID 1410 does not have).

Coordinates are the film's pixel coordinates as clicked, `(column, row)`, the top-left corner of the
first pixel at (0, 0): the same convention as SCOORD. SCOORD holds 32-bit floats, so each landmark
group also carries the coordinates as clicked in a text item (`99KYPHO EXACTXY`, `column\\row`), which
kyphoangle reads back when it agrees with the SCOORD to 32-bit precision (a point moved by another
program keeps the SCOORD's position). The signature is the report's verification:
`VerificationFlag` VERIFIED, the observer as verifying observer and the signing time as
`VerificationDateTime`. UIDs derive from the read and its signature, so exporting the same read twice
gives the same instance; the instance UID also derives from `REPORT_VERSION`, raised whenever what a
report holds changes, so a re-export with new content is a new instance.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

import numpy as np
from highdicom.sr import (
    ComprehensiveSR,
    FindingSite,
    GraphicTypeValues,
    ImageRegion,
    Measurement,
    MeasurementReport,
    MeasurementsAndQualitativeEvaluations,
    ObservationContext,
    ObserverContext,
    PersonObserverIdentifyingAttributes,
    PlanarROIMeasurementsAndQualitativeEvaluations,
    QualitativeEvaluation,
    RelationshipTypeValues,
    SourceImageForRegion,
    TextContentItem,
    TrackingIdentifier,
)
from pydicom import Dataset, dcmread
from pydicom.errors import InvalidDicomError
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.valuerep import DA, DT, TM

from kyphoangle import __version__
from kyphoangle.anatomy import Corner, LandmarkKey, Vertebra
from kyphoangle.errors import RadiographError
from kyphoangle.landmark_file import PointProvenance
from kyphoangle.protocol import GlobalEndpoints, Unit
from kyphoangle.sr import coding
from kyphoangle.sr.signed_read import ReportedValue, SignedRead

MANUFACTURER = "kyphoangle"
SR_SERIES_NUMBER = 9901
GROUP_SETTINGS = "read settings"
GROUP_GLOBAL = "global curves"
LEVEL_PREFIX = "level "
ENDPLATE_SUFFIX = " endplate"
REPORT_VERSION = 2
"""Version of the report's content, part of its SOP Instance UID: raised whenever the content of a
report of the same read changes (2: the landmarks' snapping provenance), so that a PACS holding the
earlier instance takes the new one as new rather than as a duplicate."""


def derived_uid(*parts: object) -> str:
    """A UID `2.25.<number>` from a hash of the parts: the same parts always give the same UID."""
    digest = hashlib.sha256("\n".join(str(p) for p in parts).encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def report_uid(read_id: int, film_uid: str, signed_at: dt.datetime, version: int = REPORT_VERSION) -> str:
    """The SOP Instance UID of the report of one signed read (signing time in UTC) at a content version."""
    return derived_uid("sr", read_id, film_uid, signed_at.isoformat(), f"content {version}")


def film_header(read: SignedRead) -> Dataset:
    """The referenced film's attributes (no pixels): patient, study and the SOP it is."""
    try:
        return dcmread(read.film_path, stop_before_pixels=True)
    except (OSError, InvalidDicomError) as exc:
        raise RadiographError(
            read.film_path, f"the film of read {read.read_id} cannot be read: {exc}"
        ) from None


def _tracking(read: SignedRead, identifier: str) -> TrackingIdentifier:
    return TrackingIdentifier(uid=derived_uid("tracking", read.read_id, identifier), identifier=identifier)


def _text(name: Code, value: str) -> TextContentItem:
    return TextContentItem(name=name, value=value, relationship_type=RelationshipTypeValues.CONTAINS)


def _site(value: ReportedValue) -> FindingSite:
    concept = coding.MEASUREMENT_CONCEPTS[value.name]
    if concept.site == coding.SiteKind.THORACIC_SPINE:
        return FindingSite(coding.THORACIC_SPINE)
    if concept.site == coding.SiteKind.LUMBAR_SPINE:
        return FindingSite(coding.LUMBAR_SPINE)
    assert value.level is not None
    return FindingSite(coding.VERTEBRA_CODES[Vertebra(value.level)], topographical_modifier=concept.modifier)


def _measurement(value: ReportedValue) -> Measurement:
    concept = coding.MEASUREMENT_CONCEPTS[value.name]
    return Measurement(
        name=concept.concept,
        value=value.value,
        unit=coding.UNIT_CODES[value.unit],
        finding_sites=[_site(value)],
    )


def _settings_group(read: SignedRead) -> MeasurementsAndQualitativeEvaluations:
    content = read.content
    endpoints = content.endpoints or GlobalEndpoints()
    calibration = []
    manual = content.calibration
    if manual is not None and manual.row_mm is not None and manual.col_mm is not None:
        calibration = [
            Measurement(coding.CALIBRATION_ROW, manual.row_mm, coding.UNIT_CODES[Unit.MM]),
            Measurement(coding.CALIBRATION_COLUMN, manual.col_mm, coding.UNIT_CODES[Unit.MM]),
        ]
    group = MeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(read, GROUP_SETTINGS),
        finding_type=coding.READ_SETTINGS,
        measurements=calibration or None,
        qualitative_evaluations=[
            QualitativeEvaluation(coding.READ_TYPE, coding.READ_TYPE_CODES[content.read_type]),
            QualitativeEvaluation(coding.SPACING_SOURCE, coding.SPACING_SOURCE_CODES[read.spacing_source]),
        ],
    )
    group[0].ContentSequence.extend(
        [
            _text(coding.NORMAL_TABLE, content.normal_table or ""),
            _text(coding.NORMAL_TABLE_VERSION, read.normal_table_version),
            _text(coding.KYPHOSIS_ENDPOINTS, GlobalEndpoints.label(endpoints.kyphosis)),
            _text(coding.LORDOSIS_ENDPOINTS, GlobalEndpoints.label(endpoints.lordosis)),
            _text(coding.SOFTWARE_VERSION, read.software_version),
        ]
    )
    return group


def _level_group(read: SignedRead, level: str) -> MeasurementsAndQualitativeEvaluations:
    content = read.content
    skipped = content.not_evaluable.get(level)
    evaluations = [
        QualitativeEvaluation(
            coding.FRACTURED_LEVEL, coding.YES if level in content.fractured_levels else coding.NO
        )
    ]
    if skipped is not None:
        evaluations.append(
            QualitativeEvaluation(coding.NOT_EVALUABLE, coding.NOT_EVALUABLE_CODES[skipped.reason])
        )
    values = [_measurement(v) for v in read.values if v.level == level]
    group = MeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(read, LEVEL_PREFIX + level),
        finding_sites=[FindingSite(coding.VERTEBRA_CODES[Vertebra(level)])],
        measurements=values or None,
        qualitative_evaluations=evaluations,
    )
    if skipped is not None and skipped.note:
        group[0].ContentSequence.append(_text(coding.NOT_EVALUABLE_NOTE, skipped.note))
    return group


def _region(read: SignedRead, source: SourceImageForRegion, identifier: str, graphic_type: GraphicTypeValues,
            points: Sequence[tuple[float, float]], site: FindingSite, purpose: Code,
            evaluations: Sequence[QualitativeEvaluation] = ()
            ) -> PlanarROIMeasurementsAndQualitativeEvaluations:  # fmt: skip
    return PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=_tracking(read, identifier),
        referenced_region=ImageRegion(
            graphic_type=graphic_type,
            graphic_data=np.array(points, dtype=np.float64),
            source_image=source,
        ),
        finding_type=purpose,
        finding_sites=[site],
        qualitative_evaluations=list(evaluations) or None,
    )


def _yes_no(flag: bool) -> Code:
    return coding.YES if flag else coding.NO


def _provenance_evaluations(provenance: PointProvenance | None) -> list[QualitativeEvaluation]:
    """Proposed by snapping and accepted, yes or no (nothing when the read did not record them)."""
    if provenance is None:
        return []
    return [
        QualitativeEvaluation(coding.SNAP_PROPOSED, _yes_no(provenance.proposed)),
        QualitativeEvaluation(coding.SNAP_ACCEPTED, _yes_no(provenance.accepted)),
    ]


def exact_text(point: tuple[float, float]) -> str:
    """A point as text that reads back to the same floats: `column\\row`, each its shortest repr."""
    column, row = point
    return f"{column!r}\\{row!r}"


def _landmark_groups(
    read: SignedRead, source: SourceImageForRegion
) -> list[PlanarROIMeasurementsAndQualitativeEvaluations]:
    points = read.content.points
    groups = []
    for key in sorted(points, key=lambda k: (LandmarkKey.parse(k).endplate.sort_key, k)):
        parsed = LandmarkKey.parse(key)
        site = FindingSite(
            coding.VERTEBRA_CODES[parsed.endplate.vertebra],
            topographical_modifier=coding.CORNER_MODIFIERS[parsed.corner],
        )
        provenance = read.content.provenance.get(key)
        group = _region(
            read, source, key, GraphicTypeValues.POINT, [points[key]], site, coding.LANDMARK,
            _provenance_evaluations(provenance),
        )  # fmt: skip
        group[0].ContentSequence.append(_text(coding.EXACT_POINT, exact_text(points[key])))
        if provenance is not None and provenance.click is not None:
            group[0].ContentSequence.append(_text(coding.READER_CLICK, exact_text(provenance.click)))
        groups.append(group)
    endplates = sorted({LandmarkKey.parse(k).endplate for k in points}, key=lambda e: e.sort_key)
    for endplate in endplates:
        posterior, anterior = endplate.key(Corner.POSTERIOR), endplate.key(Corner.ANTERIOR)
        if posterior in points and anterior in points:
            site = FindingSite(coding.VERTEBRA_CODES[endplate.vertebra])
            groups.append(
                _region(
                    read,
                    source,
                    f"{endplate}{ENDPLATE_SUFFIX}",
                    GraphicTypeValues.POLYLINE,
                    [points[posterior], points[anterior]],
                    site,
                    coding.ENDPLATE,
                )
            )
    return groups


def person_name(name: str) -> str:
    """A PN value of one component (the whole name as family name, hence the trailing caret)."""
    return name.replace("^", " ").replace("=", " ").replace("\\", " ")[:63] + "^"


def _library_entry(film: Dataset) -> list[Dataset] | None:
    """The film as highdicom's image library describes it, or None when it cannot be described.

    The library entry of a projection radiograph states its orientation and pixel spacing; a film
    calibrated at the patient only (Pixel Spacing, no Imager Pixel Spacing) is described with that
    spacing. A film without Patient Orientation gets no library entry (the regions still name it).
    """
    orientation = film.get("PatientOrientation")
    spacing = film.get("ImagerPixelSpacing") or film.get("PixelSpacing")
    if not orientation or len(orientation) != 2 or not spacing:
        return None
    entry = Dataset()
    entry.update(film)
    entry.ImagerPixelSpacing = spacing
    return [entry]


def measurement_report(read: SignedRead, film: Dataset) -> ComprehensiveSR:
    """The Comprehensive SR of one signed read of `film` (its header, as read by `film_header`)."""
    source = SourceImageForRegion(
        referenced_sop_class_uid=film.SOPClassUID, referenced_sop_instance_uid=film.SOPInstanceUID
    )
    person = PersonObserverIdentifyingAttributes(
        name=person_name(read.observer.name), login_name=read.observer.login
    )
    context = ObservationContext(
        observer_person_context=ObserverContext(
            observer_type=codes.DCM.Person, observer_identifying_attributes=person
        )
    )
    content = read.content
    levels = sorted(
        set(content.fractured_levels) | set(content.not_evaluable), key=lambda v: Vertebra(v).order
    )
    groups: list[MeasurementsAndQualitativeEvaluations | PlanarROIMeasurementsAndQualitativeEvaluations] = [
        _settings_group(read)
    ]
    global_values = [_measurement(v) for v in read.values if v.level is None]
    if global_values:
        groups.append(
            MeasurementsAndQualitativeEvaluations(
                tracking_identifier=_tracking(read, GROUP_GLOBAL), measurements=global_values
            )
        )
    groups += [_level_group(read, level) for level in levels]
    groups += _landmark_groups(read, source)
    report = MeasurementReport(
        observation_context=context,
        procedure_reported=coding.PLAIN_RADIOGRAPHY,
        imaging_measurements=groups,
        referenced_images=_library_entry(film),
    )
    stamp = read.signed_at.astimezone(dt.UTC)
    sr = ComprehensiveSR(
        evidence=[film],
        content=report[0],
        series_instance_uid=derived_uid("sr-series", film.StudyInstanceUID, "kyphoangle"),
        series_number=SR_SERIES_NUMBER,
        sop_instance_uid=report_uid(read.read_id, film.SOPInstanceUID, stamp),
        instance_number=read.read_id,
        manufacturer=MANUFACTURER,
        is_complete=True,
        is_final=True,
        is_verified=True,
        verifying_observer_name=person_name(read.observer.name),
        verifying_organization=MANUFACTURER,
    )
    sr.SeriesDescription = "kyphoangle measurements"
    sr.VerifyingObserverSequence[0].VerificationDateTime = DT(stamp.strftime("%Y%m%d%H%M%S.%f+0000"))
    sr.ContentDate = DA(stamp.date())
    sr.ContentTime = TM(stamp.time())
    sr.SoftwareVersions = __version__
    sr.CodingSchemeIdentificationSequence = [coding_scheme_identification()]
    return sr


def coding_scheme_identification() -> Dataset:
    """The item declaring the private coding scheme `99KYPHO` (Coding Scheme Identification)."""
    item = Dataset()
    item.CodingSchemeDesignator = coding.PRIVATE_SCHEME
    item.CodingSchemeName = coding.PRIVATE_SCHEME_NAME
    item.CodingSchemeResponsibleOrganization = MANUFACTURER
    return item
