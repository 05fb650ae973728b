"""Every enumeration of the trial's domain, with the label a user reads.

Each value set is one `Term` enumeration: its members are stored and exported by their value (stable
strings, unchanged since the first database revision) and shown by their `label`. The ORM, the command
line, the GUI and the exports take their words from here; no module spells a role, a read type, a visit
or a reason as a bare string.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "FRACTURE_LEVELS",
    "CampaignRole",
    "CampaignStatus",
    "Corner",
    "Diagnosis",
    "EndplateSide",
    "NotEvaluableReason",
    "PacsProtocol",
    "PatientPosition",
    "ReadStatus",
    "ReadType",
    "SignatureMeaning",
    "SpacingSource",
    "SubjectStatus",
    "Term",
    "UserRole",
    "Vertebra",
    "VisitAssignment",
    "VisitCode",
    "label_of",
]


class Term(StrEnum):
    """A value of the domain's vocabulary: stored as its value, shown as its `label`."""

    @property
    def label(self) -> str:
        """The words a user reads for this value."""
        return _LABELS.get((type(self), self.value), self.value.replace("_", " "))


def label_of(value: str, vocabulary: type[Term]) -> str:
    """The label of a stored value, or the value itself when the vocabulary does not know it."""
    try:
        return vocabulary(value).label
    except ValueError:
        return value


class UserRole(Term):
    """What a user does in the study; decides what they may do (`kyphoangle.workstation.access`)."""

    SITE_READER = "site_reader"
    CENTRAL_READER = "central_reader"
    ADJUDICATOR = "adjudicator"
    DATA_MANAGER = "data_manager"
    ADMIN = "admin"

    @property
    def plural(self) -> str:
        """The role's label in the plural, for messages ("central readers cannot ...")."""
        return f"{self.label}s"


class ReadType(Term):
    """Why a read was made: at the site, by a central reader, as a repeat, or by the adjudicator."""

    SITE = "site"
    CENTRAL = "central"
    REPEAT = "repeat"
    ADJUDICATION = "adjudication"


class ReadStatus(Term):
    """A draft can be edited by its reader; a signed read is locked."""

    DRAFT = "draft"
    SIGNED = "signed"


class SignatureMeaning(Term):
    """What a signature says about the read it locks (21 CFR 11.50: the meaning of the signature)."""

    SITE_READ = "site_read"
    CENTRAL_READ = "central_read"
    REPEAT_READ = "repeat_read"
    ADJUDICATION = "adjudication"
    AMENDMENT = "amendment"

    @classmethod
    def for_read_type(cls, read_type: ReadType) -> SignatureMeaning:
        """The meaning of signing a first read of this type."""
        return _MEANING_BY_READ_TYPE[read_type]


class VisitCode(Term):
    """The protocol's visits, by the code stored with each film (days relative to the procedure, D0)."""

    BASELINE = "baseline"
    D2_D5 = "D2-D5"
    D15 = "D15"
    D90 = "D90"
    D180 = "D180"
    D360 = "D360"

    @classmethod
    def sort_key(cls, code: str) -> tuple[int, str]:
        """Chronological order of visit codes (baseline first, unknown codes after D360)."""
        order = list(cls)
        try:
            return order.index(cls(code)), code
        except ValueError:
            return len(order), code


class Vertebra(Term):
    """Vertebrae a reader can mark, cranial to caudal."""

    T1 = "T1"
    T2 = "T2"
    T3 = "T3"
    T4 = "T4"
    T5 = "T5"
    T6 = "T6"
    T7 = "T7"
    T8 = "T8"
    T9 = "T9"
    T10 = "T10"
    T11 = "T11"
    T12 = "T12"
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"
    L4 = "L4"
    L5 = "L5"
    S1 = "S1"

    @property
    def order(self) -> int:
        """Position from T1 (0) to S1 (17)."""
        return _ORDER.index(self)

    def above(self) -> Vertebra | None:
        """The next vertebra cranially, or None for T1."""
        return _ORDER[self.order - 1] if self.order > 0 else None

    def below(self) -> Vertebra | None:
        """The next vertebra caudally, or None for S1."""
        return _ORDER[self.order + 1] if self.order + 1 < len(_ORDER) else None


_ORDER: tuple[Vertebra, ...] = tuple(Vertebra)

FRACTURE_LEVELS: tuple[str, ...] = tuple(v.value for v in _ORDER[_ORDER.index(Vertebra.T10) : -1])
"""Levels whose fracture the trial measures (T10 to L5)."""


class EndplateSide(Term):
    """Which endplate of a vertebral body."""

    SUPERIOR = "superior"
    INFERIOR = "inferior"


class Corner(Term):
    """A point on an endplate: its two corners and the middle (used only for the middle height)."""

    ANTERIOR = "anterior"
    MIDDLE = "middle"
    POSTERIOR = "posterior"


class NotEvaluableReason(Term):
    """Why a reader marked a level not evaluable (exported as such, never as a blank)."""

    OBSCURED = "obscured"
    OUT_OF_FIELD = "out_of_field"
    DOUBLE_CONTOUR = "double_contour"
    INSTRUMENTED = "instrumented"
    OTHER = "other"


class SpacingSource(Term):
    """Where a pixel spacing comes from; stored next to every value measured with it."""

    PIXEL_SPACING = "pixel_spacing"
    """Pixel Spacing (0028,0030): calibrated at the patient."""
    IMAGER_PIXEL_SPACING = "imager_pixel_spacing"
    """Imager Pixel Spacing (0018,1164): at the detector, magnified by the beam geometry."""
    IMAGER_PIXEL_SPACING_ERMF = "imager_pixel_spacing_ermf"
    """Imager Pixel Spacing divided by the Estimated Radiographic Magnification Factor (0018,1114)."""
    MANUAL = "manual"
    """Calibrated by a reader who clicked two points a known distance apart."""
    NONE = "none"
    """No spacing at all: distances are in pixels."""


class Diagnosis(Term):
    """The malignancy behind the subject's vertebral fractures."""

    MYELOMA = "myeloma"
    METASTASIS = "metastasis"


class PatientPosition(Term):
    """How the patient stood on the film (standing and supine lordosis differ by about 13 deg)."""

    STANDING = "standing"
    SUPINE = "supine"
    UNKNOWN = "unknown"


class SubjectStatus(Term):
    """Where a subject is in the follow-up."""

    ACTIVE = "active"
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    DECEASED = "deceased"


class VisitAssignment(Term):
    """How an image got its visit: not yet (no procedure or study date), by the schedule, or by hand."""

    PENDING = "pending"
    AUTOMATIC = "automatic"
    MANUAL = "manual"


class CampaignStatus(Term):
    """Life cycle of a central reading campaign."""

    PLANNED = "planned"
    OPEN = "open"
    CLOSED = "closed"


class CampaignRole(Term):
    """A user's part in a central reading campaign: one of up to six reader slots, or the adjudicator.

    Stored as text without a database constraint, so adding slots needs no migration.
    """

    READER_1 = "reader_1"
    READER_2 = "reader_2"
    READER_3 = "reader_3"
    READER_4 = "reader_4"
    READER_5 = "reader_5"
    READER_6 = "reader_6"
    ADJUDICATOR = "adjudicator"


class PacsProtocol(Term):
    """How kyphoangle talks to a PACS node: DICOM network services (DIMSE) or DICOMweb (HTTP)."""

    DIMSE = "dimse"
    DICOMWEB = "dicomweb"


_MEANING_BY_READ_TYPE: dict[ReadType, SignatureMeaning] = {
    ReadType.SITE: SignatureMeaning.SITE_READ,
    ReadType.CENTRAL: SignatureMeaning.CENTRAL_READ,
    ReadType.REPEAT: SignatureMeaning.REPEAT_READ,
    ReadType.ADJUDICATION: SignatureMeaning.ADJUDICATION,
}

_LABELS: dict[tuple[type[Term], str], str] = {
    (UserRole, "site_reader"): "site reader",
    (UserRole, "central_reader"): "central reader",
    (UserRole, "adjudicator"): "adjudicator",
    (UserRole, "data_manager"): "data manager",
    (UserRole, "admin"): "admin",
    (ReadType, "site"): "site read",
    (ReadType, "central"): "central read",
    (ReadType, "repeat"): "repeat read",
    (ReadType, "adjudication"): "adjudication read",
    (SignatureMeaning, "site_read"): "site read",
    (SignatureMeaning, "central_read"): "blinded central read",
    (SignatureMeaning, "repeat_read"): "blinded repeat read",
    (SignatureMeaning, "adjudication"): "adjudication",
    (SignatureMeaning, "amendment"): "amendment",
    (VisitCode, "baseline"): "Baseline (D-8 to D-1)",
    (VisitCode, "D2-D5"): "Post-operative (D2 to D5)",
    (VisitCode, "D15"): "Day 15",
    (VisitCode, "D90"): "Day 90",
    (VisitCode, "D180"): "Day 180",
    (VisitCode, "D360"): "Day 360",
    (NotEvaluableReason, "obscured"): "obscured",
    (NotEvaluableReason, "out_of_field"): "out of field",
    (NotEvaluableReason, "double_contour"): "double contour / obliquity",
    (NotEvaluableReason, "instrumented"): "instrumented",
    (NotEvaluableReason, "other"): "other",
    (SpacingSource, "pixel_spacing"): "Pixel Spacing, calibrated at the patient",
    (SpacingSource, "imager_pixel_spacing"): (
        "Imager Pixel Spacing, at the detector, not magnification-corrected"
    ),
    (SpacingSource, "imager_pixel_spacing_ermf"): (
        "Imager Pixel Spacing corrected by the magnification factor"
    ),
    (SpacingSource, "manual"): "manual calibration",
    (SpacingSource, "none"): "no spacing in the file: heights in pixels",
    (VisitAssignment, "automatic"): "by the schedule",
    (VisitAssignment, "manual"): "by hand",
    (CampaignRole, "reader_1"): "Reader 1",
    (CampaignRole, "reader_2"): "Reader 2",
    (CampaignRole, "reader_3"): "Reader 3",
    (CampaignRole, "reader_4"): "Reader 4",
    (CampaignRole, "reader_5"): "Reader 5",
    (CampaignRole, "reader_6"): "Reader 6",
    (CampaignRole, "adjudicator"): "Adjudicator",
    (PacsProtocol, "dimse"): "DICOM (DIMSE)",
    (PacsProtocol, "dicomweb"): "DICOMweb",
}
