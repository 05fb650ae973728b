"""Reading radiographs from DICOM files, folders and DICOMDIRs; pixel and display transforms."""

from kyphoangle.dicom.index import iter_dicom_files
from kyphoangle.dicom.radiograph import (
    PatientIdentity,
    Radiograph,
    RadiographHeader,
    VoiFunction,
    VoiLut,
    VoiPreset,
)
from kyphoangle.dicom.reader import load_radiograph, read_header

__all__ = [
    "PatientIdentity",
    "Radiograph",
    "RadiographHeader",
    "VoiFunction",
    "VoiLut",
    "VoiPreset",
    "iter_dicom_files",
    "load_radiograph",
    "read_header",
]
