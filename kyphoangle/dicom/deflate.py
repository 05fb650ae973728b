"""Bounded inflation of Deflated Explicit VR Little Endian files, checked before pydicom unpacks them.

pydicom inflates a deflated file whole, in memory, before reading it: a few megabytes of zeros can
unpack to gigabytes (a "deflate bomb"). `check_inflated_size` inflates the stream in chunks, throwing
the output away, and stops as soon as it is larger than the header allows: the header (found in the
first `HEADER_LIMIT_BYTES` of the inflated stream) plus Rows x Columns x Frames x Samples x bytes per
sample of pixel data, plus `MARGIN_BYTES`. Memory stays at one chunk; time is proportional to what
the header allows, not to what the bomb holds. A pixel data element whose stated length is longer than
the header describes is refused as soon as its length is read, as for an uncompressed file
(`pixels.excess_pixel_data`).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path
from typing import BinaryIO

from pydicom.filebase import DicomBytesIO
from pydicom.filereader import read_dataset

from kyphoangle.dicom.pixels import excess_pixel_data, stated_pixel_bytes
from kyphoangle.errors import CorruptPixelDataError, NotDicomError

HEADER_LIMIT_BYTES = 16 << 20
"""Largest header (everything before the pixel data) a deflated file may hold."""

MARGIN_BYTES = 1 << 20
"""Room allowed after the pixel data (padding, trailing attributes such as overlays or signatures)."""

_CHUNK_BYTES = 1 << 20
_PIXEL_TAGS = (b"\xe0\x7f\x10\x00", b"\xe0\x7f\x08\x00", b"\xe0\x7f\x09\x00")
_PIXEL_VRS = frozenset({b"OB", b"OW", b"OF", b"OD"})
_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)


def meta_end(fp: BinaryIO) -> int:
    """Offset where the file meta information (group 0002, explicit VR little endian) ends."""
    fp.seek(0)
    start = 132 if fp.read(132)[128:132] == b"DICM" else 0
    fp.seek(start)
    while True:
        head = fp.read(8)
        if len(head) < 8 or head[:2] != b"\x02\x00":
            fp.seek(-len(head), 1)
            return fp.tell()
        vr = head[4:6]
        long_length = vr in _LONG_VRS
        length = struct.unpack("<I", fp.read(4))[0] if long_length else struct.unpack("<H", head[6:8])[0]
        fp.seek(length, 1)


def check_inflated_size(fp: BinaryIO, path: object) -> None:
    """Refuse a deflated file whose stream inflates to more than its header allows; `fp` is rewound."""
    where = Path(str(path))
    fp.seek(meta_end(fp))
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    prefix = bytearray()
    total = 0
    limit = HEADER_LIMIT_BYTES + MARGIN_BYTES
    header_done = False
    try:
        while True:
            data = inflater.unconsumed_tail or fp.read(_CHUNK_BYTES)
            if not data:
                break
            out = inflater.decompress(data, _CHUNK_BYTES)
            total += len(out)
            if not header_done:
                prefix += out
                found = _pixel_tag_at(prefix)
                if found is not None and len(prefix) < found + 12:
                    found = None  # the element's length is in the next chunk
                if found is not None or len(prefix) > HEADER_LIMIT_BYTES:
                    header_done = True
                    if found is not None:
                        stated = _pixel_bytes(bytes(prefix[:found]))
                        _check_element_length(bytes(prefix[found : found + 12]), stated, where)
                        limit = found + 12 + stated + MARGIN_BYTES
                    prefix = bytearray()
            if total > limit:
                raise CorruptPixelDataError(
                    where,
                    "the compressed file unpacks to more than its header allows"
                    f" (over {limit / 1e6:,.1f} MB); it is damaged or hostile and was not opened",
                )
            if inflater.eof:
                break
    except zlib.error:
        raise NotDicomError(
            where, "the file is damaged or truncated: its compressed content cannot be unpacked"
        ) from None
    finally:
        fp.seek(0)


def _pixel_tag_at(prefix: bytearray) -> int | None:
    found = [at for at in (prefix.find(tag) for tag in _PIXEL_TAGS) if at >= 0]
    return min(found) if found else None


def _check_element_length(element: bytes, stated: int, where: Path) -> None:
    """Refuse native pixel data whose element (tag, VR, length) says it is longer than `stated` bytes."""
    if stated <= 0 or element[4:6] not in _PIXEL_VRS:
        return  # the header could not be read, or the tag found is not the start of an element
    length = int.from_bytes(element[8:12], "little")
    excess = excess_pixel_data(length, stated) if length != 0xFFFFFFFF else None
    if excess is not None:
        raise CorruptPixelDataError(where, excess)


def _pixel_bytes(header: bytes) -> int:
    """Pixel data bytes the header states; 0 when it cannot be told (the margin then bounds the rest)."""
    try:
        ds = read_dataset(
            DicomBytesIO(header),  # type: ignore[arg-type]
            is_implicit_VR=False,
            is_little_endian=True,
        )
        rows, columns = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
        frames = int(ds.get("NumberOfFrames", 1) or 1)
        samples = int(ds.get("SamplesPerPixel", 1) or 1)
        bits = int(ds.get("BitsAllocated", 16) or 16)
        photometric = str(ds.get("PhotometricInterpretation", "") or "").strip().upper()
    except Exception:  # a header pydicom cannot read is refused later, with its own message
        return 0
    if min(rows, columns, frames, samples, bits) <= 0:
        return 0
    return stated_pixel_bytes(rows, columns, frames, samples, bits, photometric)
