"""render_8bit and display_lut: hand-computed windows, LUTs, inversion, regions and scales, properties."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kyphoangle.dicom import VoiFunction, VoiLut
from kyphoangle.dicom.display import display_lut, output_shape, render_8bit, resample

LINEAR, EXACT, SIGMOID = VoiFunction.LINEAR, VoiFunction.LINEAR_EXACT, VoiFunction.SIGMOID


def _row(values: list[float], dtype: Any = np.int16) -> np.ndarray[Any, Any]:
    return np.array([values], dtype=dtype)


# PS3.3 C.11.2.1.2.1 with center 100, width 11: x <= 94.5 -> 0; x > 104.5 -> 255;
# else ((x - 99.5) / 10 + 0.5) * 255: 95 -> 12.75 -> 13, 100 -> 140.25 -> 140, 104 -> 242.25 -> 242.
LINEAR_CASES = [(90, 0), (94, 0), (95, 13), (99, 115), (100, 140), (104, 242), (105, 255), (400, 255)]
# C.11.2.1.3.2 LINEAR_EXACT, center 100, width 10: ((x - 100) / 10 + 0.5) * 255, halves rounded up.
EXACT_CASES = [(94, 0), (95, 0), (97.5, 64), (100, 128), (104, 230), (105, 255), (106, 255)]
# C.11.2.1.3.1 SIGMOID, center 100, width 10: 255 / (1 + exp(-4 (x - 100) / 10)).
SIGMOID_CASES = [(100, 128), (105, 225), (95, 30), (0, 0), (200, 255)]


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize(
    ("function", "width", "cases"),
    [(LINEAR, 11, LINEAR_CASES), (EXACT, 10, EXACT_CASES), (SIGMOID, 10, SIGMOID_CASES)],
)
def test_hand_computed_windows(
    dtype: Any, function: VoiFunction, width: float, cases: list[tuple[float, int]]
) -> None:
    values = [x for x, _ in cases]
    if np.issubdtype(dtype, np.integer) and any(x != int(x) for x in values):
        cases = [(x, y) for x, y in cases if x == int(x)]
        values = [x for x, _ in cases]
    out = render_8bit(_row(values, dtype), center=100, width=width, function=function)
    assert out.dtype == np.uint8
    assert out.tolist() == [[y for _, y in cases]]
    inverted = render_8bit(_row(values, dtype), center=100, width=width, function=function, invert=True)
    assert inverted.tolist() == [[255 - y for _, y in cases]]


def test_uint8_pixels_use_a_256_entry_table() -> None:
    out = render_8bit(_row([0, 95, 100, 200], np.uint8), center=100, width=11)
    assert out.tolist() == [[0, 13, 140, 255]]
    assert display_lut(np.uint8, center=100, width=11).table is not None
    assert display_lut(np.uint8, center=100, width=11).table.shape == (256,)  # type: ignore[union-attr]


def test_a_linear_window_of_width_1_is_a_threshold() -> None:
    assert render_8bit(_row([99, 100, 101]), center=100, width=1).tolist() == [[0, 255, 255]]
    assert render_8bit(_row([99.5, 99.6], np.float32), center=100, width=1).tolist() == [[0, 255]]


def test_signed_pixels_index_the_table_by_bit_pattern() -> None:
    out = render_8bit(_row([-32768, -1000, -1, 0, 1000, 32767]), center=0, width=2001, function=EXACT)
    assert out.tolist() == [[0, 0, 127, 128, 255, 255]]  # -1: (-1 / 2001 + 0.5) * 255 = 127.4


def test_voi_lut_maps_and_clamps() -> None:
    lut = VoiLut(first_mapped_value=10, data=np.array([0, 1000, 4095], np.uint16), bits_per_entry=12)
    # below first -> entry 0; 11 -> 1000 / 4095 * 255 = 62.3; past the end -> the last entry
    out = render_8bit(_row([5, 10, 11, 12, 500]), lut=lut)
    assert out.tolist() == [[0, 0, 62, 255, 255]]
    assert render_8bit(_row([11], np.float32), lut=lut).tolist() == [[62]]
    assert render_8bit(_row([11]), lut=lut, invert=True).tolist() == [[193]]


def test_the_table_is_cached_and_cheap_to_rebuild() -> None:
    first = display_lut(np.uint16, center=2000, width=1000)
    assert display_lut(np.uint16, center=2000, width=1000) is first
    other = display_lut(np.uint16, center=2001, width=1000)
    assert other is not first and other.table is not None and other.table.shape == (65536,)
    assert not other.table.flags.writeable


# --- regions and scales -----------------------------------------------------------------------------


FILM = (np.arange(40 * 60, dtype=np.uint16).reshape(40, 60) * 7) % 4096


def test_region_at_scale_1_is_a_crop() -> None:
    whole = render_8bit(FILM, center=2048, width=4096)
    part = render_8bit(FILM, center=2048, width=4096, region=(10, 20, 30, 50))
    np.testing.assert_array_equal(part, whole[10:30, 20:50])
    assert part.flags.c_contiguous


def test_region_is_clipped_to_the_image_and_must_overlap() -> None:
    assert render_8bit(FILM, center=2048, width=4096, region=(-5, -5, 100, 100)).shape == (40, 60)
    with pytest.raises(ValueError, match="does not overlap"):
        render_8bit(FILM, center=2048, width=4096, region=(50, 0, 60, 10))


def test_enlarging_repeats_pixels() -> None:
    out = resample(FILM, region=(0, 0, 4, 5), scale=3)
    np.testing.assert_array_equal(out, np.kron(FILM[:4, :5], np.ones((3, 3), np.uint16)))


def test_shrinking_by_an_integer_factor_averages_boxes() -> None:
    out = resample(FILM.astype(np.float32), scale=0.5)
    expected = FILM.astype(np.float32).reshape(20, 2, 30, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(out, expected, rtol=1e-6)


@pytest.mark.parametrize("scale", [0.27, 0.3, 0.45, 0.6, 0.9])
def test_any_shrink_keeps_the_geometry(scale: float) -> None:
    rows, columns = 400, 300
    r, c = np.mgrid[0:rows, 0:columns]
    ramp = (3 * r + 2 * c).astype(np.float32)  # linear: any average is the value at the centre
    out = resample(ramp, scale=scale)
    assert out.shape == output_shape((0, 0, rows, columns), scale)
    out_r, out_c = np.mgrid[0 : out.shape[0], 0 : out.shape[1]]
    centre_r = (out_r + 0.5) * rows / out.shape[0] - 0.5
    centre_c = (out_c + 0.5) * columns / out.shape[1] - 0.5
    inner = (slice(1, -2), slice(1, -2))  # the last output pixels may replicate a partial box
    np.testing.assert_allclose(out[inner], (3 * centre_r + 2 * centre_c)[inner], atol=0.01)


def test_fit_to_window_output_size() -> None:
    film = np.zeros((4000, 2000), np.uint16)
    assert render_8bit(film, center=1, width=2, scale=0.25).shape == (1000, 500)
    assert render_8bit(film, center=1, width=2, scale=1080 / 4000).shape == (1080, 540)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "give a window"),
        ({"center": 10, "width": 0.5}, "at least 1"),
        ({"center": 10, "width": 0, "function": EXACT}, "positive width"),
        ({"center": 10, "width": 10, "scale": 0}, "positive number"),
    ],
)
def test_bad_arguments(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_8bit(FILM, **arguments)


def test_only_2d_images() -> None:
    with pytest.raises(ValueError, match="2-D"):
        render_8bit(np.zeros((2, 3, 3), np.uint8), center=1, width=2)


# --- properties ---------------------------------------------------------------------------------------

windows = st.tuples(
    st.floats(-40000, 70000, allow_nan=False),
    st.floats(1, 70000, allow_nan=False),
    st.sampled_from(list(VoiFunction)),
)
dtypes = st.sampled_from([np.uint8, np.int8, np.uint16, np.int16, np.int32, np.float32])


def _values(dtype: Any, seed: int) -> np.ndarray[Any, Any]:
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else np.finfo(np.float32)
    low, high = max(float(info.min), -1e6), min(float(info.max), 1e6)
    values = np.random.default_rng(seed).uniform(low, high, 257)
    return np.sort(np.concatenate([values, [low, high]])).astype(dtype)


@settings(max_examples=150, deadline=None)
@given(window=windows, dtype=dtypes, seed=st.integers(0, 2**16))
def test_monotone_in_pixel_value(window: tuple[float, float, VoiFunction], dtype: Any, seed: int) -> None:
    center, width, function = window
    values = _values(dtype, seed)
    out = render_8bit(values[None, :], center=center, width=width, function=function)[0].astype(int)
    assert (np.diff(out) >= 0).all()


@settings(max_examples=150, deadline=None)
@given(window=windows, dtype=dtypes, seed=st.integers(0, 2**16))
def test_invert_is_255_minus(window: tuple[float, float, VoiFunction], dtype: Any, seed: int) -> None:
    center, width, function = window
    values = _values(dtype, seed)[None, :]
    normal = render_8bit(values, center=center, width=width, function=function)
    inverted = render_8bit(values, center=center, width=width, function=function, invert=True)
    np.testing.assert_array_equal(inverted, 255 - normal)


@settings(max_examples=100, deadline=None)
@given(window=windows, seed=st.integers(0, 2**16))
def test_table_and_direct_paths_agree(window: tuple[float, float, VoiFunction], seed: int) -> None:
    center, width, function = window
    values = _values(np.int16, seed)[None, :]
    table = render_8bit(values, center=center, width=width, function=function)
    direct = render_8bit(values.astype(np.float64), center=center, width=width, function=function)
    assert np.abs(table.astype(int) - direct).max() <= 1  # float32 versus float64 at rounding edges
