"""The coded concepts of kyphoangle's DICOM reports: standard codes where one exists, else `99KYPHO`.

A measurement is identified by its concept name together with its finding site (and the site's
topographical modifier): `Cobb angle` of the thoracic spine is the thoracic kyphosis, of the lumbar
spine the lumbar lordosis, of one vertebra that vertebra's own kyphosis; `Height` of a vertebra with the
modifier anterior, middle or posterior is that height. Concepts with no standard code (the regional
angle, ART, the Beck index, the anterior height loss, the Genant grade, S1, read settings) use the
private coding scheme `99KYPHO` ("99" marks a private scheme in DICOM), listed in `docs/dicom.md`.
Every value is sent with its UCUM unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from pydicom.sr.coding import Code

from kyphoangle.anatomy import Corner, Vertebra
from kyphoangle.protocol import MeasurementName, Unit
from kyphoangle.spacing import SpacingSource
from kyphoangle.vocabulary import NotEvaluableReason, ReadType

PRIVATE_SCHEME = "99KYPHO"
"""Coding scheme designator of kyphoangle's own concepts."""
PRIVATE_SCHEME_NAME = "kyphoangle measurement concepts"

K = TypeVar("K")


def _private(value: str, meaning: str) -> Code:
    return Code(value, PRIVATE_SCHEME, meaning)


COBB_ANGLE = Code("285285000", "SCT", "Cobb angle")
HEIGHT = Code("121207", "DCM", "Height")
THORACIC_SPINE = Code("122495006", "SCT", "Thoracic spine")
LUMBAR_SPINE = Code("122496007", "SCT", "Lumbar spine")
PLAIN_RADIOGRAPHY = Code("168537006", "SCT", "Plain radiography")
YES = Code("373066001", "SCT", "Yes")
NO = Code("373067005", "SCT", "No")

CORNER_MODIFIERS: Mapping[Corner, Code] = {
    Corner.ANTERIOR: Code("255549009", "SCT", "Anterior"),
    Corner.MIDDLE: Code("C25569", "NCIt", "Middle"),
    Corner.POSTERIOR: Code("255551008", "SCT", "Posterior"),
}
"""Topographical modifiers of a vertebra's finding site (heights, landmarks)."""

VERTEBRA_CODES: Mapping[Vertebra, Code] = {
    Vertebra.T1: Code("64864005", "SCT", "T1 vertebra"),
    Vertebra.T2: Code("53733008", "SCT", "T2 vertebra"),
    Vertebra.T3: Code("1626008", "SCT", "T3 vertebra"),
    Vertebra.T4: Code("73071006", "SCT", "T4 vertebra"),
    Vertebra.T5: Code("56401006", "SCT", "T5 vertebra"),
    Vertebra.T6: Code("45296009", "SCT", "T6 vertebra"),
    Vertebra.T7: Code("62487009", "SCT", "T7 vertebra"),
    Vertebra.T8: Code("11068009", "SCT", "T8 vertebra"),
    Vertebra.T9: Code("82687006", "SCT", "T9 vertebra"),
    Vertebra.T10: Code("7610001", "SCT", "T10 vertebra"),
    Vertebra.T11: Code("12989004", "SCT", "T11 vertebra"),
    Vertebra.T12: Code("23215003", "SCT", "T12 vertebra"),
    Vertebra.L1: Code("66794005", "SCT", "L1 vertebra"),
    Vertebra.L2: Code("14293000", "SCT", "L2 vertebra"),
    Vertebra.L3: Code("36470004", "SCT", "L3 vertebra"),
    Vertebra.L4: Code("11994002", "SCT", "L4 vertebra"),
    Vertebra.L5: Code("49668003", "SCT", "L5 vertebra"),
    Vertebra.S1: _private("S1", "S1 vertebra"),
}
"""Finding sites of the vertebrae (SNOMED CT; S1 has no code in the DICOM content mapping resource)."""

UNIT_CODES: Mapping[Unit, Code] = {
    Unit.DEG: Code("deg", "UCUM", "degree"),
    Unit.MM: Code("mm", "UCUM", "millimeter"),
    Unit.PX: Code("{pixels}", "UCUM", "pixels"),
    Unit.PERCENT: Code("%", "UCUM", "percent"),
    Unit.RATIO: Code("{ratio}", "UCUM", "ratio"),
    Unit.GRADE: Code("{grade}", "UCUM", "grade"),
}


class SiteKind(StrEnum):
    """Which finding site a measurement concept is reported with."""

    THORACIC_SPINE = "thoracic_spine"
    LUMBAR_SPINE = "lumbar_spine"
    VERTEBRA = "vertebra"


@dataclass(frozen=True, slots=True)
class MeasurementConcept:
    """How one of our measurements is coded: concept name, finding site kind, site modifier."""

    name: MeasurementName
    concept: Code
    site: SiteKind
    modifier: Code | None = None


MEASUREMENT_CONCEPTS: Mapping[MeasurementName, MeasurementConcept] = {
    c.name: c
    for c in (
        MeasurementConcept(MeasurementName.THORACIC_KYPHOSIS, COBB_ANGLE, SiteKind.THORACIC_SPINE),
        MeasurementConcept(MeasurementName.LUMBAR_LORDOSIS, COBB_ANGLE, SiteKind.LUMBAR_SPINE),
        MeasurementConcept(MeasurementName.VERTEBRAL_KYPHOSIS, COBB_ANGLE, SiteKind.VERTEBRA),
        MeasurementConcept(
            MeasurementName.REGIONAL_ANGLE, _private("RA", "Regional angle"), SiteKind.VERTEBRA
        ),
        MeasurementConcept(
            MeasurementName.TRAUMATIC_REGIONAL_ANGLE,
            _private("ART", "Traumatic regional angle"),
            SiteKind.VERTEBRA,
        ),
        MeasurementConcept(
            MeasurementName.ANTERIOR_HEIGHT, HEIGHT, SiteKind.VERTEBRA, CORNER_MODIFIERS[Corner.ANTERIOR]
        ),
        MeasurementConcept(
            MeasurementName.MIDDLE_HEIGHT, HEIGHT, SiteKind.VERTEBRA, CORNER_MODIFIERS[Corner.MIDDLE]
        ),
        MeasurementConcept(
            MeasurementName.POSTERIOR_HEIGHT, HEIGHT, SiteKind.VERTEBRA, CORNER_MODIFIERS[Corner.POSTERIOR]
        ),
        MeasurementConcept(MeasurementName.BECK_INDEX, _private("BECK", "Beck index"), SiteKind.VERTEBRA),
        MeasurementConcept(
            MeasurementName.ANTERIOR_HEIGHT_LOSS,
            _private("AHL", "Anterior height loss"),
            SiteKind.VERTEBRA,
        ),
        MeasurementConcept(
            MeasurementName.MIDDLE_HEIGHT_LOSS,
            _private("MHL", "Middle height loss"),
            SiteKind.VERTEBRA,
        ),
        MeasurementConcept(
            MeasurementName.POSTERIOR_HEIGHT_LOSS,
            _private("PHL", "Posterior height loss"),
            SiteKind.VERTEBRA,
        ),
        MeasurementConcept(
            MeasurementName.SEGMENTAL_KYPHOSIS,
            _private("SK", "Segmental kyphosis"),
            SiteKind.VERTEBRA,
        ),
        MeasurementConcept(
            MeasurementName.GENANT_GRADE, _private("GENANT", "Genant grade"), SiteKind.VERTEBRA
        ),
    )
}
"""Every measurement's coding; `docs/dicom.md` lists the same table."""

# Read settings, level statements and landmark provenance (no standard concept).
READ_SETTINGS = _private("SETTINGS", "Read settings")
READ_TYPE = _private("READTYPE", "Read type")
NORMAL_TABLE = _private("NTABLE", "Normal table")
NORMAL_TABLE_VERSION = _private("NTABLEVER", "Normal table version")
KYPHOSIS_ENDPOINTS = _private("KENDPOINTS", "Thoracic kyphosis endpoints")
LORDOSIS_ENDPOINTS = _private("LENDPOINTS", "Lumbar lordosis endpoints")
SPACING_SOURCE = _private("SPACING", "Calibration source")
CALIBRATION_ROW = _private("CALROW", "Manual calibration row spacing")
CALIBRATION_COLUMN = _private("CALCOL", "Manual calibration column spacing")
SOFTWARE_VERSION = _private("SOFTWARE", "Software version")
FRACTURED_LEVEL = _private("FRACTURED", "Fractured level")
NOT_EVALUABLE = _private("NOTEVAL", "Level not evaluable")
NOT_EVALUABLE_NOTE = _private("NOTEVALNOTE", "Not evaluable note")
LANDMARK = _private("LANDMARK", "Endplate landmark")
EXACT_POINT = _private("EXACTXY", "Landmark column and row as clicked")
SNAP_PROPOSED = _private("SNAPPROPOSED", "Proposed by snapping")
SNAP_ACCEPTED = _private("SNAPACCEPTED", "Snapping proposal accepted")
READER_CLICK = _private("CLICKXY", "Reader's click, column and row")
ENDPLATE = _private("ENDPLATE", "Endplate line")

READ_TYPE_CODES: Mapping[ReadType, Code] = {
    ReadType.SITE: _private("READ-SITE", "Site read"),
    ReadType.CENTRAL: _private("READ-CENTRAL", "Central blinded read"),
    ReadType.REPEAT: _private("READ-REPEAT", "Repeat blinded read"),
    ReadType.ADJUDICATION: _private("READ-ADJ", "Adjudication read"),
}

NOT_EVALUABLE_CODES: Mapping[NotEvaluableReason, Code] = {
    NotEvaluableReason.OBSCURED: _private("NE-OBSCURED", "Obscured"),
    NotEvaluableReason.OUT_OF_FIELD: _private("NE-OUTOFFIELD", "Out of field"),
    NotEvaluableReason.DOUBLE_CONTOUR: _private("NE-DOUBLE", "Double contour or obliquity"),
    NotEvaluableReason.INSTRUMENTED: _private("NE-INSTRUMENT", "Instrumented"),
    NotEvaluableReason.OTHER: _private("NE-OTHER", "Other reason"),
}

SPACING_SOURCE_CODES: Mapping[SpacingSource, Code] = {
    SpacingSource.PIXEL_SPACING: _private("SP-PIXEL", "Pixel Spacing (at the patient)"),
    SpacingSource.IMAGER_PIXEL_SPACING: _private("SP-IMAGER", "Imager Pixel Spacing (at the detector)"),
    SpacingSource.IMAGER_PIXEL_SPACING_ERMF: _private(
        "SP-IMAGERERMF", "Imager Pixel Spacing corrected by the magnification factor"
    ),
    SpacingSource.MANUAL: _private("SP-MANUAL", "Manual calibration"),
    SpacingSource.NONE: _private("SP-NONE", "No calibration (pixels)"),
}


def same_code(a: object, b: Code) -> bool:
    """Whether a coded item (pydicom Code, highdicom CodedConcept or a code dataset) is `b`."""
    value = getattr(a, "value", None) or getattr(a, "CodeValue", None)
    scheme = getattr(a, "scheme_designator", None) or getattr(a, "CodingSchemeDesignator", None)
    return value == b.value and scheme == b.scheme_designator


def find_by_code(codes: Mapping[K, Code], item: object) -> K | None:
    """The key whose code is `item`, or None."""
    for key, code in codes.items():
        if same_code(item, code):
            return key
    return None
