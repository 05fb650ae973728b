"""Decoding in worker processes: a crashing, hanging or memory-hungry film is refused; the pool lives on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from pydicom import uid

from kyphoangle.dicom.decoder_pool import DecoderPool
from kyphoangle.dicom.hostile import write_decoder_abort_film
from kyphoangle.dicom.reader import load_radiograph
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.errors import NotDicomError, RadiographError, UndecodableFilmError


@pytest.fixture
def pool() -> Iterator[DecoderPool]:
    decoders = DecoderPool(workers=1, time_limit_s=20)
    yield decoders
    decoders.close()


def _film(path: Path, shape: tuple[int, int] = (300, 200), syntax: str = uid.ExplicitVRLittleEndian) -> Path:
    pixels = np.random.default_rng(3).integers(0, 4000, shape, dtype=np.uint16)
    return write_radiograph(path, pixels, transfer_syntax=syntax, pixel_spacing_mm=(0.15, 0.15))


def test_a_film_decoded_in_a_worker_is_the_film_decoded_here(tmp_path: Path, pool: DecoderPool) -> None:
    path = _film(tmp_path / "film.dcm", syntax=uid.JPEG2000Lossless)
    here, there = load_radiograph(path), pool.load(path)
    assert np.array_equal(here.pixels, there.pixels)
    assert not there.pixels.flags.writeable
    assert there.spacing == here.spacing
    assert [(p.center, p.width) for p in there.voi_presets] == [(p.center, p.width) for p in here.voi_presets]
    assert pool.probe(path).sop_instance_uid == here.sop_instance_uid


def test_our_errors_come_back_with_their_type_and_reason(tmp_path: Path, pool: DecoderPool) -> None:
    bad = tmp_path / "notes.dcm"
    bad.write_text("not a film")
    with pytest.raises(NotDicomError, match="not a DICOM file"):
        pool.load(bad)


def test_a_native_abort_is_reported_and_the_pool_goes_on(tmp_path: Path, pool: DecoderPool) -> None:
    abort = write_decoder_abort_film(tmp_path / "abort.dcm")
    with pytest.raises(UndecodableFilmError, match=r"This film cannot be decoded: .*crashed.*SIGABRT"):
        pool.load(abort)
    good = _film(tmp_path / "good.dcm")
    assert pool.load(good).pixels.shape == (300, 200)


def test_a_decode_over_the_time_limit_is_stopped(tmp_path: Path) -> None:
    big = _film(tmp_path / "big.dcm", (3000, 3000), uid.JPEG2000Lossless)
    pool = DecoderPool(workers=1, time_limit_s=0.05)
    try:
        started = time.perf_counter()
        with pytest.raises(UndecodableFilmError, match=r"longer than 0\.05 s"):
            pool.load(big)
        assert time.perf_counter() - started < 5
        pool.time_limit_s = 30
        assert pool.load(_film(tmp_path / "small.dcm")).rows == 300
    finally:
        pool.close()


@pytest.mark.slow
def test_a_decode_over_the_memory_limit_is_refused(tmp_path: Path) -> None:
    big = _film(tmp_path / "big.dcm", (10000, 10000))  # 200 MB of pixels, read and decoded: over 800 MB
    pool = DecoderPool(workers=1, memory_limit_bytes=300 << 20)
    try:
        with pytest.raises(RadiographError, match=r"more memory than allowed|too large to open"):
            pool.load(big)
        assert pool.load(_film(tmp_path / "small.dcm")).rows == 300
    finally:
        pool.close()
