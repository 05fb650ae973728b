"""Reading a radiograph file: `read_header` (no pixels) and `load_radiograph` (one frame, ready to show)."""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from pydicom import dcmread
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.uid import UID, DeflatedExplicitVRLittleEndian

from kyphoangle.dicom import attributes as attr
from kyphoangle.dicom.deflate import check_inflated_size, meta_end
from kyphoangle.dicom.pixels import (
    PIXEL_DATA_TAGS,
    apply_modality,
    check_layout,
    decode_frame,
    has_pixel_data,
    read_layout,
    to_grey,
    transfer_syntax,
)
from kyphoangle.dicom.radiograph import MONOCHROME1, PatientIdentity, Radiograph, RadiographHeader
from kyphoangle.dicom.spacing import read_pixel_aspect_ratio, read_spacing
from kyphoangle.dicom.voi import computed_preset, read_voi_presets
from kyphoangle.errors import (
    CorruptPixelDataError,
    ImportFileError,
    NoPixelDataError,
    NotDicomError,
    RadiographError,
)

MEDIA_STORAGE_DIRECTORY = "1.2.840.10008.1.3.10"
"""SOP Class UID of a DICOMDIR."""

_PIXEL_TAG_BYTES = frozenset(
    (tag >> 16).to_bytes(2, order) + (tag & 0xFFFF).to_bytes(2, order)
    for tag in PIXEL_DATA_TAGS
    for order in ("little", "big")
)
"""The encoded tags of the pixel data elements, in both byte orders."""


_TRUNCATED_PIXELS = "the file is truncated or damaged: its image data ends early"


def read_header(path: str | os.PathLike[str]) -> RadiographHeader:
    """Read the header of a DICOM file without decoding (or reading) its pixels.

    Raises a `RadiographError` subclass when the file is not DICOM or cannot be read; a file without an
    image (a report, a DICOMDIR) is returned with `has_pixel_data` False.
    """
    file = Path(path)
    warnings: list[str] = []
    with attr.captured_warnings(warnings):
        ds, pixels_present = _read_dataset(file, stop_before_pixels=True)
        header = _header(ds, file, warnings, has_pixels=pixels_present, frame=0)
    return replace(header, warnings=tuple(warnings))  # with pydicom's, recorded when the capture ends


def load_radiograph(path: str | os.PathLike[str], *, frame: int = 0) -> Radiograph:
    """Load one frame of a DICOM radiograph, decoded, in grey values after the Modality LUT.

    Raises a `RadiographError` subclass naming the file and the reason when it cannot be shown:
    `NotDicomError`, `NoPixelDataError`, `UnsupportedEncodingError` (naming the package to install),
    `CorruptPixelDataError`, `NotAnImageError`, or `RadiographError` itself for a missing file or a
    frame the file does not have.
    """
    file = Path(path)
    warnings: list[str] = []
    with attr.captured_warnings(warnings):
        ds, _ = _read_dataset(file, stop_before_pixels=False)
        if not has_pixel_data(ds):
            # pydicom drops image data that ends early (a truncated copy): tell that from a report.
            header_ds, pixels_follow = _read_dataset(file, stop_before_pixels=True)
            if pixels_follow:
                raise CorruptPixelDataError(file, _TRUNCATED_PIXELS)
            raise NoPixelDataError(file, f"this file holds no image: it is {_what_it_is(header_ds)}")
        layout = check_layout(ds, file, warnings)
        if not 0 <= frame < layout.number_of_frames:
            raise RadiographError(
                file,
                f"frame {frame} does not exist: the file has {layout.number_of_frames} frame(s),"
                f" numbered 0 to {layout.number_of_frames - 1}",
            )
        header = _header(ds, file, warnings, has_pixels=True, frame=frame)
        stored = decode_frame(ds, file, layout, frame)
        grey = to_grey(stored, ds, file, layout)
        pixels = apply_modality(grey, ds, layout, frame, warnings)
        presets = read_voi_presets(ds, warnings, frame=frame) or [computed_preset(pixels)]
    pixels.flags.writeable = False
    fields = {name: getattr(header, name) for name in RadiographHeader.__dataclass_fields__}
    fields["warnings"] = tuple(warnings)
    return Radiograph(**fields, pixels=pixels, frame=frame, voi_presets=tuple(presets))


def probe_radiograph(path: str | os.PathLike[str]) -> RadiographHeader:
    """Check a film offered for import: header sanity (`sanity.header_problems`) and a decode of its
    first frame, from one reading of the file. Returns its header; raises `ImportFileError` with every
    header problem, or the decoding error.
    """
    from kyphoangle.dicom.sanity import header_problems

    file = Path(path)
    warnings: list[str] = []
    with attr.captured_warnings(warnings):
        ds, present = _read_dataset(file, stop_before_pixels=False)
        if not present:
            raise NoPixelDataError(file, f"this file holds no image: it is {_what_it_is(ds)}")
        problems = header_problems(ds)
        if problems:
            raise ImportFileError(file, "; ".join(problems))
        header = _header(ds, file, warnings, has_pixels=True, frame=0)
        layout = check_layout(ds, file, warnings)
        decode_frame(ds, file, layout, 0)
    return replace(header, warnings=tuple(warnings))


def read_header_dataset(path: str | os.PathLike[str]) -> tuple[Dataset, bool]:
    """The dataset of a file without its pixel data, and whether pixel data follows; errors are ours."""
    return _read_dataset(Path(path), stop_before_pixels=True)


def read_dataset(path: str | os.PathLike[str]) -> tuple[Dataset, bool]:
    """The whole dataset of a file and whether it holds pixel data; unreadable files raise our errors."""
    return _read_dataset(Path(path), stop_before_pixels=False)


def _read_dataset(path: Path, *, stop_before_pixels: bool) -> tuple[Dataset, bool]:
    """Parse the file; return the dataset and whether it holds pixel data. Errors are ours."""
    try:
        if path.is_dir():
            raise RadiographError(path, "this is a folder, not a file")
        size = path.stat().st_size
        fp: BinaryIO
        with open(path, "rb") as fp:
            if size == 0:
                raise NotDicomError(path, "the file is empty")
            if _is_deflated(fp):
                check_inflated_size(fp, path)
            ds = _parse(fp, path, stop_before_pixels=stop_before_pixels)
            present = _pixel_data_follows(fp, ds) if stop_before_pixels else has_pixel_data(ds)
        if len(ds) == 0:
            # pydicom returns an empty dataset when the file ends inside an element.
            if not stop_before_pixels and _read_dataset(path, stop_before_pixels=True)[1]:
                raise CorruptPixelDataError(path, _TRUNCATED_PIXELS)
            raise NotDicomError(path, "the file is truncated or damaged: its DICOM header cannot be read")
    except RadiographError:
        raise
    except FileNotFoundError:
        raise RadiographError(path, "the file does not exist") from None
    except PermissionError:
        raise RadiographError(path, "you do not have permission to read this file") from None
    except OSError as exc:
        raise RadiographError(path, f"the file could not be read ({exc.strerror or exc})") from None
    return ds, present


def _is_deflated(fp: BinaryIO) -> bool:
    """Whether the file meta information names the deflated transfer syntax (checked before parsing)."""
    try:
        end = meta_end(fp)
        fp.seek(0)
        return DeflatedExplicitVRLittleEndian.encode() in fp.read(min(end, 1 << 16))
    except (OSError, struct.error):
        return False
    finally:
        fp.seek(0)


def _parse(fp: BinaryIO, path: Path, *, stop_before_pixels: bool) -> Dataset:
    try:
        ds = dcmread(fp, stop_before_pixels=stop_before_pixels)
        if _meta_names_content(ds) or _plausible(ds):
            return ds
        raise NotDicomError(path, "the file starts like a DICOM file but its content is unreadable (damaged)")
    except InvalidDicomError:
        pass
    except (RadiographError, MemoryError):
        raise
    except zlib.error:
        raise NotDicomError(
            path, "the file is damaged or truncated: its compressed content cannot be unpacked"
        ) from None
    except Exception as exc:
        raise NotDicomError(
            path, f"the file is damaged or truncated: it cannot be read ({_short(exc)})"
        ) from None
    # Old (ACR-NEMA style) files start directly with the dataset: accept them only if they parse into
    # plausible image attributes, so that random bytes are never taken for DICOM.
    fp.seek(0)
    try:
        ds = dcmread(fp, force=True, stop_before_pixels=stop_before_pixels)
        plausible = _plausible(ds)
    except Exception:
        plausible = False
    if not plausible:
        raise NotDicomError(path, "this is not a DICOM file")
    return ds


def _meta_names_content(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        return False
    warnings: list[str] = []
    return bool(
        attr.text(meta, "TransferSyntaxUID", warnings) or attr.text(meta, "MediaStorageSOPClassUID", warnings)
    )


def _plausible(ds: Dataset) -> bool:
    tags = list(ds.keys())
    if len(tags) < 3 or not any(tag in ds for tag in (0x00080016, 0x00280010, 0x00080018)):
        return False
    known = sum(1 for tag in tags if tag.is_private or tag.element == 0 or keyword_for_tag(tag))
    return known >= 0.9 * len(tags)


def _pixel_data_follows(fp: BinaryIO, ds: Dataset) -> bool:
    """After a read that stopped before the pixels, whether the next element is pixel data."""
    if transfer_syntax(ds) == DeflatedExplicitVRLittleEndian:
        fp.seek(0)  # the stop position is inside the inflated stream: read it all, pixels deferred
        return has_pixel_data(dcmread(fp, defer_size=1024))
    return fp.read(4) in _PIXEL_TAG_BYTES


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or exc.__class__.__name__
    return text[:120]


def _what_it_is(ds: Dataset) -> str:
    """Describe, for a reader, a DICOM object that holds no image."""
    warnings: list[str] = []
    sop_class = attr.text(ds, "SOPClassUID", warnings) or attr.text(
        getattr(ds, "file_meta", Dataset()), "MediaStorageSOPClassUID", warnings
    )
    if sop_class == MEDIA_STORAGE_DIRECTORY or "DirectoryRecordSequence" in ds:
        return "a DICOMDIR (the index of a CD or DVD), not an image: open its folder instead"
    name = str(UID(sop_class).name) if sop_class else ""
    modality = attr.text(ds, "Modality", warnings)
    kinds = (
        ("SR Storage", "a structured report"),
        ("Presentation State", "a presentation state (display settings for another image)"),
        ("Key Object Selection", "a key object selection (a list of flagged images)"),
        ("RT Plan", "a radiotherapy plan"),
        ("RT Structure Set", "a radiotherapy structure set"),
        ("Waveform", "a waveform recording"),
        ("ECG", "a waveform recording (ECG)"),
        ("Encapsulated PDF", "a PDF document"),
        ("Raw Data", "raw data"),
    )
    for key, description in kinds:
        if key in name:
            return description
    if modality == "SR":
        return "a structured report"
    if "Image Storage" in name:
        return f"a {name.replace(' Storage', '')} whose pixel data is missing (the file may be truncated)"
    if name and name != sop_class:
        return f"a '{name}' object"
    return "a DICOM object without pixel data"


def _header(
    ds: Dataset, path: Path, warnings: list[str], *, has_pixels: bool, frame: int
) -> RadiographHeader:
    meta = getattr(ds, "file_meta", Dataset())
    rows, columns, frames, samples, allocated, stored, photometric = (
        read_layout(ds, warnings) if has_pixels or "Rows" in ds else (0, 0, 0, 0, 0, 0, "")
    )
    sop_class = attr.text(ds, "SOPClassUID", warnings) or attr.text(meta, "MediaStorageSOPClassUID", warnings)
    sop_instance = attr.text(ds, "SOPInstanceUID", warnings) or attr.text(
        meta, "MediaStorageSOPInstanceUID", warnings
    )
    identity = _identity(ds, warnings)
    return RadiographHeader(
        path=path,
        sop_instance_uid=sop_instance,
        sop_class_uid=sop_class,
        study_instance_uid=attr.text(ds, "StudyInstanceUID", warnings),
        series_instance_uid=attr.text(ds, "SeriesInstanceUID", warnings),
        transfer_syntax_uid=transfer_syntax(ds),
        modality=attr.text(ds, "Modality", warnings),
        study_date=identity.study_date,
        view_position=attr.text(ds, "ViewPosition", warnings),
        body_part_examined=attr.text(ds, "BodyPartExamined", warnings),
        patient_orientation=attr.text_values(ds, "PatientOrientation", warnings),
        patient_position=attr.text(ds, "PatientPosition", warnings),
        rows=rows,
        columns=columns,
        number_of_frames=max(frames, 1) if has_pixels else frames,
        samples_per_pixel=samples,
        bits_allocated=allocated,
        bits_stored=stored,
        photometric_interpretation=photometric,
        invert_display=photometric == MONOCHROME1,
        spacing=read_spacing(ds, warnings, frame=frame),
        pixel_aspect_ratio=read_pixel_aspect_ratio(ds, warnings),
        has_pixel_data=has_pixels,
        identity=identity,
        warnings=tuple(warnings),
        burned_in_annotation=attr.text(ds, "BurnedInAnnotation", warnings).upper() == "YES",
    )


def _identity(ds: Dataset, warnings: list[str]) -> PatientIdentity:
    texts = {
        name: attr.text(ds, keyword, warnings)
        for name, keyword in (
            ("patient_name", "PatientName"),
            ("patient_id", "PatientID"),
            ("other_patient_ids", "OtherPatientIDs"),
            ("patient_sex", "PatientSex"),
            ("patient_age", "PatientAge"),
            ("institution_name", "InstitutionName"),
            ("institution_address", "InstitutionAddress"),
            ("institutional_department_name", "InstitutionalDepartmentName"),
            ("station_name", "StationName"),
            ("device_serial_number", "DeviceSerialNumber"),
            ("accession_number", "AccessionNumber"),
            ("study_id", "StudyID"),
            ("referring_physician_name", "ReferringPhysicianName"),
            ("performing_physician_name", "PerformingPhysicianName"),
            ("operators_name", "OperatorsName"),
            ("study_description", "StudyDescription"),
            ("series_description", "SeriesDescription"),
        )
    }
    return PatientIdentity(
        **texts,
        patient_birth_date=attr.date(ds, "PatientBirthDate", warnings),
        study_date=attr.date(ds, "StudyDate", warnings),
        study_time=attr.time(ds, "StudyTime", warnings),
        series_date=attr.date(ds, "SeriesDate", warnings),
        series_time=attr.time(ds, "SeriesTime", warnings),
        acquisition_date=attr.date(ds, "AcquisitionDate", warnings),
        acquisition_time=attr.time(ds, "AcquisitionTime", warnings),
        content_date=attr.date(ds, "ContentDate", warnings),
        content_time=attr.time(ds, "ContentTime", warnings),
    )
