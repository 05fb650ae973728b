"""Films broken on purpose, as sites' equipment or an attacker might send them.

Used by the tests, the fuzzing campaign (`scripts/fuzz.py`) and the benchmarks to check that every bad
film is refused with a clear reason and harms nothing else. Nothing here is used to read real films.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path

import numpy as np
from pydicom import dcmread, uid
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info

from kyphoangle.dicom.writer import radiograph_dataset, write_radiograph


def write_decoder_abort_film(path: str | os.PathLike[str]) -> Path:
    """A JPEG 2000 film whose header says three samples per pixel over a grey codestream.

    GDCM's JPEG 2000 codec aborts the whole process (an uncaught C++ exception) on it.
    """
    target = Path(path)
    pixels = np.random.default_rng(11).integers(0, 255, (64, 64), dtype=np.uint8)
    write_radiograph(target, pixels, transfer_syntax=uid.JPEG2000Lossless)
    ds = dcmread(target)
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.save_as(target, enforce_file_format=True)
    return target


def write_deflate_bomb(
    path: str | os.PathLike[str], *, inflated_bytes: int = 2 << 30, rows: int = 512, columns: int = 512
) -> Path:
    """A deflated film whose header states `rows` x `columns` 16-bit pixels, followed by a Data Set
    Trailing Padding element whose zeros make the stream inflate to about `inflated_bytes`: a few
    megabytes on disk.

    The pixel data element itself is consistent with the header (a pixel data element stating more
    bytes is refused as soon as its length is read); only the bounded inflation stops this one. The
    zeros are written as identical fully flushed deflate blocks, so building a 2 GiB bomb takes
    milliseconds.
    """
    target = Path(path)
    ds = radiograph_dataset(np.zeros((rows, columns), dtype=np.uint16))
    del ds.PixelData
    ds.file_meta.TransferSyntaxUID = uid.DeflatedExplicitVRLittleEndian
    header = DicomBytesIO()
    header.is_little_endian, header.is_implicit_VR = True, False
    write_dataset(header, ds)
    pixel_bytes = rows * columns * 2
    padding_bytes = max(min(inflated_bytes, 0xFFFFFFFE) - pixel_bytes, 0) & ~1
    pixels = b"\xe0\x7f\x10\x00OW\x00\x00" + pixel_bytes.to_bytes(4, "little") + bytes(pixel_bytes)
    padding = b"\xfc\xff\xfc\xffOB\x00\x00" + padding_bytes.to_bytes(4, "little")
    block = 1 << 20
    head = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    start = head.compress(header.getvalue() + pixels + padding) + head.flush(zlib.Z_FULL_FLUSH)
    zeros = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    repeated = zeros.compress(bytes(block)) + zeros.flush(zlib.Z_FULL_FLUSH)
    tail = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    end = tail.compress(bytes(padding_bytes % block)) + tail.flush(zlib.Z_FINISH)
    meta = DicomBytesIO()
    meta.is_little_endian, meta.is_implicit_VR = True, False
    write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
    with open(target, "wb") as stream:
        stream.write(b"\x00" * 128 + b"DICM")
        stream.write(meta.getvalue())
        stream.write(start)
        for _ in range(padding_bytes // block):
            stream.write(repeated)
        stream.write(end)
    return target
