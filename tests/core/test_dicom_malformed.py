"""A corpus of malformed inputs: every one gives one of our errors, none crashes or hangs.

The inputs are generated in a temporary folder and read in a child process with a time limit, so a
hang or a crash inside a C decoder fails the test (naming the input) instead of stopping the suite.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dicom_files as files
import numpy as np
import pytest
from pydicom import dcmread, uid
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate, generate_fragments
from pydicom.uid import generate_uid

from kyphoangle.dicom.writer import radiograph_dataset, write_radiograph

TIME_LIMIT_S = 120
"""For the whole corpus (it takes about 2 s)."""

REPO = Path(__file__).resolve().parents[2]
RNG_SEED = 1234


@dataclass(frozen=True)
class Sources:
    """Valid files the malformed ones are cut from."""

    folder: Path
    plain: Path
    j2k: Path
    rle: Path
    jpeg_ls: Path
    jpeg_lossless: Path
    deflated: Path


def _film() -> np.ndarray[Any, np.dtype[np.uint16]]:
    rng = np.random.default_rng(RNG_SEED)
    r, c = np.mgrid[0:128, 0:96]
    values = 2000 + 900 * np.sin(r / 11.0) * np.cos(c / 13.0) + rng.normal(0, 40, (128, 96))
    return values.clip(0, 4095).astype(np.uint16)


def _sources(folder: Path) -> Sources:
    film = _film()
    made = {
        name: write_radiograph(folder / f"source_{name}.dcm", film, transfer_syntax=syntax)
        for name, syntax in (
            ("plain", uid.ExplicitVRLittleEndian),
            ("j2k", uid.JPEG2000Lossless),
            ("rle", uid.RLELossless),
            ("jpeg_ls", uid.JPEGLSLossless),
            ("jpeg_lossless", uid.JPEGLosslessSV1),
            ("deflated", uid.DeflatedExplicitVRLittleEndian),
        )
    }
    return Sources(folder, **made)


def _bytes(name: str, content: bytes) -> Callable[[Sources], Path]:
    def build(sources: Sources) -> Path:
        path = sources.folder / name
        path.write_bytes(content)
        return path

    return build


def _random(size: int) -> bytes:
    return np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()


def _truncated(source: str, *, fraction: float = 0.0, offset: int = 0) -> Callable[[Sources], Path]:
    def build(sources: Sources) -> Path:
        data = getattr(sources, source).read_bytes()
        end = offset if offset > 0 else len(data) + offset if offset < 0 else int(len(data) * fraction)
        path = sources.folder / f"{source}_cut_{end}.dcm"
        path.write_bytes(data[:end])
        return path

    return build


def _patched(source: str, old: bytes, new: bytes, name: str) -> Callable[[Sources], Path]:
    def build(sources: Sources) -> Path:
        data = getattr(sources, source).read_bytes()
        assert data.count(old) == 1, f"{old!r} occurs {data.count(old)} times"
        path = sources.folder / name
        path.write_bytes(data.replace(old, new))
        return path

    return build


def _dataset(name: str, change: Callable[[Dataset], None]) -> Callable[[Sources], Path]:
    def build(sources: Sources) -> Path:
        ds = radiograph_dataset(_film())
        change(ds)
        path = sources.folder / name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(path, enforce_file_format=False)
        return path

    return build


def _set(**values: Any) -> Callable[[Dataset], None]:
    def change(ds: Dataset) -> None:
        for keyword, value in values.items():
            setattr(ds, keyword, value)

    return change


def _compressed(syntax: str, stream: Callable[[Sources], bytes], name: str) -> Callable[[Sources], Path]:
    def build(sources: Sources) -> Path:
        ds = radiograph_dataset(_film())
        ds.file_meta.TransferSyntaxUID = syntax
        content = stream(sources)
        item = b"\xfe\xff\x00\xe0"
        empty = item + bytes(4) + item + bytes(4) + b"\xfe\xff\xdd\xe0" + bytes(4)  # an empty fragment
        ds.PixelData = encapsulate([content + b"\x00" * (len(content) % 2)]) if content else empty
        path = sources.folder / name
        ds.save_as(path, enforce_file_format=True)
        return path

    return build


def _first_fragment(source: str, size: int) -> Callable[[Sources], bytes]:
    def stream(sources: Sources) -> bytes:
        fragment = next(generate_fragments(dcmread(getattr(sources, source)).PixelData))
        return bytes(fragment[:size])

    return stream


def _non_image(name: str, sop_class: str, modality: str) -> Callable[[Sources], Path]:
    def build(sources: Sources) -> Path:
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = sop_class
        ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.file_meta.TransferSyntaxUID = uid.ExplicitVRLittleEndian
        ds.SOPClassUID, ds.SOPInstanceUID = sop_class, ds.file_meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PatientName, ds.StudyInstanceUID = modality, "Test^Object", generate_uid()
        path = sources.folder / name
        ds.save_as(path, enforce_file_format=True)
        return path

    return build


def _copy(source: Path, name: str) -> Callable[[Sources], Path]:
    def build(sources: Sources) -> Path:
        return Path(shutil.copyfile(source, sources.folder / name))

    return build


def _deflate_damaged(sources: Sources) -> Path:
    data = bytearray(sources.deflated.read_bytes())
    start = data.index(b"1.2.840.10008.1.2.1.99") + 200  # past the file meta, into the deflated dataset
    data[start : start + 64] = _random(64)
    path = sources.folder / "deflated_damaged.dcm"
    path.write_bytes(bytes(data))
    return path


def _folder(sources: Sources) -> Path:
    path = sources.folder / "a_folder.dcm"
    path.mkdir(exist_ok=True)
    return path


ROWS_US = b"\x28\x00\x10\x00US\x02\x00"
PIXEL_OW = b"\xe0\x7f\x10\x00OW\x00\x00"
PIXEL_BYTES = 128 * 96 * 2

# (name, expected error class or None for any of ours, frame to load, how to make the input)
CASES: list[tuple[str, str | None, int, Callable[[Sources], Path]]] = [
    ("empty file", "NotDicomError", 0, _bytes("empty.dcm", b"")),
    ("1 KB of random bytes", "NotDicomError", 0, _bytes("random_1k.dcm", _random(1024))),
    ("100 KB of random bytes", "NotDicomError", 0, _bytes("random_100k.dcm", _random(100_000))),
    ("a text file", "NotDicomError", 0, _bytes("notes.txt", b"hello, this is not an image\n" * 20)),
    ("a PNG", "NotDicomError", 0, _bytes("picture.png", b"\x89PNG\r\n\x1a\n" + _random(3000))),
    (
        "preamble and DICM then garbage",
        "NotDicomError",
        0,
        _bytes("dicm.dcm", bytes(128) + b"DICM" + _random(2000)),
    ),
    ("cut inside the preamble", "NotDicomError", 0, _truncated("plain", offset=64)),
    ("cut before DICM ends", "NotDicomError", 0, _truncated("plain", offset=131)),
    ("cut after DICM", "NotDicomError", 0, _truncated("plain", offset=132)),
    ("cut inside the file meta", "NotDicomError", 0, _truncated("plain", offset=160)),
    ("cut inside the dataset", None, 0, _truncated("plain", offset=700)),
    ("cut at 10 % (pixel data)", "CorruptPixelDataError", 0, _truncated("plain", fraction=0.1)),
    ("cut at 50 %", "CorruptPixelDataError", 0, _truncated("plain", fraction=0.5)),
    ("cut 2 bytes short", "CorruptPixelDataError", 0, _truncated("plain", offset=-2)),
    ("JPEG 2000 cut at 25 %", "CorruptPixelDataError", 0, _truncated("j2k", fraction=0.25)),
    ("JPEG 2000 cut at 60 %", "CorruptPixelDataError", 0, _truncated("j2k", fraction=0.6)),
    ("JPEG 2000 cut 10 bytes short", "CorruptPixelDataError", 0, _truncated("j2k", offset=-10)),
    ("RLE cut at 50 %", "CorruptPixelDataError", 0, _truncated("rle", fraction=0.5)),
    ("JPEG-LS cut at 50 %", "CorruptPixelDataError", 0, _truncated("jpeg_ls", fraction=0.5)),
    ("JPEG lossless cut at 70 %", "CorruptPixelDataError", 0, _truncated("jpeg_lossless", fraction=0.7)),
    ("deflated cut at 50 %", "NotDicomError", 0, _truncated("deflated", fraction=0.5)),
    ("deflated stream damaged", None, 0, _deflate_damaged),
    (
        "Rows length field wrong",
        None,
        0,
        _patched("plain", ROWS_US, ROWS_US[:6] + b"\x00\x40", "rows_len.dcm"),
    ),
    (
        "pixel data length field halved",
        "CorruptPixelDataError",
        0,
        _patched(
            "plain",
            PIXEL_OW + PIXEL_BYTES.to_bytes(4, "little"),
            PIXEL_OW + (PIXEL_BYTES // 2).to_bytes(4, "little"),
            "px_len.dcm",
        ),
    ),
    (
        "pixel data shorter than rows x columns",
        "CorruptPixelDataError",
        0,
        _dataset(
            "short_pixels.dcm", lambda ds: setattr(ds, "PixelData", ds.PixelData[: len(ds.PixelData) // 2])
        ),
    ),
    ("zero rows", "NotAnImageError", 0, _dataset("zero_rows.dcm", _set(Rows=0))),
    ("zero columns", "NotAnImageError", 0, _dataset("zero_columns.dcm", _set(Columns=0))),
    ("no Rows attribute", "NotAnImageError", 0, _dataset("no_rows.dcm", lambda ds: delattr(ds, "Rows"))),
    ("bits allocated 0", "NotAnImageError", 0, _dataset("bits_0.dcm", _set(BitsAllocated=0))),
    ("bits allocated 12", "NotAnImageError", 0, _dataset("bits_12.dcm", _set(BitsAllocated=12))),
    ("bits allocated 7", "NotAnImageError", 0, _dataset("bits_7.dcm", _set(BitsAllocated=7))),
    ("4 samples per pixel", "NotAnImageError", 0, _dataset("samples_4.dcm", _set(SamplesPerPixel=4))),
    ("60000 x 60000 pixels", "NotAnImageError", 0, _dataset("huge.dcm", _set(Rows=60000, Columns=60000))),
    (
        "4000 x 4000 x 100 frames",
        "NotAnImageError",
        0,
        _dataset("frames.dcm", _set(Rows=4000, Columns=4000, NumberOfFrames=100)),
    ),
    (
        "palette colour without a palette",
        "NotAnImageError",
        0,
        _dataset("palette.dcm", _set(PhotometricInterpretation="PALETTE COLOR")),
    ),
    ("frame 3 of a single-frame film", "RadiographError", 3, lambda sources: sources.plain),
    (
        "a structured report",
        "NoPixelDataError",
        0,
        _non_image("sr.dcm", "1.2.840.10008.5.1.4.1.1.88.11", "SR"),
    ),
    (
        "a presentation state",
        "NoPixelDataError",
        0,
        _non_image("gsps.dcm", "1.2.840.10008.5.1.4.1.1.11.1", "PR"),
    ),
    ("a DICOMDIR", "NoPixelDataError", 0, _copy(files.DICOMDIR_FOLDER / "DICOMDIR", "DICOMDIR")),
    (
        "JPEG 2000 stream of garbage",
        "CorruptPixelDataError",
        0,
        _compressed(uid.JPEG2000Lossless, lambda _: _random(5000), "j2k_garbage.dcm"),
    ),
    (
        "JPEG 2000 header only",
        "CorruptPixelDataError",
        0,
        _compressed(uid.JPEG2000Lossless, _first_fragment("j2k", 200), "j2k_header.dcm"),
    ),
    (
        "JPEG-LS stream of garbage",
        "CorruptPixelDataError",
        0,
        _compressed(uid.JPEGLSLossless, lambda _: _random(3000), "jls_garbage.dcm"),
    ),
    (
        "RLE header of garbage",
        "CorruptPixelDataError",
        0,
        _compressed(uid.RLELossless, lambda _: _random(3000), "rle_garbage.dcm"),
    ),
    (
        "JPEG lossless stream of garbage",
        "CorruptPixelDataError",
        0,
        _compressed(uid.JPEGLosslessSV1, lambda _: _random(3000), "jpeg_garbage.dcm"),
    ),
    (
        "empty JPEG 2000 fragment",
        "CorruptPixelDataError",
        0,
        _compressed(uid.JPEG2000, lambda _: b"", "j2k_empty.dcm"),
    ),
    (
        "compressed syntax, native pixels",
        "CorruptPixelDataError",
        0,
        _patched("plain", b"1.2.840.10008.1.2.1\x00", b"1.2.840.10008.1.2.5\x00", "native_as_rle.dcm"),
    ),
    (
        "native syntax, encapsulated pixels",
        "CorruptPixelDataError",
        0,
        _dataset(
            "encapsulated_as_native.dcm", lambda ds: setattr(ds, "PixelData", encapsulate([b"\x00" * 64]))
        ),
    ),
    (
        "MPEG-2 video",
        "UnsupportedEncodingError",
        0,
        _compressed(uid.MPEG2MPML, lambda _: b"\x00\x00\x01\xb3" + _random(500), "mpeg2.dcm"),
    ),
    ("a folder", "RadiographError", 0, _folder),
    ("a missing file", "RadiographError", 0, lambda sources: sources.folder / "no_such_file.dcm"),
]

RUNNER = """
import faulthandler, json, sys
faulthandler.dump_traceback_later(TIME_LIMIT, exit=True)
from kyphoangle.dicom import load_radiograph, read_header
for case in json.load(sys.stdin):
    print(json.dumps({"started": case["name"]}), flush=True)
    result = {"name": case["name"]}
    for what, call in (("header", lambda: read_header(case["path"])),
                       ("load", lambda: load_radiograph(case["path"], frame=case["frame"]))):
        try:
            call()
            result[what] = {"ok": True}
        except BaseException as exc:
            result[what] = {"class": type(exc).__name__, "mro": [k.__name__ for k in type(exc).__mro__],
                            "message": str(exc)}
    print(json.dumps(result), flush=True)
""".replace("TIME_LIMIT", str(TIME_LIMIT_S - 5))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """Build the corpus and read it in a child process; the result of each input by name."""
    folder = tmp_path_factory.mktemp("malformed")
    sources = _sources(folder)
    cases = [{"name": name, "path": str(build(sources)), "frame": frame} for name, _, frame, build in CASES]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    child = subprocess.Popen(
        [sys.executable, "-c", RUNNER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=env,
    )
    try:
        stdout, stderr = child.communicate(json.dumps(cases), timeout=TIME_LIMIT_S)
    except subprocess.TimeoutExpired:
        child.kill()
        stdout, stderr = child.communicate()
    results: dict[str, dict[str, Any]] = {}
    for line in stdout.splitlines():
        record = json.loads(line)
        if "started" in record:
            results[record["started"]] = {"hung_or_crashed": stderr[-3000:]}
        else:
            results[record["name"]] = record
    return results


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 30
    assert len({name for name, *_ in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "expected"), [(name, expected) for name, expected, *_ in CASES])
def test_malformed_input_gives_our_error(
    outcomes: dict[str, dict[str, Any]], name: str, expected: str | None
) -> None:
    result = outcomes.get(name)
    assert result is not None, "never reached: an earlier input hung or crashed the reader"
    assert "hung_or_crashed" not in result, f"hung or crashed:\n{result['hung_or_crashed']}"
    load = result["load"]
    assert not load.get("ok"), f"{name} loaded as an image"
    assert "RadiographError" in load["mro"], f"{load['class']}: {load['message']}"
    if expected is not None:
        assert load["class"] == expected, load["message"]
    assert ": " in load["message"] and len(load["message"]) < 300
    header = result["header"]
    assert header.get("ok") or "RadiographError" in header["mro"], f"read_header: {header}"
