"""Comment segments are removed from every compressed frame of a blinded copy: in JPEG 2000 from the main
header and every tile-part header (lengths corrected), in JPEG from every frame, however the frames are
split into fragments; the pixels decode identically and the copy conforms."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom import uid
from pydicom.encaps import encapsulate, encapsulate_extended, generate_fragments, generate_frames
from test_dciodvfy import DCIODVFY, errors_of
from test_dicom_phi import KEY

from kyphoangle.dicom import load_radiograph
from kyphoangle.dicom.blinded_copy import write_blinded_copy
from kyphoangle.dicom.deidentify import strip_jpeg_comments
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.errors import RadiographError

MAIN = b"SENTINEL-MAIN-HEADER-Doe^Jane"
TILE = b"SENTINEL-TILE-PART-ID-0042"
SOT, SOD, COM = b"\xff\x90", b"\xff\x93", b"\xff\x64"


def _pixels(seed: int) -> np.ndarray:
    r, c = np.mgrid[0:64, 0:48]
    return ((r * 3 + c * 5 + seed * 17) % 256).astype(np.uint8)


def _tile_parts(codestream: bytes) -> list[tuple[int, int]]:
    """(start, length) of each tile-part, following Psot from the first SOT."""
    at, parts = codestream.index(SOT), []
    while codestream[at : at + 2] == SOT:
        length = int.from_bytes(codestream[at + 6 : at + 10], "big")
        parts.append((at, length))
        at += length
    assert codestream[at:] == b"\xff\xd9"
    return parts


def _com(text: bytes) -> bytes:
    return COM + (len(text) + 4).to_bytes(2, "big") + b"\x00\x01" + text


def _tiled(seed: int) -> bytes:
    """A lossless JPEG 2000 codestream of four 32 x 32 tiles (one tile-part each), without comments."""
    buffer = io.BytesIO()
    Image.fromarray(_pixels(seed)).save(
        buffer, "JPEG2000", tile_size=(32, 32), irreversible=False, no_jp2=True
    )
    codestream = buffer.getvalue()
    at = codestream.index(COM)  # OpenJPEG's "Created by" comment in the main header
    codestream = codestream[:at] + codestream[at + 2 + int.from_bytes(codestream[at + 2 : at + 4], "big") :]
    assert COM not in codestream[: codestream.index(SOT)] and len(_tile_parts(codestream)) == 4
    return codestream


def _with_comments(codestream: bytes) -> bytes:
    """The sentinel in a main-header COM and in a COM of the second tile-part's header (Psot grown)."""
    start, length = _tile_parts(codestream)[1]
    comment = _com(TILE)
    header_end = start + 12  # after the SOT segment
    part = bytearray(codestream[start:header_end] + comment + codestream[header_end : start + length])
    part[6:10] = len(part).to_bytes(4, "big")
    codestream = codestream[:start] + bytes(part) + codestream[start + length :]
    first = codestream.index(SOT)
    return codestream[:first] + _com(MAIN) + codestream[first:]


def _with_tlm(codestream: bytes) -> bytes:
    """The codestream with a TLM segment (16-bit tile index, 32-bit length) giving each tile-part."""
    parts = _tile_parts(codestream)
    entries = b"".join(
        int.from_bytes(codestream[at + 4 : at + 6], "big").to_bytes(2, "big") + length.to_bytes(4, "big")
        for at, length in parts
    )
    tlm = b"\xff\x55" + (4 + len(entries)).to_bytes(2, "big") + b"\x00\x60" + entries
    first = codestream.index(SOT)
    return codestream[:first] + tlm + codestream[first:]


def _tlm_lengths(codestream: bytes) -> list[int]:
    at = codestream.index(b"\xff\x55")
    end = at + 2 + int.from_bytes(codestream[at + 2 : at + 4], "big")
    return [int.from_bytes(codestream[e + 2 : e + 6], "big") for e in range(at + 6, end, 6)]


@pytest.mark.parametrize(
    "syntax", [uid.JPEG2000Lossless, uid.JPEG2000, uid.HTJ2KLossless, uid.HTJ2KLosslessRPCL, uid.HTJ2K]
)
def test_every_j2k_comment_goes_and_nothing_else_changes(syntax: str) -> None:
    clean = _tiled(1)
    dirty = _with_comments(clean)
    assert MAIN in dirty and TILE in dirty
    assert strip_jpeg_comments(dirty, syntax) == clean
    assert strip_jpeg_comments(dirty + b"\x00", syntax) == clean + b"\x00"  # an odd length's padding
    with_tlm = _with_tlm(dirty)
    stripped = strip_jpeg_comments(with_tlm, syntax)
    assert stripped == _with_tlm(clean)
    assert _tlm_lengths(stripped) == [length for _, length in _tile_parts(stripped)]


def test_what_follows_a_damaged_tile_part_is_copied_as_it_is() -> None:
    dirty = _with_comments(_tiled(2))
    start, _ = _tile_parts(dirty)[2]
    damaged = dirty[:start] + b"\x00" * 12 + dirty[start + 12 :]  # the third tile-part's SOT overwritten
    stripped = strip_jpeg_comments(damaged, uid.JPEG2000Lossless)
    assert MAIN not in stripped and TILE not in stripped
    assert stripped.endswith(damaged[start:])
    cut = dirty[: _tile_parts(dirty)[1][0] + 20]  # ends inside the second tile-part's comment
    assert strip_jpeg_comments(cut, uid.JPEG2000Lossless) == cut.replace(_com(MAIN), b"")
    no_tile_part = dirty[: dirty.index(SOT)]
    assert strip_jpeg_comments(no_tile_part, uid.JPEG2000Lossless) == no_tile_part


def _film(path: Path, frames: list[bytes], *, fragments: int, bot: bool) -> Path:
    write_radiograph(
        path, _pixels(0), transfer_syntax=uid.JPEG2000Lossless, imager_pixel_spacing_mm=(0.15, 0.15)
    )
    ds = pydicom.dcmread(path)
    ds.PixelData = encapsulate(frames, fragments_per_frame=fragments, has_bot=bot)
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
    ds.save_as(path, enforce_file_format=True)
    return path


ARRANGEMENTS = [
    pytest.param(1, 1, True, id="one frame, one fragment"),
    pytest.param(1, 3, True, id="one frame in three fragments"),
    pytest.param(1, 3, False, id="one frame in three fragments, no offset table"),
    pytest.param(3, 1, True, id="three frames"),
    pytest.param(3, 2, True, id="three frames of two fragments"),
    pytest.param(3, 2, False, id="three frames of two fragments, no offset table"),
]


@pytest.mark.parametrize(("count", "fragments", "bot"), ARRANGEMENTS)
def test_no_comment_survives_in_any_frame_or_fragment(
    tmp_path: Path, count: int, fragments: int, bot: bool
) -> None:
    frames = [_with_tlm(_with_comments(_tiled(seed))) for seed in range(count)]
    source = _film(tmp_path / "source.dcm", frames, fragments=fragments, bot=bot)
    raw = source.read_bytes()
    assert raw.count(MAIN) == count and raw.count(TILE) == count
    copy = write_blinded_copy(source, tmp_path / "case.dcm", case_code="K7QX2M", key=KEY)
    raw = copy.read_bytes()
    assert MAIN not in raw and TILE not in raw and b"SENTINEL" not in raw
    original, blinded = pydicom.dcmread(source), pydicom.dcmread(copy)
    assert np.array_equal(original.pixel_array, blinded.pixel_array)
    expected = _pixels(0) if count == 1 else np.stack([_pixels(seed) for seed in range(count)])
    assert np.array_equal(blinded.pixel_array, expected)
    # one fragment per frame, the Basic Offset Table giving where each starts
    fragments_of_copy = list(generate_fragments(blinded.PixelData))
    offsets, items = fragments_of_copy[0], fragments_of_copy[1:]
    assert len(items) == count
    starts = [int.from_bytes(offsets[i : i + 4], "little") for i in range(0, len(offsets), 4)]
    assert starts == list(np.cumsum([0] + [len(item) + 8 for item in items[:-1]]))
    for item in items:
        assert strip_jpeg_comments(item.rstrip(b"\x00"), uid.JPEG2000Lossless) == item.rstrip(b"\x00")
        assert _tlm_lengths(item) == [length for _, length in _tile_parts(item.rstrip(b"\x00"))]
    for frame in range(count):
        assert np.array_equal(
            load_radiograph(copy, frame=frame).pixels, load_radiograph(source, frame=frame).pixels
        )


DX_HOLDS_ONE_FRAME = "Error - Unrecognized enumerated value <0x3> for value 1 of attribute <Number of Frames>"
"""dciodvfy's only error on the three-frame films, source and copy alike: the DX IOD holds one frame."""


@pytest.mark.skipif(DCIODVFY is None, reason="dciodvfy (Debian package dicom3tools) is missing")
@pytest.mark.parametrize(("count", "fragments", "bot"), ARRANGEMENTS)
def test_the_cleaned_copy_conforms(tmp_path: Path, count: int, fragments: int, bot: bool) -> None:
    frames = [_with_tlm(_with_comments(_tiled(seed))) for seed in range(count)]
    source = _film(tmp_path / "source.dcm", frames, fragments=fragments, bot=bot)
    copy = write_blinded_copy(source, tmp_path / "case.dcm", case_code="K7QX2M", key=KEY)
    assert errors_of(copy, tmp_path) == ([] if count == 1 else [DX_HOLDS_ONE_FRAME])
    assert errors_of(source, tmp_path) == errors_of(copy, tmp_path)


def _jpeg_frame(syntax: str, seed: int, folder: Path) -> bytes:
    """A frame of `syntax` with a COM and an APP1 before the scan and, but in JPEG-LS (CharLS reads
    no segment between the scan and the end of image), a COM after it."""
    film = write_radiograph(folder / f"frame{seed}.dcm", _pixels(seed), transfer_syntax=syntax)
    frame = next(generate_frames(pydicom.dcmread(film).PixelData, number_of_frames=1))
    com = b"\xff\xfe" + (len(MAIN) + 2).to_bytes(2, "big") + MAIN
    app1 = b"\xff\xe1" + (len(TILE) + 8).to_bytes(2, "big") + b"Exif\x00\x00" + TILE
    eoi = frame.rindex(b"\xff\xd9")
    after = com if syntax != uid.JPEGLSLossless else b""
    return frame[:2] + com + app1 + frame[2:eoi] + after + frame[eoi:]


@pytest.mark.parametrize(
    "syntax", [uid.JPEGBaseline8Bit, uid.JPEGLosslessSV1, uid.JPEGLSLossless], ids=lambda s: uid.UID(s).name
)
@pytest.mark.parametrize(("count", "fragments", "bot"), ARRANGEMENTS)
def test_jpeg_comments_go_from_every_frame(
    tmp_path: Path, syntax: str, count: int, fragments: int, bot: bool
) -> None:
    frames = [_jpeg_frame(syntax, seed, tmp_path) for seed in range(count)]
    source = write_radiograph(tmp_path / "source.dcm", _pixels(0), transfer_syntax=syntax)
    ds = pydicom.dcmread(source)
    ds.PixelData = encapsulate(frames, fragments_per_frame=fragments, has_bot=bot)
    if count > 1:
        ds.NumberOfFrames = count
    ds.save_as(source, enforce_file_format=True)
    assert source.read_bytes().count(MAIN) == (2 if syntax != uid.JPEGLSLossless else 1) * count
    copy = write_blinded_copy(source, tmp_path / "case.dcm", case_code="K7QX2M", key=KEY)
    assert b"SENTINEL" not in copy.read_bytes()
    expected = _pixels(0) if count == 1 else np.stack([_pixels(seed) for seed in range(count)])
    original, blinded = pydicom.dcmread(source).pixel_array, pydicom.dcmread(copy).pixel_array
    assert np.array_equal(original, blinded)
    if syntax != uid.JPEGBaseline8Bit:  # lossless: the very pixels written
        assert np.array_equal(blinded, expected)


def test_frames_found_by_an_extended_offset_table_get_a_basic_one(tmp_path: Path) -> None:
    frames = [_with_tlm(_with_comments(_tiled(seed))) for seed in range(3)]
    source = _film(tmp_path / "source.dcm", frames, fragments=1, bot=True)
    ds = pydicom.dcmread(source)
    ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = encapsulate_extended(frames)
    ds.save_as(source, enforce_file_format=True)
    copy = write_blinded_copy(source, tmp_path / "case.dcm", case_code="K7QX2M", key=KEY)
    blinded = pydicom.dcmread(copy)
    assert "ExtendedOffsetTable" not in blinded and "ExtendedOffsetTableLengths" not in blinded
    assert b"SENTINEL" not in copy.read_bytes()
    assert next(generate_fragments(blinded.PixelData)) != b""  # the Basic Offset Table
    assert np.array_equal(blinded.pixel_array, np.stack([_pixels(seed) for seed in range(3)]))


def test_pixel_data_whose_frames_cannot_be_told_apart_gives_no_copy(tmp_path: Path) -> None:
    frames = [_tiled(seed)[:-2] for seed in range(3)]  # no end of codestream to split them by
    source = _film(tmp_path / "source.dcm", frames, fragments=2, bot=False)
    with pytest.raises(RadiographError, match="cannot be told apart"):
        write_blinded_copy(source, tmp_path / "case.dcm", case_code="K7QX2M", key=KEY)
    assert not (tmp_path / "case.dcm").exists()
