"""write_radiograph: every encoding round-trips through our reader, pydicom and GDCM."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom import dcmread, uid

from kyphoangle.dicom import PatientIdentity, VoiFunction, VoiPreset, load_radiograph, read_header
from kyphoangle.dicom.writer import (
    CR_IMAGE,
    DX_FOR_PRESENTATION,
    LOSSY_TRANSFER_SYNTAXES,
    WRITABLE_TRANSFER_SYNTAXES,
    write_radiograph,
)
from kyphoangle.vocabulary import SpacingSource


def _film(dtype: Any = np.uint16) -> np.ndarray[Any, Any]:
    rng = np.random.default_rng(7)
    r, c = np.mgrid[0:96, 0:72]
    values = 2000 + 1200 * np.sin(r / 10.0) * np.cos(c / 8.0) + rng.normal(0, 25, (96, 72))
    film = values.clip(0, 4095).astype(np.uint16)
    return (film >> 4).astype(np.uint8) if dtype == np.uint8 else film


MAX_ERROR = {uid.JPEGLSNearLossless: 2, uid.JPEG2000: 200, uid.JPEGBaseline8Bit: 4}
"""Largest |error| of the lossy encodings at their defaults: 2 for near-lossless JPEG-LS by definition;
JPEG 2000 at 10:1 and baseline JPEG measured on this film at 85 (of 4095) and 1 (of 255)."""


@pytest.mark.parametrize("syntax", WRITABLE_TRANSFER_SYNTAXES, ids=lambda syntax: syntax.name)
def test_every_encoding_round_trips(tmp_path: Path, syntax: uid.UID) -> None:
    film = _film(np.uint8 if syntax == uid.JPEGBaseline8Bit else np.uint16)
    path = write_radiograph(tmp_path / "film.dcm", film, transfer_syntax=syntax, sop_instance_uid="1.2.3.99")
    radiograph = load_radiograph(path)
    assert radiograph.transfer_syntax_uid == syntax
    assert radiograph.sop_instance_uid == "1.2.3.99"
    assert radiograph.warnings == ()
    ours = radiograph.pixels.astype(np.int64)
    theirs = dcmread(path).pixel_array.astype(np.int64)  # pydicom reads the file the same way
    np.testing.assert_array_equal(ours, theirs)
    ds = dcmread(path)
    if syntax in LOSSY_TRANSFER_SYNTAXES:
        assert np.abs(ours - film).max() <= MAX_ERROR[syntax]
        assert ds.LossyImageCompression == "01"
        assert float(ds.LossyImageCompressionRatio) > 1
        assert ds.LossyImageCompressionMethod
    else:
        np.testing.assert_array_equal(ours, film)
        assert ds.LossyImageCompression == "00"


@pytest.mark.parametrize("syntax", [uid.ExplicitVRLittleEndian, uid.JPEG2000Lossless, uid.JPEGLosslessSV1])
def test_gdcm_reads_what_we_write(tmp_path: Path, syntax: uid.UID) -> None:
    gdcm = pytest.importorskip("gdcm")
    film = _film()
    path = write_radiograph(tmp_path / "film.dcm", film, transfer_syntax=syntax)
    reader = gdcm.ImageReader()
    reader.SetFileName(str(path))
    assert reader.Read()
    image = reader.GetImage()
    assert (image.GetDimension(0), image.GetDimension(1)) == (72, 96)
    buffer = image.GetBuffer().encode("utf-8", "surrogateescape")
    np.testing.assert_array_equal(np.frombuffer(buffer, "<u2").reshape(96, 72), film)


def test_dx_attributes(tmp_path: Path) -> None:
    identity = PatientIdentity(patient_name="Roe^Richard", patient_id="P7", patient_sex="M")
    path = write_radiograph(
        tmp_path / "dx.dcm",
        _film(),
        photometric="MONOCHROME1",
        imager_pixel_spacing_mm=(0.15, 0.15),
        ermf=1.1,
        identity=identity,
        study_date=dt.date(2025, 1, 2),
        patient_position="STANDING",
        voi_presets=[VoiPreset(2000, 3000, "SPINE"), VoiPreset(1500, 1000, "BONE")],
    )
    ds = dcmread(path)
    assert ds.file_meta.MediaStorageSOPClassUID == DX_FOR_PRESENTATION == ds.SOPClassUID
    assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
    assert ds.Modality == "DX" and ds.PresentationIntentType == "FOR PRESENTATION"
    assert ds.PresentationLUTShape == "INVERSE"
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, 12, 11)
    assert ds.ViewPosition == "LAT" and ds.BodyPartExamined == "SPINE" and ds.PatientPosition == "STANDING"
    header = read_header(path)
    assert header.invert_display
    assert header.spacing.source is SpacingSource.IMAGER_PIXEL_SPACING_ERMF
    assert header.spacing.row_mm == pytest.approx(0.15 / 1.1)
    assert header.identity.patient_name == "Roe^Richard" and header.study_date == dt.date(2025, 1, 2)
    presets = load_radiograph(path).voi_presets
    assert [(p.center, p.width, p.explanation) for p in presets] == [
        (2000, 3000, "SPINE"),
        (1500, 1000, "BONE"),
    ]


def test_cr_and_non_linear_window(tmp_path: Path) -> None:
    preset = VoiPreset(2000, 3000, "S", VoiFunction.SIGMOID)
    path = write_radiograph(tmp_path / "cr.dcm", _film(), modality="CR", voi_presets=[preset])
    header = read_header(path)
    assert header.sop_class_uid == CR_IMAGE and header.modality == "CR"
    assert load_radiograph(path).voi_presets[0].function is VoiFunction.SIGMOID


def test_uids_are_generated_and_distinct(tmp_path: Path) -> None:
    a = read_header(write_radiograph(tmp_path / "a.dcm", _film()))
    b = read_header(write_radiograph(tmp_path / "b.dcm", _film()))
    assert len({a.sop_instance_uid, b.sop_instance_uid, a.study_instance_uid, b.study_instance_uid}) == 4


@pytest.mark.parametrize(
    ("pixels", "options", "message"),
    [
        (np.zeros((4, 4, 3), np.uint16), {}, "2-D"),
        (np.zeros((4, 4), np.int16), {}, "uint8 or uint16"),
        (np.zeros((4, 4), np.uint16), {"transfer_syntax": uid.JPEGBaseline8Bit}, "8-bit"),
        (np.zeros((4, 4), np.uint16), {"transfer_syntax": uid.HTJ2KLossless}, "cannot write"),
        (np.full((4, 4), 4096, np.uint16), {"bits_stored": 12}, "cannot hold"),
        (np.zeros((4, 4), np.uint16), {"photometric": "RGB"}, "MONOCHROME"),
        (np.zeros((4, 4), np.uint16), {"modality": "CT"}, "DX or CR"),
    ],
)
def test_refuses_what_it_cannot_write(
    tmp_path: Path, pixels: np.ndarray[Any, Any], options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        write_radiograph(tmp_path / "x.dcm", pixels, **options)
