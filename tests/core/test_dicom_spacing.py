"""kyphoangle.spacing: the PixelSpacing record and its sources (read from files in test_dicom_reader)."""

from __future__ import annotations

import math

import pytest

from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import SpacingSource


def test_sources_are_the_stored_strings() -> None:
    assert [source.value for source in SpacingSource] == [
        "pixel_spacing",
        "imager_pixel_spacing",
        "imager_pixel_spacing_ermf",
        "manual",
        "none",
    ]
    assert SpacingSource("manual") is SpacingSource.MANUAL
    assert f"{SpacingSource.NONE}" == "none"


def test_constructors_and_properties() -> None:
    none = PixelSpacing.none()
    assert (none.row_mm, none.col_mm, none.source) == (None, None, SpacingSource.NONE)
    assert not none.is_known and none.row_to_col_ratio is None
    manual = PixelSpacing.manual(0.2, 0.1)
    assert manual.source is SpacingSource.MANUAL and manual.is_known
    assert manual.row_to_col_ratio == pytest.approx(2.0)
    assert PixelSpacing(1, 2, "pixel_spacing").source is SpacingSource.PIXEL_SPACING  # type: ignore[arg-type]
    assert isinstance(PixelSpacing(1, 2, SpacingSource.PIXEL_SPACING).row_mm, float)


@pytest.mark.parametrize(
    ("row_mm", "col_mm", "source"),
    [
        (0.0, 0.1, SpacingSource.PIXEL_SPACING),
        (-0.1, 0.1, SpacingSource.MANUAL),
        (math.nan, 0.1, SpacingSource.IMAGER_PIXEL_SPACING),
        (math.inf, 0.1, SpacingSource.IMAGER_PIXEL_SPACING),
        (None, 0.1, SpacingSource.PIXEL_SPACING),
        (0.1, 0.1, SpacingSource.NONE),
    ],
)
def test_invalid_spacings_are_refused(row_mm: float | None, col_mm: float, source: SpacingSource) -> None:
    with pytest.raises(ValueError):
        PixelSpacing(row_mm, col_mm, source)


def test_frozen_and_hashable() -> None:
    spacing = PixelSpacing.manual(0.1, 0.1)
    with pytest.raises(AttributeError):
        spacing.row_mm = 0.2  # type: ignore[misc]
    assert {spacing, PixelSpacing.manual(0.1, 0.1)} == {spacing}
