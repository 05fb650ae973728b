"""PHI sentinel: a film with a sentinel in every free-text element, nested and private sequences and a
JPEG comment segment; its blinded copy holds the sentinel nowhere, and keeps what a reader needs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import uid
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.sequence import Sequence

from kyphoangle.dicom import load_radiograph
from kyphoangle.dicom.blinded_copy import write_blinded_copy
from kyphoangle.dicom.deidentify import PROFILE_CODES, profile_action, strip_jpeg_comments
from kyphoangle.dicom.writer import write_radiograph

SENTINEL = "ZQXSENTINEL"
KEY = bytes.fromhex("a1" * 32)

FREE_TEXT = (
    "PatientName", "PatientID", "OtherPatientIDs", "PatientComments", "StudyDescription",
    "SeriesDescription", "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName", "AccessionNumber", "StudyID",
    "ProtocolName", "ImageComments", "AcquisitionDeviceProcessingDescription", "DerivationDescription",
    "RequestedProcedureDescription", "PerformedProcedureStepDescription", "PerformedProcedureStepID",
    "PixelSpacingCalibrationDescription", "RescaleType", "WindowCenterWidthExplanation", "PatientAddress",
    "AdditionalPatientHistory", "MedicalAlerts", "Occupation", "AdmittingDiagnosesDescription",
    "NameOfPhysiciansReadingStudy", "RequestingPhysician", "ReasonForStudy", "StudyComments",
    "AcquisitionComments", "PatientState", "FrameComments", "ContrastBolusAgent", "ClinicalTrialSponsorName",
    "ClinicalTrialSiteName", "ClinicalTrialSubjectID", "IssuerOfPatientID", "PatientBirthName",
    "PatientMotherBirthName", "MilitaryRank", "BranchOfService", "EthnicGroup", "PatientReligiousPreference",
    "ResponsiblePerson", "ResponsibleOrganization", "ImagePresentationComments", "DetectorDescription",
)  # fmt: skip
"""Free-text attributes a CR or DX file may carry, filled with the sentinel (device identity excepted:
Station Name, Device Serial Number and Detector ID are kept by the Retain Device Identity option)."""


def _item(**values: object) -> Dataset:
    item = Dataset()
    for keyword, value in values.items():
        setattr(item, keyword, value)
    return item


def _with_comments(frame: bytes) -> bytes:
    """A JPEG frame with a COM and an APP1 segment after SOI, both holding the sentinel."""
    com = b"\xff\xfe" + (len(SENTINEL) + 2).to_bytes(2, "big") + SENTINEL.encode()
    app1 = b"\xff\xe1" + (len(SENTINEL) + 8).to_bytes(2, "big") + b"Exif\x00\x00" + SENTINEL.encode()
    return frame[:2] + com + app1 + frame[2:]


def _sentinel_film(path: Path) -> Path:
    pixels = (np.add.outer(np.arange(128), np.arange(96)) % 256).astype(np.uint8)
    write_radiograph(path, pixels, transfer_syntax=uid.JPEGBaseline8Bit, pixel_spacing_mm=(0.15, 0.15))
    ds = pydicom.dcmread(path)
    frames = [_with_comments(f) for f in generate_frames(ds.PixelData, number_of_frames=1)]
    ds.PixelData = encapsulate(frames)
    for keyword in FREE_TEXT:
        setattr(ds, keyword, SENTINEL)
    ds.PixelSpacingCalibrationType = "GEOMETRY"
    ds.WindowCenter, ds.WindowWidth = 128, 256
    ds.Manufacturer = "Acme Radiography"
    ds.PixelIntensityRelationship = "LOG"
    ds.DetectorType = "SCINTILLATOR"
    ds.BurnedInAnnotation = "YES"
    ds.AnatomicRegionSequence = Sequence(
        [_item(CodeValue="421060004", CodingSchemeDesignator="SCT", CodeMeaning=SENTINEL)]
    )
    concept = _item(CodeValue="121106", CodingSchemeDesignator="DCM", CodeMeaning=SENTINEL)
    ds.AcquisitionContextSequence = Sequence(
        [_item(ValueType="TEXT", ConceptNameCodeSequence=Sequence([concept]), TextValue=SENTINEL)]
    )
    ds.RequestAttributesSequence = Sequence(
        [_item(RequestedProcedureDescription=SENTINEL, ScheduledProcedureStepID=SENTINEL)]
    )
    ds.ReferencedStudySequence = Sequence(
        [_item(ReferencedSOPClassUID="1.2.840.10008.3.1.2.3.1", ReferencedSOPInstanceUID="1.2.99.7")]
    )
    lut = _item(LUTDescriptor=[2, 0, 16], LUTExplanation=SENTINEL)
    lut.add_new(0x00283006, "US", [0, 65535])
    ds.SourceImageSequence = Sequence(
        [_item(ReferencedSOPClassUID="1.2.840.10008.5.1.4.1.1.1.1", ReferencedSOPInstanceUID="1.2.99.8")]
    )
    ds.VOILUTSequence = Sequence([lut])
    block = ds.private_block(0x0009, "ACME PRIVATE", create=True)
    block.add_new(0x01, "LO", SENTINEL)
    block.add_new(0x02, "SQ", Sequence([_item(PatientName=SENTINEL)]))
    nested = ds.AcquisitionContextSequence[0]
    nested_block = nested.private_block(0x0011, "ACME NESTED", create=True)
    nested_block.add_new(0x01, "LT", SENTINEL)
    ds.save_as(path, enforce_file_format=True)
    raw = path.read_bytes()
    assert raw.count(SENTINEL.encode()) >= len(FREE_TEXT) + 8  # the sentinel really is everywhere
    return path


def test_no_sentinel_survives_in_the_blinded_copy(tmp_path: Path) -> None:
    source = _sentinel_film(tmp_path / "source.dcm")
    copy = write_blinded_copy(source, tmp_path / "case.dcm", case_code="K7QX2M", key=KEY)
    raw = copy.read_bytes()
    assert SENTINEL.encode() not in raw
    assert SENTINEL.encode("utf-16-le") not in raw
    ds = pydicom.dcmread(copy)
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.LongitudinalTemporalInformationModified == "REMOVED"
    assert [
        (item.CodeValue, item.CodingSchemeDesignator) for item in ds.DeidentificationMethodCodeSequence
    ] == [(value, "DCM") for value, _ in PROFILE_CODES]
    # What a reader needs is kept.
    assert ds.Manufacturer == "Acme Radiography"
    assert ds.PixelIntensityRelationship == "LOG" and ds.DetectorType == "SCINTILLATOR"
    assert ds.PixelSpacingCalibrationType == "GEOMETRY"
    assert ds.BurnedInAnnotation == "YES"  # shown to the data manager; text in pixels is not removed
    assert ds.AnatomicRegionSequence[0].CodeValue == "421060004"
    assert not any(tag.is_private for tag in ds)
    assert "RequestAttributesSequence" not in ds  # X in the Basic Profile
    context = ds.AcquisitionContextSequence[0]  # kept by Clean Structured Content, its text cleaned
    assert context.ValueType == "TEXT" and not any(elem.tag.is_private for elem in context)
    assert context.ConceptNameCodeSequence[0].CodeMeaning == "Comment"  # the standard's meaning
    original, blinded = load_radiograph(source), load_radiograph(copy)
    assert np.array_equal(original.pixels, blinded.pixels)  # comments removed without re-encoding
    assert blinded.spacing == original.spacing


def test_two_copies_of_a_case_agree_and_campaigns_differ(tmp_path: Path) -> None:
    source = _sentinel_film(tmp_path / "source.dcm")
    first = pydicom.dcmread(write_blinded_copy(source, tmp_path / "a.dcm", case_code="C1", key=KEY))
    again = pydicom.dcmread(write_blinded_copy(source, tmp_path / "b.dcm", case_code="C1", key=KEY))
    other = pydicom.dcmread(write_blinded_copy(source, tmp_path / "c.dcm", case_code="C1", key=b"x" * 32))
    original = pydicom.dcmread(source)
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert first[keyword].value == again[keyword].value != other[keyword].value
        assert first[keyword].value != original[keyword].value
        assert str(first[keyword].value).startswith("2.25.")
    assert "ReferencedStudySequence" not in first  # X/Z: removed
    source_uid = first.SourceImageSequence[0].ReferencedSOPInstanceUID  # X/Z/U*: kept, its UIDs replaced
    assert (
        source_uid.startswith("2.25.") and source_uid == again.SourceImageSequence[0].ReferencedSOPInstanceUID
    )


@pytest.mark.parametrize(
    ("tag", "action"),
    [(0x00100010, "Z"), (0x00080080, "X/Z/D"), (0x0020000D, "U"), (0x00081010, "X/Z/D"), (0x60003000, "X")],
)
def test_the_profile_table_is_the_standards(tag: int, action: str) -> None:
    assert profile_action(tag) == action


def test_comment_segments_are_removed_without_touching_the_scan() -> None:
    frame = b"\xff\xd8" + b"\xff\xfe\x00\x05abc" + b"\xff\xdb\x00\x04\x01\x02" + b"\xff\xda\x00\x02"
    frame += b"\x12\xff\x00\x34\xff\xd0\x56" + b"\xff\xd9"
    cleaned = strip_jpeg_comments(frame, uid.JPEGBaseline8Bit)
    assert cleaned == frame.replace(b"\xff\xfe\x00\x05abc", b"")
