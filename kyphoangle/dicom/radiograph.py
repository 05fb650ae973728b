"""The records a radiograph file is read into: header, identity, VOI presets and the loaded image."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kyphoangle.spacing import PixelSpacing

MONOCHROME1 = "MONOCHROME1"
"""The photometric interpretation whose minimum value is shown white (inverted display)."""


class VoiFunction(enum.StrEnum):
    """VOI LUT Function (0028,1056): how a window maps values to grey levels (PS3.3 C.11.2.1.3)."""

    LINEAR = "LINEAR"
    LINEAR_EXACT = "LINEAR_EXACT"
    SIGMOID = "SIGMOID"


@dataclass(frozen=True, slots=True, eq=False)
class VoiLut:
    """A VOI lookup table from the VOI LUT Sequence (0028,3010), as stored in the file.

    Input values below `first_mapped_value` map to the first entry, values past the end to the last;
    entries range from 0 to 2**bits_per_entry - 1 (the LUT Descriptor's third value). Compared by
    identity (it holds an array).
    """

    first_mapped_value: int
    data: npt.NDArray[np.uint16]
    bits_per_entry: int
    explanation: str = ""

    @property
    def entry_count(self) -> int:
        """Number of entries in the table."""
        return int(self.data.shape[0])

    @property
    def max_output(self) -> int:
        """Largest value an entry can have (2**bits_per_entry - 1)."""
        return int(2**self.bits_per_entry - 1)


@dataclass(frozen=True, slots=True)
class VoiPreset:
    """One way of showing the film: a window (center, width, function) or a VOI lookup table.

    `center` and `width` are in the units of the pixels after the Modality LUT. For a preset with a
    `lut`, they describe the table's input range, so a window/level drag can start from it.
    """

    center: float
    width: float
    explanation: str = ""
    function: VoiFunction = VoiFunction.LINEAR
    lut: VoiLut | None = None
    computed: bool = False
    """True when kyphoangle computed the window (the file had none)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "function", VoiFunction(self.function))


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """Everything in a file that identifies the patient, the site, the visit or the people involved.

    Kept apart from the rest of the header so that blinding drops it wholesale. Descriptions are here
    because sites often write the visit ("post-op D2") or the patient's name in them.
    """

    patient_name: str = ""
    patient_id: str = ""
    other_patient_ids: str = ""
    patient_birth_date: dt.date | None = None
    patient_sex: str = ""
    patient_age: str = ""
    institution_name: str = ""
    institution_address: str = ""
    institutional_department_name: str = ""
    station_name: str = ""
    device_serial_number: str = ""
    accession_number: str = ""
    study_id: str = ""
    referring_physician_name: str = ""
    performing_physician_name: str = ""
    operators_name: str = ""
    study_description: str = ""
    series_description: str = ""
    study_date: dt.date | None = None
    study_time: dt.time | None = None
    series_date: dt.date | None = None
    series_time: dt.time | None = None
    acquisition_date: dt.date | None = None
    acquisition_time: dt.time | None = None
    content_date: dt.date | None = None
    content_time: dt.time | None = None

    @property
    def is_empty(self) -> bool:
        """Whether nothing identifying is held."""
        return self == PatientIdentity()


@dataclass(frozen=True, slots=True)
class RadiographHeader:
    """What the header of a DICOM file says, read without decoding any pixel.

    `rows`, `columns` and `number_of_frames` are 0 when the file holds no image. `invert_display` is
    True for MONOCHROME1 (low values shown white). `warnings` lists malformed values that were ignored.
    """

    path: Path
    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    series_instance_uid: str
    transfer_syntax_uid: str
    modality: str
    study_date: dt.date | None
    view_position: str
    body_part_examined: str
    patient_orientation: tuple[str, ...]
    patient_position: str
    rows: int
    columns: int
    number_of_frames: int
    samples_per_pixel: int
    bits_allocated: int
    bits_stored: int
    photometric_interpretation: str
    invert_display: bool
    spacing: PixelSpacing
    pixel_aspect_ratio: tuple[int, int] | None
    has_pixel_data: bool
    identity: PatientIdentity = field(default_factory=PatientIdentity)
    warnings: tuple[str, ...] = ()
    burned_in_annotation: bool = False
    """Burned In Annotation (0028,0301) is YES: text (possibly identifying) is part of the pixels, which
    no blinding removes; the data manager is told at import."""

    @property
    def sop_class_name(self) -> str:
        """The SOP class in words (e.g. "Digital X-Ray Image Storage - For Presentation")."""
        from pydicom.uid import UID

        return str(UID(self.sop_class_uid).name) if self.sop_class_uid else ""

    def blinded(self) -> RadiographHeader:
        """Return a copy without anything identifying: empty identity and no study date."""
        return replace(self, identity=PatientIdentity(), study_date=None)


@dataclass(frozen=True, slots=True, eq=False)
class Radiograph(RadiographHeader):
    """A loaded radiograph: the header plus one frame of grey pixels and the ways to show them.

    `pixels` (rows, columns) holds the values after the Modality LUT (Rescale Slope/Intercept or the
    Modality LUT Sequence), read-only; colour images are converted to their luminance. `frame` is the
    0-based frame that was loaded. `voi_presets` come from the file (windows first, then lookup tables),
    or hold one computed window when the file has none. Compared by identity (it holds an array).
    """

    pixels: npt.NDArray[Any] = field(default_factory=lambda: np.zeros((0, 0), np.uint16))
    frame: int = 0
    voi_presets: tuple[VoiPreset, ...] = ()

    __eq__ = object.__eq__
    __hash__ = object.__hash__

    def blinded(self) -> Radiograph:
        """Return a copy without anything identifying: empty identity and no study date."""
        return replace(self, identity=PatientIdentity(), study_date=None)

    @property
    def header(self) -> RadiographHeader:
        """The header part alone (no pixels)."""
        names = RadiographHeader.__dataclass_fields__
        return RadiographHeader(**{name: getattr(self, name) for name in names})
