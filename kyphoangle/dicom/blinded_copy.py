"""A copy of a radiograph for a blinded reader: the image and its geometry, nothing that identifies.

A whitelist, not a blacklist: the copy keeps only the attributes needed to decode, calibrate and show the
film (pixel module, spacing, modality and VOI LUTs, orientation, lossy compression flags) and the SOP
Instance UID that landmark files name. Patient, study, series and equipment modules are not copied;
the Type 1 and 2 attributes a file needs are filled with the case code and fresh UIDs. Private
attributes, dates, times, descriptions and free text are dropped with the rest. Text burned into the
pixels cannot be removed here.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, generate_uid

from kyphoangle.dicom.pixels import transfer_syntax
from kyphoangle.dicom.reader import read_dataset
from kyphoangle.errors import OutputFileError, RadiographError
from kyphoangle.output_file import output_binary

KEPT_KEYWORDS: tuple[str, ...] = (
    # what the instance is (its UID is replaced: see `blinded_instance_uid`)
    "SOPClassUID", "SOPInstanceUID", "Modality", "ImageType", "PresentationIntentType",
    # image pixel module and multi-frame
    "SamplesPerPixel", "PhotometricInterpretation", "Rows", "Columns", "BitsAllocated", "BitsStored",
    "HighBit", "PixelRepresentation", "PlanarConfiguration", "PixelAspectRatio", "NumberOfFrames",
    "SmallestImagePixelValue", "LargestImagePixelValue", "RedPaletteColorLookupTableDescriptor",
    "GreenPaletteColorLookupTableDescriptor", "BluePaletteColorLookupTableDescriptor",
    "RedPaletteColorLookupTableData", "GreenPaletteColorLookupTableData", "BluePaletteColorLookupTableData",
    # calibration
    "PixelSpacing", "ImagerPixelSpacing", "EstimatedRadiographicMagnificationFactor",
    "PixelSpacingCalibrationType", "PixelSpacingCalibrationDescription",
    # modality and VOI transforms, presentation
    "RescaleIntercept", "RescaleSlope", "RescaleType", "ModalityLUTSequence", "WindowCenter", "WindowWidth",
    "WindowCenterWidthExplanation", "VOILUTFunction", "VOILUTSequence", "PresentationLUTShape",
    # orientation (which way the patient faces) and view
    "PatientOrientation", "ViewPosition", "ImageLaterality", "PatientPosition", "BodyPartExamined",
    # what the pixels went through
    "LossyImageCompression", "LossyImageCompressionRatio", "LossyImageCompressionMethod",
    "BurnedInAnnotation",
    "PixelData", "FloatPixelData", "DoubleFloatPixelData",
)  # fmt: skip
"""The attributes a blinded copy keeps (`PatientOrientation` says which way the patient faces, and
`PatientPosition` whether standing or lying, which changes the angles)."""


def blinded_instance_uid(sop_instance_uid: str, case_code: str) -> str:
    """The SOP Instance UID of a case's blinded copy: `2.25.` and a number from a hash of both.

    Some equipment writes the acquisition date and time into its UIDs, so the copy cannot keep the
    original's. The same film and case always give the same UID, which a landmark file of the copy
    names; the campaign maps it back to the film.
    """
    digest = hashlib.sha256(f"{sop_instance_uid}\n{case_code}".encode()).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


def write_blinded_copy(
    source: str | os.PathLike[str], target: str | os.PathLike[str], *, case_code: str
) -> Path:
    """Write `target`: the film of `source` with the case code as its only name (see the module), and
    `blinded_instance_uid` as its SOP Instance UID.

    Raises RadiographError (ours) when the source cannot be read or the copy cannot be written.
    """
    src, out = Path(source), Path(target)
    ds, present = read_dataset(src)
    if not present:
        raise RadiographError(src, "the file holds no image to copy")
    if "SOPClassUID" not in ds or "SOPInstanceUID" not in ds:
        raise RadiographError(src, "the file has no SOP Class or Instance UID: it cannot be referred to")
    copy = Dataset()
    for keyword in KEPT_KEYWORDS:
        if keyword in ds:
            copy[keyword] = ds[keyword]
    # The patient, study and series attributes every file must have, standing for the case only.
    copy.SOPInstanceUID = blinded_instance_uid(str(ds.SOPInstanceUID), case_code)
    copy.PatientName = case_code
    copy.PatientID = case_code
    copy.PatientBirthDate = ""
    copy.PatientSex = ""
    copy.StudyInstanceUID = generate_uid()
    copy.SeriesInstanceUID = generate_uid()
    copy.StudyID = ""
    copy.SeriesNumber = None
    copy.InstanceNumber = None
    copy.StudyDate = ""
    copy.StudyTime = ""
    copy.AccessionNumber = ""
    copy.ReferringPhysicianName = ""
    copy.PatientIdentityRemoved = "YES"
    copy.DeidentificationMethod = "kyphoangle blinded copy: attribute whitelist"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = copy.SOPInstanceUID
    syntax = transfer_syntax(ds)
    if not syntax:
        raise RadiographError(src, "the file's encoding cannot be told: no copy was written")
    meta.TransferSyntaxUID = UID(syntax)
    copy.file_meta = meta
    try:
        # Private (0600) and whole or nothing: a full disk leaves no partial copy.
        with output_binary(out) as stream:
            copy.save_as(stream, enforce_file_format=True)
    except OutputFileError as exc:
        raise RadiographError(out, f"the copy could not be written ({exc.reason})") from None
    except OSError as exc:
        raise RadiographError(out, f"the copy could not be written ({exc.strerror or exc})") from None
    return out
