"""Writing a grey film as a DX (For Presentation) or CR DICOM file, in any encoding we can produce.

Used by tests, benchmarks and the demo-study generator (synthetic films). Encodings: uncompressed
(explicit and implicit little endian, explicit big endian), deflated, RLE, JPEG-LS lossless and
near-lossless (pyjpegls), JPEG 2000 lossless and lossy (pylibjpeg-openjpeg), JPEG lossless
(process 14 SV1) and JPEG baseline (8-bit only) through python-gdcm, and 12-bit JPEG Extended
(process 2 & 4, as CR and DX systems write it) through imagecodecs (libjpeg-turbo). High-Throughput
JPEG 2000 cannot be written: no installed encoder produces it.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from pydicom import uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, generate_uid

from kyphoangle import __version__
from kyphoangle.dicom.radiograph import PatientIdentity, VoiFunction, VoiPreset
from kyphoangle.dicom.voi import computed_preset

DX_FOR_PRESENTATION = UID("1.2.840.10008.5.1.4.1.1.1.1")
"""Digital X-Ray Image Storage - For Presentation."""
CR_IMAGE = UID("1.2.840.10008.5.1.4.1.1.1")
"""Computed Radiography Image Storage."""

WRITABLE_TRANSFER_SYNTAXES: tuple[UID, ...] = (
    uid.ExplicitVRLittleEndian,
    uid.ImplicitVRLittleEndian,
    uid.ExplicitVRBigEndian,
    uid.DeflatedExplicitVRLittleEndian,
    uid.RLELossless,
    uid.JPEGLSLossless,
    uid.JPEGLSNearLossless,
    uid.JPEG2000Lossless,
    uid.JPEG2000,
    uid.JPEGLosslessSV1,
    uid.JPEGBaseline8Bit,
    uid.JPEGExtended12Bit,
)
"""Every transfer syntax `write_radiograph` can produce."""

LOSSY_TRANSFER_SYNTAXES = frozenset(
    {uid.JPEGLSNearLossless, uid.JPEG2000, uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit}
)

_LOSSY_METHOD = {
    uid.JPEGLSNearLossless: "ISO_14495_1",
    uid.JPEG2000: "ISO_15444_1",
    uid.JPEGBaseline8Bit: "ISO_10918_1",
    uid.JPEGExtended12Bit: "ISO_10918_1",
}
_GDCM_SYNTAX = {uid.JPEGLosslessSV1: "JPEGLosslessProcess14_1", uid.JPEGBaseline8Bit: "JPEGBaselineProcess1"}

_IMPLEMENTATION_CLASS_UID = UID("1.2.826.0.1.3680043.10.1501.1")

SPINE_REGION = ("421060004", "SCT", "Spine")
"""Anatomic Region Sequence code of a spine film (SNOMED CT, CID 4031)."""


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = scheme
    item.CodeMeaning = meaning
    return item


"""Under pydicom's root; identifies files kyphoangle wrote."""


def radiograph_dataset(
    pixels: npt.NDArray[np.unsignedinteger[Any]],
    *,
    photometric: str = "MONOCHROME2",
    bits_stored: int | None = None,
    modality: str = "DX",
    pixel_spacing_mm: tuple[float, float] | None = None,
    imager_pixel_spacing_mm: tuple[float, float] | None = None,
    ermf: float | None = None,
    pixel_aspect_ratio: tuple[int, int] | None = None,
    voi_presets: Sequence[VoiPreset] = (),
    identity: PatientIdentity | None = None,
    study_instance_uid: str | None = None,
    series_instance_uid: str | None = None,
    sop_instance_uid: str | None = None,
    study_date: dt.date | None = None,
    view_position: str = "LL",
    body_part: str = "SPINE",
    patient_position: str = "",
    patient_orientation: tuple[str, str] = ("A", "F"),
    instance_number: int = 1,
) -> Dataset:
    """Build an uncompressed DX (For Presentation) or CR dataset holding `pixels` (uint8/uint16, 2-D).

    Spacings are (row, column) in mm; `ermf` is the Estimated Radiographic Magnification Factor. UIDs
    not given are generated. `study_date` defaults to the identity's study date.
    """
    if pixels.ndim != 2 or pixels.dtype not in (np.uint8, np.uint16) or 0 in pixels.shape:
        raise ValueError(
            f"pixels must be a non-empty 2-D uint8 or uint16 array, got {pixels.dtype} {pixels.shape}"
        )
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        raise ValueError(f"photometric must be MONOCHROME1 or MONOCHROME2, got {photometric!r}")
    if modality not in ("DX", "CR"):
        raise ValueError(f"modality must be DX or CR, got {modality!r}")
    allocated = pixels.dtype.itemsize * 8
    if bits_stored is None:
        bits_stored = max(8, int(pixels.max()).bit_length()) if allocated == 16 else 8
    if not 1 <= bits_stored <= allocated or int(pixels.max()) >= 2**bits_stored:
        raise ValueError(f"bits_stored {bits_stored} cannot hold these {allocated}-bit pixels")
    who = identity or PatientIdentity()
    when = study_date or who.study_date
    sop_class = DX_FOR_PRESENTATION if modality == "DX" else CR_IMAGE
    instance = UID(sop_instance_uid or generate_uid())

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.MediaStorageSOPInstanceUID = instance
    ds.file_meta.TransferSyntaxUID = uid.ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = _IMPLEMENTATION_CLASS_UID
    ds.file_meta.ImplementationVersionName = f"KYPHOANGLE_{__version__}"[:16]

    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.ImageType = ["ORIGINAL", "PRIMARY", ""]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = instance
    ds.StudyDate = _da(when)
    ds.SeriesDate = _da(who.series_date or when)
    ds.AcquisitionDate = _da(who.acquisition_date or when)
    ds.ContentDate = _da(who.content_date or when)
    ds.StudyTime = _tm(who.study_time)
    ds.SeriesTime = _tm(who.series_time)
    ds.AcquisitionTime = _tm(who.acquisition_time)
    ds.ContentTime = _tm(who.content_time)
    ds.AccessionNumber = who.accession_number
    ds.Modality = modality
    if modality == "DX":
        ds.PresentationIntentType = "FOR PRESENTATION"
    ds.Manufacturer = "kyphoangle"
    ds.InstitutionName = who.institution_name
    ds.InstitutionAddress = who.institution_address
    ds.ReferringPhysicianName = who.referring_physician_name
    ds.StationName = who.station_name
    ds.StudyDescription = who.study_description
    ds.SeriesDescription = who.series_description
    ds.InstitutionalDepartmentName = who.institutional_department_name
    ds.PerformingPhysicianName = who.performing_physician_name
    ds.OperatorsName = who.operators_name
    ds.PatientName = who.patient_name
    ds.PatientID = who.patient_id
    ds.PatientBirthDate = _da(who.patient_birth_date)
    ds.PatientSex = who.patient_sex
    if who.other_patient_ids:
        ds.OtherPatientIDs = who.other_patient_ids
    if who.patient_age:
        ds.PatientAge = who.patient_age
    ds.BodyPartExamined = body_part
    ds.DeviceSerialNumber = who.device_serial_number
    ds.SoftwareVersions = f"kyphoangle {__version__}"
    if patient_position:
        ds.PatientPosition = patient_position
    ds.ViewPosition = view_position
    if imager_pixel_spacing_mm is not None:
        ds.ImagerPixelSpacing = [_ds(v) for v in imager_pixel_spacing_mm]
    if ermf is not None:
        ds.EstimatedRadiographicMagnificationFactor = _ds(ermf)
    if modality == "DX":
        ds.DetectorType = "DIRECT"
        ds.PositionerType = "COLUMN"  # a wall stand: lateral spine films are taken standing
        ds.AcquisitionContextSequence = DicomSequence()
        if imager_pixel_spacing_mm is None and pixel_spacing_mm is not None:
            ds.ImagerPixelSpacing = [_ds(v) for v in pixel_spacing_mm]  # Type 1 in DX: the detector's
    ds.AnatomicRegionSequence = DicomSequence([_code(*SPINE_REGION)])
    ds.StudyInstanceUID = UID(study_instance_uid or generate_uid())
    ds.SeriesInstanceUID = UID(series_instance_uid or generate_uid())
    ds.StudyID = who.study_id
    ds.SeriesNumber = 1
    ds.InstanceNumber = instance_number
    ds.PatientOrientation = list(patient_orientation)
    ds.ImageLaterality = "U"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = (int(n) for n in pixels.shape)
    if pixel_spacing_mm is not None:
        ds.PixelSpacing = [_ds(v) for v in pixel_spacing_mm]
    if pixel_aspect_ratio is not None:
        ds.PixelAspectRatio = [int(v) for v in pixel_aspect_ratio]
    ds.BitsAllocated = allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 0
    ds.BurnedInAnnotation = "NO"
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1
    windows = [preset for preset in voi_presets if preset.lut is None]
    if not windows and modality == "DX":  # DX For Presentation needs a window (or a VOI LUT)
        windows = [computed_preset(pixels)]
    if windows:
        ds.WindowCenter = [_ds(preset.center) for preset in windows]
        ds.WindowWidth = [_ds(preset.width) for preset in windows]
        ds.WindowCenterWidthExplanation = [
            preset.explanation or f"Window {n + 1}" for n, preset in enumerate(windows)
        ]
        if windows[0].function is not VoiFunction.LINEAR:
            ds.VOILUTFunction = windows[0].function.value
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.RescaleType = "US"
    ds.LossyImageCompression = "00"
    ds.PresentationLUTShape = "INVERSE" if photometric == "MONOCHROME1" else "IDENTITY"
    ds.PixelData = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OB" if allocated == 8 else "OW"
    return ds


def write_radiograph(
    path: str | os.PathLike[str],
    pixels: npt.NDArray[np.unsignedinteger[Any]],
    *,
    transfer_syntax: str = uid.ExplicitVRLittleEndian,
    j2k_compression_ratio: float = 10.0,
    jpeg_ls_max_error: int = 2,
    **attributes: Any,
) -> Path:
    """Write `pixels` as a DX (For Presentation) or CR file in `transfer_syntax`; return the path.

    `attributes` are those of `radiograph_dataset` (photometric, spacings, ermf, identity, UIDs,
    study_date, view_position, body_part, patient_position, ...). Lossy encodings record the method
    and ratio in Lossy Image Compression attributes. JPEG baseline holds 8-bit pixels only.
    """
    syntax = UID(transfer_syntax)
    if syntax not in WRITABLE_TRANSFER_SYNTAXES:
        raise ValueError(f"cannot write {syntax.name or syntax}; choose one of WRITABLE_TRANSFER_SYNTAXES")
    if syntax == uid.JPEGBaseline8Bit and pixels.dtype != np.uint8:
        raise ValueError("JPEG Baseline holds 8-bit pixels only: give uint8 pixels")
    if syntax == uid.JPEGExtended12Bit and (pixels.dtype != np.uint16 or int(pixels.max()) >= 4096):
        raise ValueError("12-bit JPEG Extended holds values 0-4095 in uint16 pixels")
    target = Path(path)
    if syntax == uid.JPEGExtended12Bit:
        attributes = {**attributes, "bits_stored": 12}
    ds = radiograph_dataset(pixels, **attributes)
    if syntax in _GDCM_SYNTAX:
        _write_with_gdcm(ds, target, syntax)
        return target
    if syntax in (uid.ImplicitVRLittleEndian, uid.ExplicitVRLittleEndian, uid.DeflatedExplicitVRLittleEndian):
        ds.file_meta.TransferSyntaxUID = syntax
    elif syntax == uid.ExplicitVRBigEndian:
        ds.file_meta.TransferSyntaxUID = syntax
        # pydicom writes OW values as given: byte-swap the pixels ourselves.
        ds.PixelData = np.ascontiguousarray(pixels, dtype=pixels.dtype.newbyteorder(">")).tobytes()
    elif syntax == uid.JPEGExtended12Bit:
        import imagecodecs
        from pydicom.encaps import encapsulate

        ds.file_meta.TransferSyntaxUID = syntax
        ds.PixelData = encapsulate([bytes(imagecodecs.jpeg8_encode(pixels, level=95, bitspersample=12))])
        ds["PixelData"].VR = "OB"
    else:
        options: dict[str, Any] = {}
        if syntax == uid.JPEG2000:
            options["j2k_cr"] = [j2k_compression_ratio]
        elif syntax == uid.JPEGLSNearLossless:
            options["jls_error"] = jpeg_ls_max_error
        ds.compress(syntax, pixels, generate_instance_uid=False, **options)
    if syntax in LOSSY_TRANSFER_SYNTAXES:
        _mark_lossy(ds, syntax, pixels.nbytes)
    ds.save_as(target, enforce_file_format=True)
    return target


def _mark_lossy(ds: Dataset, syntax: UID, uncompressed_bytes: int) -> None:
    compressed = sum(len(fragment) for fragment in _fragments(ds))
    ratio = uncompressed_bytes / compressed if compressed else 1.0
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionRatio = [_ds(ratio)]
    ds.LossyImageCompressionMethod = [_LOSSY_METHOD[syntax]]
    if ds.SOPClassUID == DX_FOR_PRESENTATION:
        ds.ImageType = ["DERIVED", "PRIMARY", ""]


def _fragments(ds: Dataset) -> list[bytes]:
    from pydicom.encaps import generate_fragments

    return list(generate_fragments(ds.PixelData))


def _write_with_gdcm(ds: Dataset, target: Path, syntax: UID) -> None:
    """Encode with python-gdcm's ImageChangeTransferSyntax (pydicom has no JPEG 10918 encoder)."""
    import gdcm

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "uncompressed.dcm"
        ds.save_as(source, enforce_file_format=True)
        reader = gdcm.ImageReader()
        reader.SetFileName(str(source))
        if not reader.Read():
            raise RuntimeError("python-gdcm could not read the uncompressed file it was given")
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(getattr(gdcm.TransferSyntax, _GDCM_SYNTAX[syntax])))
        change.SetInput(reader.GetImage())
        if not change.Change():
            raise RuntimeError(f"python-gdcm could not encode {syntax.name}")
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(target))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        if not writer.Write():
            raise OSError(f"python-gdcm could not write {target}")
    if syntax in LOSSY_TRANSFER_SYNTAXES:
        from pydicom import dcmread

        written = dcmread(target)
        _mark_lossy(written, syntax, ds.Rows * ds.Columns * ds.BitsAllocated // 8)
        written.save_as(target, enforce_file_format=True)


def _da(value: dt.date | None) -> str:
    return value.strftime("%Y%m%d") if value else ""


def _tm(value: dt.time | None) -> str:
    return value.strftime("%H%M%S") if value else ""


def _ds(value: float) -> str:
    """Format a decimal string within the 16 characters DS allows."""
    text = f"{value:.10g}"
    if len(text) > 16:
        text = f"{value:.8e}"[:16]
    return text
