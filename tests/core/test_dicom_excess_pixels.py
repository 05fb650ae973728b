"""Native pixel data longer than the header describes is refused, with the two lengths, everywhere it
is read: loading a film, the import's header check, and the bounded inflation of a deflated file."""

from __future__ import annotations

import time
from pathlib import Path

import dicom_files as files
import numpy as np
import pydicom
import pytest
from pydicom import uid
from pydicom.data import get_testdata_file

from kyphoangle.dicom import load_radiograph, read_header
from kyphoangle.dicom.pixels import excess_pixel_data
from kyphoangle.dicom.reader import probe_radiograph
from kyphoangle.dicom.sanity import header_problems
from kyphoangle.dicom.writer import radiograph_dataset, write_radiograph
from kyphoangle.errors import CorruptPixelDataError, ImportFileError

INCONSISTENT = "the file is inconsistent and is not read"


def _message(present: int, expected: int) -> str:
    return f"the pixel data holds {present:,} bytes where the header describes {expected:,}: {INCONSISTENT}"


def _ct_small(tmp_path: Path, extra: int) -> tuple[Path, int]:
    """pydicom's CT_small.dcm (128 x 128 x 16 bits) with `extra` bytes appended to its pixel data."""
    source = get_testdata_file("CT_small.dcm")
    assert isinstance(source, str)
    ds = pydicom.dcmread(source)
    expected = len(ds.PixelData)
    assert expected == 128 * 128 * 2
    ds.PixelData = ds.PixelData + bytes(extra)
    path = tmp_path / "CT_small_longer.dcm"
    ds.save_as(path)
    return path, expected


def test_the_rule_allows_only_the_padding_byte_of_an_odd_length() -> None:
    assert excess_pixel_data(100, 100) is None
    assert excess_pixel_data(99, 100) is None  # shorter data is refused elsewhere, as truncated
    assert excess_pixel_data(101, 100) == _message(101, 100)
    assert excess_pixel_data(10, 9) is None  # the one padding byte DICOM requires
    assert excess_pixel_data(11, 9) == _message(11, 9)


@pytest.mark.parametrize("extra", [2, 1000, 1 << 20])
def test_a_real_film_with_longer_pixel_data_is_refused(tmp_path: Path, extra: int) -> None:
    path, expected = _ct_small(tmp_path, extra)
    message = _message(expected + extra, expected)
    with pytest.raises(CorruptPixelDataError) as refused:
        load_radiograph(path)
    assert refused.value.reason == message
    assert str(refused.value) == f"{path.name}: {message}"
    assert read_header(path).rows == 128  # the header alone can still be listed
    assert header_problems(pydicom.dcmread(path)) == [message]


def test_the_unmodified_film_still_loads(tmp_path: Path) -> None:
    source = get_testdata_file("CT_small.dcm")
    assert isinstance(source, str)
    assert load_radiograph(source).pixels.shape == (128, 128)
    assert header_problems(pydicom.dcmread(source)) == []


def test_pydicoms_padded_film_is_refused() -> None:
    """MR_small_padded.dcm holds 128 bytes more than its 64 x 64 x 16 bits (pydicom only warns)."""
    path = files.PYDICOM_TEST_FILES / "MR_small_padded.dcm"
    with pytest.raises(CorruptPixelDataError, match="8,320 bytes where the header describes 8,192"):
        load_radiograph(path)


def test_the_padding_byte_of_an_odd_length_is_accepted(tmp_path: Path) -> None:
    pixels = np.arange(9, dtype=np.uint8).reshape(3, 3)
    ds = radiograph_dataset(pixels)
    path = tmp_path / "odd.dcm"
    ds.save_as(path, enforce_file_format=True)  # 9 bytes, written with the padding byte
    assert len(pydicom.dcmread(path).PixelData) == 10
    assert np.array_equal(load_radiograph(path).pixels, pixels)
    ds.PixelData = bytes(12)
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(CorruptPixelDataError, match=_message(12, 9)):
        load_radiograph(path)


@pytest.mark.parametrize(
    "syntax", [uid.ExplicitVRLittleEndian, uid.ImplicitVRLittleEndian, uid.ExplicitVRBigEndian]
)
def test_every_native_encoding_refuses_longer_data(tmp_path: Path, syntax: str) -> None:
    film = np.full((64, 32), 700, dtype=np.uint16)
    path = write_radiograph(tmp_path / "film.dcm", film, transfer_syntax=syntax)
    ds = pydicom.dcmread(path)
    ds.PixelData = ds.PixelData + bytes(64)
    ds.save_as(path, enforce_file_format=True)
    with pytest.raises(CorruptPixelDataError, match=_message(64 * 32 * 2 + 64, 64 * 32 * 2)):
        load_radiograph(path)


def test_the_import_check_refuses_longer_data(tmp_path: Path) -> None:
    path, expected = _ct_small(tmp_path, 1000)
    with pytest.raises(ImportFileError) as refused:
        probe_radiograph(path)
    assert refused.value.reason == _message(expected + 1000, expected)


def _deflated(tmp_path: Path, extra: int) -> tuple[Path, int]:
    film = (np.arange(128 * 96) % 4096).astype(np.uint16).reshape(128, 96)
    path = write_radiograph(
        tmp_path / "deflated.dcm", film, transfer_syntax=uid.DeflatedExplicitVRLittleEndian
    )
    ds = pydicom.dcmread(path)
    ds.PixelData = ds.PixelData + bytes(extra)
    ds.save_as(path, enforce_file_format=True)
    assert ds.file_meta.TransferSyntaxUID == uid.DeflatedExplicitVRLittleEndian
    return path, film.size * 2


@pytest.mark.parametrize("extra", [100, 3 << 20, 64 << 20])
def test_a_deflated_film_with_longer_pixel_data_is_refused_the_same_way(tmp_path: Path, extra: int) -> None:
    """Within and far beyond the inflation margin: refused as soon as the element's length is read."""
    path, expected = _deflated(tmp_path, extra)
    message = _message(expected + extra, expected)
    start = time.perf_counter()
    for read in (load_radiograph, read_header, probe_radiograph):
        with pytest.raises(CorruptPixelDataError) as refused:
            read(path)
        assert refused.value.reason == message
    assert time.perf_counter() - start < 2.0  # the stream is not inflated past the header


def test_a_deflated_film_of_the_stated_size_still_loads(tmp_path: Path) -> None:
    path, _ = _deflated(tmp_path, 0)
    assert load_radiograph(path).pixels.shape == (128, 96)
