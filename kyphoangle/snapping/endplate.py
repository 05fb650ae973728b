"""Proposing an endplate line fitted to the cortical edge between the two corners a reader placed.

The strip between the corners is resampled with x along the endplate (posterior to anterior) and y
across it into the body. In each column the edge is the outermost gradient peak, brightening into the
body, that reaches half of the column's strongest (clipped) peak: the endplate, not a cement cast or
compacted bone beneath it. A quadratic (the endplate's concavity) is fitted to those edge points with
outliers trimmed; the proposed line is its chord at the two corners' positions along the endplate, so
each corner moves only across the endplate, and the middle point is the curve halfway.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.geometry import Point
from kyphoangle.snapping.film import SnapFilm
from kyphoangle.snapping.frame import LocalRegion, Vector, expected, gradients, inward, noise_level, unit
from kyphoangle.snapping.settings import CLIP_NOISE_UNITS, DEFAULT_SETTINGS, SnapSettings
from kyphoangle.vocabulary import Corner

_SPAN = (0.1, 0.9)
"""Share of the endplate, from its posterior corner, whose edge is fitted (corners are rounded)."""
_HALF_WIDTH_MM = 7.0
"""How far across the reader's line the edge is looked for."""
_MIN_LENGTH_MM = 8.0
"""Shorter endplates are not fitted."""
_TRIM_MM = 0.5
"""Edge points further than this (or three robust spreads) from the fitted curve are dropped."""
MIN_EDGE_SHARE = 0.8
"""Share of the fitted span whose edge must agree with the curve for a line to be proposed."""
MAX_CORNER_MOVE_MM = 8.0
"""A line that would move a corner further than this across the endplate is not this endplate's edge."""
MAX_RESIDUAL_MM = 0.6
"""A wider robust spread of the edge around the fitted curve means the strip holds more than one edge."""
_MAX_CONVEXITY_MM = 1.0
"""How far the middle of an endplate may bulge outward past its chord (concave is the rule)."""


@dataclass(frozen=True, slots=True)
class EndplateProposal:
    """A refined endplate line (its two corners) and middle point, for the reader to accept or not."""

    endplate: str
    posterior: Point
    anterior: Point
    middle: Point
    confidence: float
    """Share of the endplate with a clear edge that agrees with the fitted curve, 0 to 1."""
    residual_mm: float
    """Robust spread of the edge points around the curve."""


def _edge_rows(
    gy: npt.NDArray[np.float64], step_mm: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Sub-sample row of the outermost strong edge in each column, and whether the column has one."""
    _rows, columns = gy.shape
    found = np.zeros(columns, dtype=bool)
    position = np.zeros(columns)
    # The first sample of a plateau counts: a clipped edge merged with a cement cast's is flat on top.
    peak = (gy[1:-1] > gy[:-2]) & (gy[1:-1] >= gy[2:])
    strongest = gy.max(axis=0)
    for j in range(columns):
        threshold = max(0.5 * strongest[j], 1.5)
        candidates = np.flatnonzero(peak[:, j] & (gy[1:-1, j] >= threshold)) + 1
        if candidates.size == 0:
            continue
        # Outermost, but past the next vertebra's endplate across the disc (a strong darkening edge
        # before the strongest brightening one): its inner cortex must not be taken for this endplate.
        darkening = np.flatnonzero(gy[: int(np.argmax(gy[:, j])), j] <= -threshold)
        if darkening.size:
            candidates = candidates[candidates > darkening[-1]]
            if candidates.size == 0:
                continue
        i = int(candidates[0])
        before, at, after = gy[i - 1, j], gy[i, j], gy[i + 1, j]
        curvature = before - 2.0 * at + after
        offset = 0.5 * (before - after) / curvature if curvature < 0 else 0.0
        position[j] = i + float(np.clip(offset, -0.5, 0.5))
        found[j] = True
    return position, found


def _fit(
    x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_], float]:
    """Quadratic through the points with outliers trimmed: coefficients, inliers, robust residual (mm)."""
    keep = np.ones(x.size, dtype=bool)
    coefficients = np.zeros(3)
    spread = math.inf
    for _ in range(4):
        if keep.sum() < 6:
            break
        coefficients = np.polyfit(x[keep], y[keep], 2)
        residual = np.abs(y - np.polyval(coefficients, x))
        spread = 1.4826 * float(np.median(residual[keep]))
        keep = residual <= max(_TRIM_MM, 3.0 * spread)
    return coefficients, keep, spread


@dataclass(frozen=True, slots=True)
class _Fit:
    """The edge fitted in the strip from `start` (mm) along `along`, offsets toward `across`."""

    start: Vector
    along: Vector
    across: Vector
    length_mm: float
    coefficients: npt.NDArray[np.float64]
    share: float
    residual_mm: float

    def at(self, x_mm: float) -> Vector:
        """The fitted edge at `x_mm` along the strip, in film millimetres."""
        return self.start + x_mm * self.along + float(np.polyval(self.coefficients, x_mm)) * self.across


def _fit_strip(
    film: SnapFilm, start: Vector, end: Vector, inward_across: Vector, settings: SnapSettings
) -> _Fit | None:
    """Fit the endplate's edge in the strip between two points (`inward_across` points into the body)."""
    length = float(np.hypot(*(end - start)))
    along = unit(end - start)
    across = np.array([-along[1], along[0]])
    if float(across @ inward_across) < 0:
        across = -across
    step = max(settings.min_step_mm, min(film.row_mm, film.col_mm))
    middle_mm = (start + end) / 2.0
    centre = Point(float(middle_mm[0] / film.col_mm), float(middle_mm[1] / film.row_mm))
    region = LocalRegion(film, centre, math.hypot(length / 2.0, _HALF_WIDTH_MM) + 2.0, settings.blur_mm)
    if region.empty:
        return None
    columns = math.ceil(length / step) + 1
    rows = math.ceil(2.0 * _HALF_WIDTH_MM / step) + 1
    samples, inside = region.patch(start, along, across, (0.0, -_HALF_WIDTH_MM), (rows, columns), step)
    _, gy = gradients(samples, step)
    if not inside.any():
        return None
    gy = np.clip(gy / noise_level((gy[inside],), film.gradient_floor), -CLIP_NOISE_UNITS, CLIP_NOISE_UNITS)
    gy[~inside] = 0.0
    x_mm = np.arange(columns, dtype=np.float64) * step
    span = (x_mm >= _SPAN[0] * length) & (x_mm <= _SPAN[1] * length)
    edge_rows, found = _edge_rows(gy, step)
    usable = span & found
    if usable.sum() < max(6, 0.3 * span.sum()):
        return None
    y_mm = np.asarray(edge_rows * step - _HALF_WIDTH_MM, dtype=np.float64)
    coefficients, inliers, residual = _fit(x_mm[usable], y_mm[usable])
    share = float(inliers.sum()) / float(span.sum())
    return _Fit(start, along, across, length, coefficients, share, residual)


def _acceptable(fit: _Fit | None, settings: SnapSettings) -> bool:
    if fit is None or fit.share < max(MIN_EDGE_SHARE, settings.min_confidence):
        return False
    ends = np.polyval(fit.coefficients, [0.0, fit.length_mm / 2.0, fit.length_mm])
    dip_mm = float(ends[1] - (ends[0] + ends[2]) / 2.0)
    return fit.residual_mm <= MAX_RESIDUAL_MM and -_MAX_CONVEXITY_MM <= dip_mm <= 0.3 * fit.length_mm


def propose_endplate(
    film: SnapFilm,
    endplate: str,
    placed: Mapping[str, Point],
    *,
    settings: SnapSettings = DEFAULT_SETTINGS,
) -> EndplateProposal | None:
    """Propose the line of `endplate` (e.g. `L1.superior`) from its two placed corners, or None.

    `placed` must hold both corners of the endplate; other points help tell which side is caudal.
    When the reader's line is far off the edge, the strip is laid again along the first fit.
    """
    ref = EndplateRef.parse(endplate)
    posterior_key, anterior_key = ref.line_keys
    if posterior_key not in placed or anterior_key not in placed:
        return None
    scale = film.scale
    posterior_mm, anterior_mm = scale.to_mm(placed[posterior_key]), scale.to_mm(placed[anterior_key])
    if float(np.hypot(*(anterior_mm - posterior_mm))) < _MIN_LENGTH_MM:
        return None
    key = LandmarkKey(ref, Corner.POSTERIOR)
    _, inward_across = inward(key, expected(key, placed[posterior_key], placed, scale).orientations[0])
    fit = _fit_strip(film, posterior_mm, anterior_mm, inward_across, settings)
    if fit is not None and (
        not _acceptable(fit, settings)
        or max(
            abs(fit.at(0.0) @ fit.across - posterior_mm @ fit.across),
            abs(fit.at(fit.length_mm) @ fit.across - anterior_mm @ fit.across),
        )
        > 1.5
    ):
        again = _fit_strip(film, fit.at(0.0), fit.at(fit.length_mm), inward_across, settings)
        if _acceptable(again, settings):
            fit = again
    if fit is None or not _acceptable(fit, settings):
        return None
    ends = (fit.at(0.0), fit.at(fit.length_mm / 2.0), fit.at(fit.length_mm))
    moved = max(float(np.hypot(*(ends[0] - posterior_mm))), float(np.hypot(*(ends[2] - anterior_mm))))
    if moved > MAX_CORNER_MOVE_MM:
        return None

    def point(p: Vector) -> Point:
        return Point(float(p[0] / film.col_mm), float(p[1] / film.row_mm))

    return EndplateProposal(
        endplate=str(ref),
        posterior=point(ends[0]),
        anterior=point(ends[2]),
        middle=point(ends[1]),
        confidence=min(1.0, fit.share),
        residual_mm=fit.residual_mm,
    )
