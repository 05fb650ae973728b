"""Blinded copies of films: the same pixels and calibration, nothing of the patient, study or site."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_files import PYDICOM_DATA
from pydicom import uid
from test_dicom_reader import IDENTITY, _film

from kyphoangle.dicom import load_radiograph
from kyphoangle.dicom.blinded_copy import blinded_instance_uid, write_blinded_copy
from kyphoangle.dicom.writer import LOSSY_TRANSFER_SYNTAXES, WRITABLE_TRANSFER_SYNTAXES, write_radiograph
from kyphoangle.errors import RadiographError

KEY = bytes.fromhex("5f" * 32)
"""A campaign's secret."""

IDENTIFYING_TEXT = (
    "Doe^Jane", "ID-0042", "19500301", "Hôpital Nord", "ACC9", "House^G",
    "Tech^A", "Rachis profil J2", "20240517", "103005", "1.2.3.4",
)  # fmt: skip
"""Everything identifying that the written films carry (IDENTITY, the study date and time, the UIDs);
the station name (DX-ROOM-2) is kept, as the Retain Device Identity option asks."""


def _identified(path: Path, syntax: str) -> Path:
    return write_radiograph(
        path,
        _film(rows=96, columns=64),
        transfer_syntax=syntax,
        identity=IDENTITY,
        study_date=dt.date(2024, 5, 17),
        study_instance_uid="1.2.3.4",
        series_instance_uid="1.2.3.4.5",
        imager_pixel_spacing_mm=(0.15, 0.16),
        ermf=1.1,
    )


@pytest.mark.parametrize("syntax", WRITABLE_TRANSFER_SYNTAXES, ids=lambda s: uid.UID(s).name)
def test_same_film_without_identity(tmp_path: Path, syntax: str) -> None:
    if syntax == uid.JPEGBaseline8Bit:
        pytest.skip("8-bit only: the 16-bit film is covered by the other encodings")
    source = _identified(tmp_path / "source.dcm", syntax)
    copy = write_blinded_copy(source, tmp_path / "case.dcm", case_code="K7QX2M", key=KEY)
    original, blinded = load_radiograph(source), load_radiograph(copy)
    assert np.array_equal(original.pixels, blinded.pixels)
    assert blinded.spacing == original.spacing and blinded.spacing.source == original.spacing.source
    assert blinded.sop_instance_uid == blinded_instance_uid(original.sop_instance_uid, "K7QX2M", KEY)
    assert blinded.photometric_interpretation == original.photometric_interpretation
    assert blinded.patient_orientation == original.patient_orientation
    assert blinded.patient_position == original.patient_position
    raw = copy.read_bytes()
    assert [
        text for text in IDENTIFYING_TEXT if text.encode("utf-8") in raw or text.encode("latin-1") in raw
    ] == []
    ds = pydicom.dcmread(copy)
    assert ds.PatientName == "K7QX2M" and ds.PatientID == "K7QX2M" and ds.PatientIdentityRemoved == "YES"
    assert "StudyDate" not in ds or ds.StudyDate == ""
    if syntax in LOSSY_TRANSFER_SYNTAXES:
        assert ds.LossyImageCompression == "01"  # a reader must still know the pixels went through it


@pytest.mark.skipif(PYDICOM_DATA is None, reason="pydicom-data is not installed")
@pytest.mark.parametrize("name", ["RG1_UNCR.dcm", "RG1_J2KR.dcm", "RG3_UNCI.dcm"])
def test_real_cr_films(tmp_path: Path, name: str) -> None:
    assert PYDICOM_DATA is not None
    source = PYDICOM_DATA / name
    copy = write_blinded_copy(source, tmp_path / "case.dcm", case_code="CASE01", key=KEY)
    original, blinded = load_radiograph(source), load_radiograph(copy)
    assert np.array_equal(original.pixels, blinded.pixels)
    assert blinded.spacing == original.spacing
    header = pydicom.dcmread(source, stop_before_pixels=True)
    raw = copy.read_bytes()
    # (RG1's SOP Instance UID holds its acquisition date and time: the copy has another)
    for keyword in (
        "PatientName",
        "PatientID",
        "StudyDate",
        "InstitutionName",
        "StudyInstanceUID",
        "SOPInstanceUID",
    ):
        value = str(header.get(keyword, "") or "")
        assert not value or value.encode() not in raw, keyword


def test_a_missing_or_unwritable_file_is_our_error(tmp_path: Path) -> None:
    with pytest.raises(RadiographError, match="does not exist"):
        write_blinded_copy(tmp_path / "gone.dcm", tmp_path / "case.dcm", case_code="X", key=KEY)
    source = _identified(tmp_path / "source.dcm", uid.ExplicitVRLittleEndian)
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(RadiographError, match="could not be written"):
        write_blinded_copy(source, blocker / "case.dcm", case_code="X", key=KEY)
    assert not (blocker / "case.dcm").exists()


def test_the_copy_uid_is_stable_per_case_and_differs_between_cases() -> None:
    first = blinded_instance_uid("1.2.840.113619.2.20040826185059", "K7QX2M", KEY)
    assert first == blinded_instance_uid("1.2.840.113619.2.20040826185059", "K7QX2M", KEY)
    assert first != blinded_instance_uid("1.2.840.113619.2.20040826185059", "K7QX2N", KEY)
    assert first != blinded_instance_uid("1.2.840.113619.2.20040826185059", "K7QX2M", b"another campaign")
    assert first.startswith("2.25.") and len(first) <= 64 and "20040826" not in first
