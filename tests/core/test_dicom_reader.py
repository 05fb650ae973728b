"""load_radiograph and read_header: every encoding, colour to grey, Modality LUT, VOI presets, identity."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import warnings
from pathlib import Path
from typing import Any

import dicom_files as files
import numpy as np
import pytest
from pydicom import dcmread, uid
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.pixels.processing import apply_color_lut, apply_modality_lut
from pydicom.pixels.utils import pixel_array

from kyphoangle.dicom import (
    PatientIdentity,
    Radiograph,
    RadiographHeader,
    VoiFunction,
    VoiPreset,
    load_radiograph,
    read_header,
)
from kyphoangle.dicom import pixels as pixels_module
from kyphoangle.dicom.writer import radiograph_dataset, write_radiograph
from kyphoangle.errors import (
    CorruptPixelDataError,
    NoPixelDataError,
    NotAnImageError,
    RadiographError,
    UnsupportedEncodingError,
)
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import SpacingSource

needs_pydicom_data = pytest.mark.skipif(files.PYDICOM_DATA is None, reason="pydicom-data is not installed")
LUMA = np.array([0.299, 0.587, 0.114])


def _film(rows: int = 64, columns: int = 48, seed: int = 0) -> np.ndarray[Any, np.dtype[np.uint16]]:
    rng = np.random.default_rng(seed)
    r, c = np.mgrid[0:rows, 0:columns]
    values = 1500 + 800 * np.sin(r / 9.0) + 600 * np.cos(c / 7.0) + rng.normal(0, 30, (rows, columns))
    return values.clip(0, 4095).astype(np.uint16)


def _save(ds: Dataset, path: Path) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # malformed values on purpose
        ds.save_as(path, enforce_file_format=True)
    return path


def _set(ds: Dataset, keyword: str, value: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        setattr(ds, keyword, value)


# --- pydicom's own test files ---------------------------------------------------------------------


def _pydicom_frame(path: Path) -> tuple[Dataset, np.ndarray[Any, Any]] | None:
    """pydicom's decode of frame 0 (all frames is the same decoder, and some files hold 120)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = dcmread(path)
            frames = int(ds.get("NumberOfFrames", 1) or 1)
            arr = pixel_array(ds, index=0 if frames > 1 else None)
    except Exception:
        return None
    if arr.ndim not in (2, 3):
        return None
    return ds, arr


def _expected_grey(ds: Dataset, arr: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    photometric = ds.PhotometricInterpretation
    if photometric == "PALETTE COLOR":
        arr = apply_color_lut(arr, ds)
    if arr.ndim == 3:
        return np.asarray(arr.astype(np.float64) @ LUMA)
    return np.asarray(apply_modality_lut(arr.astype(arr.dtype.newbyteorder("=")), ds), dtype=np.float64)


@pytest.mark.parametrize("name", sorted(path.name for path in files.PYDICOM_TEST_FILES.glob("*.dcm")))
def test_every_pydicom_test_file_loads_or_gives_our_error(name: str) -> None:
    path = files.PYDICOM_TEST_FILES / name
    reference = _pydicom_frame(path)
    if reference is None:
        expected = files.UNDECODABLE_BY_PYDICOM.get(name)
        try:
            radiograph = load_radiograph(path)
        except RadiographError as error:
            assert expected in (None, type(error).__name__), str(error)
            assert name in str(error)
        else:
            assert expected == "loads", f"{name} loaded although pydicom cannot decode it"
            assert radiograph.pixels.ndim == 2
        return
    refused = files.REFUSED_THOUGH_PYDICOM_DECODES.get(name)
    if refused is not None:
        with pytest.raises(RadiographError) as error:
            load_radiograph(path)
        assert type(error.value).__name__ == refused and name in str(error.value)
        return
    ds, arr = reference
    radiograph = load_radiograph(path)
    assert radiograph.pixels.shape == (ds.Rows, ds.Columns)
    assert not radiograph.pixels.flags.writeable
    assert radiograph.pixels.dtype.isnative
    expected_grey = _expected_grey(ds, arr)
    atol = 1.0 if arr.ndim == 3 or ds.PhotometricInterpretation == "PALETTE COLOR" else 1e-3
    np.testing.assert_allclose(radiograph.pixels.astype(np.float64), expected_grey, atol=atol, rtol=1e-6)
    assert radiograph.voi_presets
    assert radiograph.invert_display == (ds.PhotometricInterpretation == "MONOCHROME1")


@pytest.mark.parametrize(("reference", "other"), files.ENCODING_PAIRS)
def test_encoding_pairs_decode_identically(reference: str, other: str) -> None:
    a = load_radiograph(files.PYDICOM_TEST_FILES / reference)
    b = load_radiograph(files.PYDICOM_TEST_FILES / other)
    assert a.pixels.dtype == b.pixels.dtype
    np.testing.assert_array_equal(a.pixels, b.pixels)


@needs_pydicom_data
@pytest.mark.parametrize(("reference", "other"), files.DATA_ENCODING_PAIRS)
def test_pydicom_data_encoding_pairs_decode_identically(reference: str, other: str) -> None:
    assert files.PYDICOM_DATA is not None
    a = load_radiograph(files.PYDICOM_DATA / reference)
    b = load_radiograph(files.PYDICOM_DATA / other)
    np.testing.assert_array_equal(a.pixels, b.pixels)


# --- real CR films ----------------------------------------------------------------------------------


@needs_pydicom_data
@pytest.mark.parametrize("film", files.CR_FILMS)
def test_cr_film_encodings_decode_identically_and_lossy_is_close(film: str) -> None:
    assert files.PYDICOM_DATA is not None
    data = files.PYDICOM_DATA

    def load(variant: str) -> Radiograph:
        return load_radiograph(data / f"{film}_{variant}.dcm")

    reference, lossless = (load(variant) for variant in files.CR_LOSSLESS_PAIR)
    assert reference.photometric_interpretation == "MONOCHROME1"
    assert reference.invert_display
    assert reference.modality == "CR"
    assert lossless.pixels.dtype == reference.pixels.dtype
    np.testing.assert_array_equal(lossless.pixels, reference.pixels)
    lossy_stored, lossy = (load(variant) for variant in files.CR_LOSSY_PAIR)
    np.testing.assert_array_equal(lossy.pixels, lossy_stored.pixels)
    value_range = float(reference.pixels.max()) - float(reference.pixels.min())
    difference = np.abs(lossy.pixels.astype(np.float64) - reference.pixels)
    max_percent, mean_percent = files.CR_LOSSY_TOLERANCE_PERCENT
    assert 100 * difference.max() / value_range <= max_percent
    assert 100 * difference.mean() / value_range <= mean_percent
    assert difference.max() > 0  # it is lossy


@needs_pydicom_data
def test_rg1_zero_pixel_spacing_is_ignored_with_a_warning() -> None:
    assert files.PYDICOM_DATA is not None
    header = read_header(files.PYDICOM_DATA / "RG1_UNCR.dcm")
    assert header.spacing == PixelSpacing.none()
    assert any("Pixel Spacing (0028,0030) is malformed" in warning for warning in header.warnings)


# --- multi-frame, colour, LUTs -------------------------------------------------------------------


@needs_pydicom_data
def test_multiframe_picks_the_frame_and_refuses_one_it_lacks() -> None:
    assert files.PYDICOM_DATA is not None
    path = files.PYDICOM_DATA / files.MULTIFRAME_FILE
    every = dcmread(path).pixel_array
    for frame in (0, 4, 9):
        radiograph = load_radiograph(path, frame=frame)
        assert radiograph.number_of_frames == 10 and radiograph.frame == frame
        np.testing.assert_array_equal(radiograph.pixels, every[frame])
    for frame in (10, -1):
        with pytest.raises(RadiographError, match=r"frame -?\d+ does not exist: the file has 10 frame"):
            load_radiograph(path, frame=frame)


@needs_pydicom_data
def test_enhanced_multiframe_reads_functional_groups() -> None:
    assert files.PYDICOM_DATA is not None
    radiograph = load_radiograph(files.PYDICOM_DATA / files.ENHANCED_FILE, frame=1)
    assert radiograph.spacing.source is SpacingSource.PIXEL_SPACING
    assert radiograph.pixels.dtype == np.int16  # rescale intercept -1024 applied in integers
    assert radiograph.pixels.min() < 0


def test_rgb_becomes_luminance(tmp_path: Path) -> None:
    rgb = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255]]], dtype=np.uint8)
    ds = radiograph_dataset(np.zeros((1, 4), np.uint8), modality="CR")
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.PixelData = rgb.tobytes()
    radiograph = load_radiograph(_save(ds, tmp_path / "rgb.dcm"))
    np.testing.assert_array_equal(radiograph.pixels, [[76, 150, 29, 255]])  # BT.601 weights
    assert not radiograph.invert_display


@needs_pydicom_data
def test_palette_colour_becomes_luminance() -> None:
    assert files.PYDICOM_DATA is not None
    path = files.PYDICOM_DATA / files.PALETTE_FILE
    ds = dcmread(path)
    expected = apply_color_lut(ds.pixel_array, ds).astype(np.float64) @ LUMA
    radiograph = load_radiograph(path)
    assert np.abs(radiograph.pixels - expected).max() <= 1


@needs_pydicom_data
def test_modality_lut_sequence_is_applied() -> None:
    assert files.PYDICOM_DATA is not None
    path = files.PYDICOM_DATA / files.MODALITY_LUT_FILE
    ds = dcmread(path)
    np.testing.assert_array_equal(load_radiograph(path).pixels, apply_modality_lut(ds.pixel_array, ds))


@needs_pydicom_data
def test_voi_lut_sequence_becomes_a_lut_preset() -> None:
    assert files.PYDICOM_DATA is not None
    radiograph = load_radiograph(files.PYDICOM_DATA / files.VOI_LUT_FILE)
    luts = [preset for preset in radiograph.voi_presets if preset.lut is not None]
    assert luts
    lut = luts[0].lut
    assert lut is not None
    ds = dcmread(files.PYDICOM_DATA / files.VOI_LUT_FILE)
    assert lut.entry_count == int(ds.VOILUTSequence[0].LUTDescriptor[0])
    assert not lut.data.flags.writeable


@pytest.mark.parametrize(
    ("slope", "intercept", "dtype"),
    [(1, -1024, np.int16), (2, 0, np.uint16), (1, 100000, np.int32), (0.5, 0.25, np.float32)],
)
def test_rescale_uses_the_smallest_exact_dtype(
    tmp_path: Path, slope: float, intercept: float, dtype: type
) -> None:
    stored = _film()
    ds = radiograph_dataset(stored)
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    radiograph = load_radiograph(_save(ds, tmp_path / "rescaled.dcm"))
    assert radiograph.pixels.dtype == dtype
    np.testing.assert_allclose(radiograph.pixels, stored.astype(np.float64) * slope + intercept)


def test_windows_become_presets_in_order(tmp_path: Path) -> None:
    ds = radiograph_dataset(_film())
    ds.WindowCenter, ds.WindowWidth = [1500, 2000], [1000, 3000]
    ds.WindowCenterWidthExplanation = ["BONE", "SOFT"]
    ds.VOILUTFunction = "LINEAR_EXACT"
    radiograph = load_radiograph(_save(ds, tmp_path / "windows.dcm"))
    assert radiograph.voi_presets == (
        VoiPreset(1500.0, 1000.0, "BONE", VoiFunction.LINEAR_EXACT),
        VoiPreset(2000.0, 3000.0, "SOFT", VoiFunction.LINEAR_EXACT),
    )


def test_a_computed_window_when_the_file_has_none(tmp_path: Path) -> None:
    stored = _film(400, 300)
    # A CR film may come without a window (a DX For Presentation film must have one).
    radiograph = load_radiograph(write_radiograph(tmp_path / "plain.dcm", stored, modality="CR"))
    (preset,) = radiograph.voi_presets
    low, high = np.percentile(stored, [0.5, 99.5])
    assert preset.computed
    assert preset.center == pytest.approx((low + high) / 2, abs=20)
    assert preset.width == pytest.approx(high - low, rel=0.05)


def test_invalid_windows_are_ignored_with_a_warning(tmp_path: Path) -> None:
    ds = radiograph_dataset(_film())
    ds.WindowCenter, ds.WindowWidth = [1500, 1000], [0, 200]
    _set(ds, "VOILUTFunction", "CUBIC")
    radiograph = load_radiograph(_save(ds, tmp_path / "bad_windows.dcm"))
    assert [(p.center, p.width) for p in radiograph.voi_presets] == [(1000.0, 200.0)]
    assert any("window 1" in warning for warning in radiograph.warnings)
    assert any("'CUBIC' is unknown" in warning for warning in radiograph.warnings)


# --- spacing -----------------------------------------------------------------------------------------


def _spacing_of(tmp_path: Path, **attributes: Any) -> RadiographHeader:
    raw: dict[str, str] = attributes.pop("raw", {})
    ds = radiograph_dataset(_film(8, 8), **attributes)
    patches = []
    for number, (keyword, value) in enumerate(raw.items()):
        # pydicom refuses non-numbers in DS: write a unique placeholder, then patch the file's bytes.
        placeholder = f"9876.5{number}".ljust(max(len(value), 8), "1")
        _set(ds, keyword, placeholder)
        patches.append((placeholder.encode(), value.ljust(len(placeholder)).encode()))
    path = _save(ds, tmp_path / "spacing.dcm")
    data = path.read_bytes()
    for old, new in patches:
        assert data.count(old) == 1
        data = data.replace(old, new)
    path.write_bytes(data)
    return read_header(path)


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        (
            {"pixel_spacing_mm": (0.1, 0.2), "imager_pixel_spacing_mm": (0.15, 0.15), "ermf": 1.5},
            PixelSpacing(0.1, 0.2, SpacingSource.PIXEL_SPACING),
        ),
        (
            {"imager_pixel_spacing_mm": (0.15, 0.18), "ermf": 1.2},
            PixelSpacing(0.125, 0.15, SpacingSource.IMAGER_PIXEL_SPACING_ERMF),
        ),
        (
            {"imager_pixel_spacing_mm": (0.15, 0.18)},
            PixelSpacing(0.15, 0.18, SpacingSource.IMAGER_PIXEL_SPACING),
        ),
        ({}, PixelSpacing.none()),
    ],
)
def test_spacing_rules(tmp_path: Path, attributes: dict[str, Any], expected: PixelSpacing) -> None:
    header = _spacing_of(tmp_path, **attributes)
    assert header.spacing.source is expected.source
    assert header.spacing.row_mm == pytest.approx(expected.row_mm)
    assert header.spacing.col_mm == pytest.approx(expected.col_mm)
    assert header.warnings == ()


@pytest.mark.parametrize(
    ("raw", "expected_source", "warning"),
    [
        ({"PixelSpacing": "0\\0.1"}, SpacingSource.IMAGER_PIXEL_SPACING, "between 0.01 and 10 mm"),
        ({"PixelSpacing": "-0.1\\0.1"}, SpacingSource.IMAGER_PIXEL_SPACING, "between 0.01 and 10 mm"),
        ({"PixelSpacing": "1e308\\0.1"}, SpacingSource.IMAGER_PIXEL_SPACING, "between 0.01 and 10 mm"),
        (
            {"EstimatedRadiographicMagnificationFactor": "1e-320"},
            SpacingSource.IMAGER_PIXEL_SPACING,
            "between 1 and 3",
        ),
        ({"PixelSpacing": "0.1"}, SpacingSource.IMAGER_PIXEL_SPACING, "1 value(s) instead of 2"),
        ({"PixelSpacing": "0.1\\0.1\\0.1"}, SpacingSource.IMAGER_PIXEL_SPACING, "3 value(s) instead of 2"),
        ({"PixelSpacing": "abc\\def"}, SpacingSource.IMAGER_PIXEL_SPACING, "non-numeric"),
        ({"ImagerPixelSpacing": "0\\0"}, SpacingSource.NONE, "Imager Pixel Spacing (0018,1164) is malformed"),
        (
            {"EstimatedRadiographicMagnificationFactor": "0"},
            SpacingSource.IMAGER_PIXEL_SPACING,
            "uncorrected",
        ),
        (
            {"EstimatedRadiographicMagnificationFactor": "x"},
            SpacingSource.IMAGER_PIXEL_SPACING,
            "uncorrected",
        ),
    ],
)
def test_malformed_spacing_is_ignored_with_a_warning(
    tmp_path: Path, raw: dict[str, str], expected_source: SpacingSource, warning: str
) -> None:
    header = _spacing_of(tmp_path, imager_pixel_spacing_mm=(0.15, 0.15), raw=raw)
    assert header.spacing.source is expected_source
    assert any(warning in text for text in header.warnings), header.warnings
    assert load_radiograph(header.path).spacing == header.spacing


def test_pixel_aspect_ratio(tmp_path: Path) -> None:
    assert _spacing_of(tmp_path, pixel_aspect_ratio=(5, 4)).pixel_aspect_ratio == (5, 4)
    header = _spacing_of(tmp_path, raw={"PixelAspectRatio": "0\\1"})
    assert header.pixel_aspect_ratio is None
    assert any("Pixel Aspect Ratio" in warning for warning in header.warnings)


# --- header, identity, blinding -----------------------------------------------------------------


IDENTITY = PatientIdentity(
    patient_name="Doe^Jane",
    patient_id="ID-0042",
    patient_birth_date=dt.date(1950, 3, 1),
    patient_sex="F",
    institution_name="Hôpital Nord",
    accession_number="ACC9",
    referring_physician_name="House^G",
    station_name="DX-ROOM-2",
    operators_name="Tech^A",
    study_description="Rachis profil J2",
    study_time=dt.time(10, 30, 5),
)


def test_header_identifiers_and_identity(tmp_path: Path) -> None:
    path = write_radiograph(
        tmp_path / "id.dcm",
        _film(),
        identity=IDENTITY,
        study_date=dt.date(2024, 5, 17),
        study_instance_uid="1.2.3.4",
        series_instance_uid="1.2.3.4.5",
        sop_instance_uid="1.2.3.4.5.6",
        patient_position="STANDING",
        photometric="MONOCHROME1",
    )
    header = read_header(path)
    assert (header.study_instance_uid, header.series_instance_uid, header.sop_instance_uid) == (
        "1.2.3.4",
        "1.2.3.4.5",
        "1.2.3.4.5.6",
    )
    assert header.sop_class_uid == "1.2.840.10008.5.1.4.1.1.1.1"
    assert header.sop_class_name == "Digital X-Ray Image Storage - For Presentation"
    assert header.transfer_syntax_uid == uid.ExplicitVRLittleEndian
    assert (header.modality, header.view_position, header.body_part_examined) == ("DX", "LL", "SPINE")
    assert header.patient_orientation == ("A", "F")
    assert header.patient_position == "STANDING"
    assert header.study_date == dt.date(2024, 5, 17)
    assert (header.rows, header.columns, header.number_of_frames) == (64, 48, 1)
    assert header.photometric_interpretation == "MONOCHROME1" and header.invert_display
    assert header.has_pixel_data
    assert header.identity == dataclasses.replace(
        IDENTITY,
        study_date=dt.date(2024, 5, 17),
        series_date=dt.date(2024, 5, 17),
        acquisition_date=dt.date(2024, 5, 17),
        content_date=dt.date(2024, 5, 17),
    )
    radiograph = load_radiograph(path)
    assert radiograph.header == header


def test_blinding_drops_identity_and_study_date(tmp_path: Path) -> None:
    path = write_radiograph(tmp_path / "id.dcm", _film(), identity=IDENTITY, study_date=dt.date(2024, 5, 17))
    radiograph = load_radiograph(path)
    blinded = radiograph.blinded()
    assert isinstance(blinded, Radiograph)
    assert blinded.identity == PatientIdentity() and blinded.identity.is_empty
    assert blinded.study_date is None
    assert blinded.pixels is radiograph.pixels
    assert not radiograph.identity.is_empty  # the original is unchanged
    header = read_header(path).blinded()
    assert header.identity.is_empty and header.study_date is None


def test_malformed_dates_become_warnings(tmp_path: Path) -> None:
    ds = radiograph_dataset(_film(8, 8))
    _set(ds, "StudyDate", "2024-13-45")
    _set(ds, "StudyTime", "99")
    header = read_header(_save(ds, tmp_path / "dates.dcm"))
    assert header.study_date is None and header.identity.study_time is None
    assert any("StudyDate" in warning for warning in header.warnings)


def test_read_header_does_not_decode_pixels(tmp_path: Path) -> None:
    ds = radiograph_dataset(_film(8, 8))
    ds.file_meta.TransferSyntaxUID = uid.JPEG2000Lossless
    ds.PixelData = encapsulate([b"\x00" * 64])
    path = _save(ds, tmp_path / "garbage_j2k.dcm")
    header = read_header(path)
    assert header.has_pixel_data and header.rows == 8
    with pytest.raises(CorruptPixelDataError):
        load_radiograph(path)


def test_header_of_a_report_says_it_has_no_pixels() -> None:
    header = read_header(files.PYDICOM_TEST_FILES / files.STRUCTURED_REPORT)
    assert not header.has_pixel_data
    assert (header.rows, header.columns, header.number_of_frames) == (0, 0, 0)
    with pytest.raises(NoPixelDataError, match="structured report"):
        load_radiograph(files.PYDICOM_TEST_FILES / files.STRUCTURED_REPORT)


def test_pydicom_warnings_are_recorded() -> None:
    header = read_header(files.PYDICOM_TEST_FILES / "badVR.dcm")
    assert any("Invalid value for VR IS: '1A'" in warning for warning in header.warnings)


# --- decoders ------------------------------------------------------------------------------------


class _MissingDecoder:
    is_available = False
    available_plugins = ()


@pytest.mark.parametrize(
    ("syntax", "message"),
    [
        (uid.JPEGLSLossless, "JPEG-LS Lossless pixel data needs the pyjpegls package"),
        (uid.JPEGLosslessSV1, "JPEG Lossless pixel data needs the python-gdcm package"),
        (uid.JPEG2000Lossless, "JPEG 2000 Lossless pixel data needs the pylibjpeg-openjpeg package"),
    ],
)
def test_a_missing_plugin_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, syntax: str, message: str
) -> None:
    path = write_radiograph(tmp_path / "compressed.dcm", _film(), transfer_syntax=syntax)
    monkeypatch.setattr(pixels_module, "get_decoder", lambda _uid: _MissingDecoder())
    with pytest.raises(UnsupportedEncodingError, match=message) as caught:
        load_radiograph(path)
    assert "compressed.dcm" in str(caught.value)


def test_video_encodings_are_refused(tmp_path: Path) -> None:
    ds = radiograph_dataset(_film(8, 8))
    ds.file_meta.TransferSyntaxUID = uid.MPEG2MPML
    ds.PixelData = encapsulate([b"\x00\x00\x01\xb3" + b"\x00" * 60])
    with pytest.raises(UnsupportedEncodingError, match="MPEG2"):
        load_radiograph(_save(ds, tmp_path / "video.dcm"))


def test_twelve_bit_jpeg_extended_is_read_without_a_gpl_decoder(tmp_path: Path) -> None:
    film = load_radiograph(files.PYDICOM_TEST_FILES / "JPGExtended.dcm")
    assert film.pixels.shape == (1024, 256) and film.bits_stored == 12
    assert 0 <= int(film.pixels.min()) < int(film.pixels.max()) < 4096
    pixels = (np.add.outer(np.arange(300), np.arange(200)) * 9 % 4096).astype(np.uint16)
    path = write_radiograph(tmp_path / "jpeg12.dcm", pixels, transfer_syntax=uid.JPEGExtended12Bit)
    written = load_radiograph(path)
    assert written.transfer_syntax_uid == uid.JPEGExtended12Bit and written.bits_stored == 12
    assert np.abs(written.pixels.astype(int) - pixels).mean() < 40  # lossy, quality 95


# High-Throughput JPEG 2000 codestreams of `_ht_source()`, made once with imagecodecs (OpenJPH) since no
# installed package encodes HTJ2K: lossless (reversible 5/3) and lossy (irreversible 9/7, level 0.001).
HTJ2K_LOSSLESS = base64.b64decode(
    "/0//UQApQAAAAAAoAAAAIAAAAAAAAAAAAAAAKAAAACAAAAAAAAAAAAABDwEB/1AACAACAAAACv9SAAwAAgABAAUEBEAB/1wA"
    "EyCIkJCQkJCQkJCQkJCQiIiI/2QAFwABT3BlbkpQSCBWZXIgMC4yNi4zLv+QAAoAAAAABFcAAf+TwAAqABH7Y/MBQjQAwAAS"
    "QAATwAASAP4AYwDe6ZoAwjQA/CdzAMAAE0AAFdAABOCU+wABlAAUUKMCX1Cw5gBjA362AKwoUQBDNADAABbEAAFuQAAWsLiq"
    "ccVut12myBACBwT3QSYAKRA+ASc6AGhmK/RhUsEOAiIbsBjgUgDMADGYhAAx8X5CmwDC83S/7FTet46C8FThugpjQBvZM5gA"
    "wAAXpEAAF6nAABeogKWEEV0ASIwEnmGwb1EhwQWAsxMlIqog0Emk0jAgukROvHIyVBBJvzLfrLVFHi7bktfkNELegMo4DWQ1"
    "nvcpimSGOILJYRNTAYMp6AQLMtVVUSNWlGLNp6KGU8JbTV25LWNLAklQrgAQAdjIl3pjq0ANlhIdAB6XGToJIgsADmILLgMk"
    "gAAEAQAQQAAFjwgPNABSEMI1BAtQA1gBF6BTUgw0LkwSggUqOlPVC2CL5cm2YM4lFOQ0HIMghtvfz2cCoBLjWBgmHht/mBe2"
    "BaBbGSKIHfel3mX6gGJ6oeZXLeSFjhpQoBhB3JHwAFUBwAAvtqAAF95wAAvtcDqcC+VosRwtluVgUC5+Xa+iiAti9rCsa0GW"
    "xToU8SD2qlj83ldZROW4rsMdIYqlHAvpsEiUVBCmFBbRsSqi+L7wdb3ucY3HslRLRZn28cs+Fgr1KhwehxDvdd0XsRYHryCj"
    "8vIKO1UoCJOioFbRcbXE9zn3nnN750Vl50dlp3AKBI/fhXSwYI8Fo76iQ3HH3ePHJ+Aad3csqPRrgGY5Wqiz6PPKeCI17WLD"
    "vWUfkbvD129V9ty6/z3iai/yC2ce6eqGhf06PGs3079GGLS3fwKwgOgC6Uv9D3EEChYEkfv7xK0wZVA4flOFwnD8KhOrABUY"
    "uy5/rQpxcbAXx1ShoC4G1AVScTdMh3iIp6zL76qIykspa9GRvTgqplTL2mA58hTL0aIsIvKWIsT3QX5cReul1jzrpvD3BCqW"
    "pVzHdeEdQrzn3DvcF3FfB299u44Wy2FZ1zG6kNc9nnPvObd3Hn+PMOQ+YIUQwYAsKEiMgmPBXSgjCJJiAe2YPNyLAUPRdmBI"
    "2hH79G6KV8SAg0qSgIMUA8vRn3mvazZI8jCENj/Hsvr9Yvxw1cOHF256jzwQ7EBr5H3PQCPS5VDMf9++70OplFBrzAC+Smnk"
    "p1gE8IPAXGAXDAy7MMGv79dBvryALuz7vh8M7AK9EPf6fl0gYfdzQV4vMMz9YBcMC7rArhfk5QIJcbler8fXBYG5vtf1wR/4"
    "BQZdX9fr+4BAurggEJcXBOZ6QF6vL8TrXC6wy/1cL8jL5YK4XBCIiwsk5AF+Pb4gX4Jg7wsGf8Gv4AsMAT9ewQcYBCz4CwYK"
    "9MHCDOziiG/8lTuae3u5/Dy8dhAAbHqujVQ9teER9jKTvK66OtbYQ3fasnVV6cAnliEdV58PUIQO2AJzxD/2CsIDYguEH8AP"
    "egT/2Q=="
)
HTJ2K_LOSSY = base64.b64decode(
    "/0//UQApQAAAAAAoAAAAIAAAAAAAAAAAAAAAKAAAACAAAAAAAAAAAAABDwEB/1AACAACAAAAJP9SAAwAAgABAAUEBEAA/1wA"
    "IyKHdIdFh0WHF39cf1x/PXeqd6p3wmA1YDVgeFgaWBpnv/9kABcAAU9wZW5KUEggVmVyIDAuMjYuMy7/kAAKAAAAAAC7AAH/"
    "k8AATvWAPAUBdADAAEcAATAncwDwzQBiNADAAJIABVwACQDQIbMAAULCAOEAAADklgD+AGMAwAFXAAWiLKFE+j/iv09DFwAC"
    "KT948fDCQDF/kpu3qTY6AMAFXABaUAE4pMDs4Y6+UGJd6QACihkA4daL3Xv3Xv0CdVmD7QCC+5il1uYAwAngBaMAFUD+/3Ji"
    "RGYAmQD7jY8OEQJSpOwyhHEkTwDf/3FiEEKzIkkA/9k="
)


def _ht_source() -> np.ndarray[Any, np.dtype[np.uint16]]:
    r, c = np.mgrid[0:32, 0:40]
    return ((r * 67 + c * 29 + (r * c) % 97) % 4096).astype(np.uint16)


@pytest.mark.parametrize(("syntax", "stream", "max_error"), [
    (uid.HTJ2KLossless, HTJ2K_LOSSLESS, 0),
    (uid.HTJ2KLosslessRPCL, HTJ2K_LOSSLESS, 0),
    (uid.HTJ2K, HTJ2K_LOSSY, 100),
])  # fmt: skip
def test_htj2k_decodes(tmp_path: Path, syntax: str, stream: bytes, max_error: int) -> None:
    source = _ht_source()
    ds = radiograph_dataset(source, bits_stored=12)
    ds.file_meta.TransferSyntaxUID = syntax
    ds.PixelData = encapsulate([stream])
    radiograph = load_radiograph(_save(ds, tmp_path / "htj2k.dcm"))
    difference = np.abs(radiograph.pixels.astype(np.int64) - source)
    assert difference.max() <= max_error


def test_a_folder_or_missing_file_is_our_error(tmp_path: Path) -> None:
    with pytest.raises(RadiographError, match="this is a folder"):
        load_radiograph(tmp_path)
    with pytest.raises(RadiographError, match="does not exist"):
        read_header(tmp_path / "nothing.dcm")


def test_images_without_size_are_refused(tmp_path: Path) -> None:
    ds = radiograph_dataset(_film(8, 8))
    del ds.Rows
    with pytest.raises(NotAnImageError, match="does not give the image size"):
        load_radiograph(_save(ds, tmp_path / "no_rows.dcm"))
