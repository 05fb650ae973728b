"""Proposing the exact endplate corner near a reader's click.

The film around the click is blurred (`blur_mm`), then resampled into the corner's own frame for each
endplate direction worth trying: x runs along the endplate into the body, y across it into the body,
so the body fills the quadrant x > 0, y > 0 whatever the corner, the facing or the film's rotation.
In that frame a corner is where an edge that brightens toward +y (the endplate) meets an edge that
brightens toward +x (the wall). Each candidate is scored by its two arms of `arm_mm` (the weakest third
of each, so that bone texture, which supports an arm here and there, does not make a corner), with
gradients in units of the region's noise (median absolute gradient) clipped at `CLIP_NOISE_UNITS`: a
very dense cement cast counts no more than ordinary cortex, so the outermost edge, the endplate's, is
not outvoted. A candidate loses what a parallel brightening edge just outside it shows (the far side of
a cement cast or of a rib does not look like a corner from outside) and gains from the next vertebra's
endplate across the disc (a darkening edge further out). Edges of the other polarity score negative,
and a candidate far from the click loses a little (`PRIOR_WEIGHT`). The best candidate within
`search_radius_mm` of the click is refined on the unclipped gradients; the weaker of its arms gives the
confidence, and below `min_confidence` nothing is proposed. When the endplate's other corner is placed,
a candidate that no cortical edge joins to it is not proposed either.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import cv2
import numpy as np
import numpy.typing as npt

from kyphoangle.anatomy import LandmarkKey
from kyphoangle.geometry import Facing, Point
from kyphoangle.snapping.endplate import propose_endplate
from kyphoangle.snapping.film import SnapFilm
from kyphoangle.snapping.frame import (
    LocalRegion,
    Orientation,
    Vector,
    expected,
    gradients,
    inward,
    noise_level,
)
from kyphoangle.snapping.settings import CLIP_NOISE_UNITS, DEFAULT_SETTINGS, SnapSettings
from kyphoangle.vocabulary import Corner

REFINE_MM = 1.5
"""How far the final, unclipped refinement may move the chosen candidate."""
OUTSIDE_WEIGHT = 1.0
"""How much a parallel brightening edge just outside an arm counts against a candidate."""
DISC_WEIGHT = 0.5
"""How much the far side of the disc, seen outside the endplate arm, counts for a candidate."""
DISC_MM = (2.5, 12.0)
"""Where the next vertebra's endplate is looked for outside an endplate arm."""
PRIOR_WEIGHT = 2.0
"""Score (noise units) a candidate loses at the edge of the search region, for being far from the click."""

FloatMap = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class CornerProposal:
    """A refined position for one landmark, for the reader to accept or not."""

    key: str
    position: Point
    """Proposed `(column, row)`, DICOM image-relative pixels."""
    click: Point
    """Where the reader clicked."""
    confidence: float
    """From 0 (no support) to 1 (clear corner)."""
    shift_mm: float
    """Distance from the click to the proposal."""
    endplate_direction: tuple[float, float] = field(default=(1.0, 0.0))
    """Posterior-to-anterior unit vector (mm space) of the endplate as found."""


def confidence_of(weaker_arm: float) -> float:
    """Map the support of a corner's weaker arm (mean clipped gradient, noise units) to [0, 1].

    A straight edge has one arm only, so its weaker arm is near 0; a clear corner has both near
    `CLIP_NOISE_UNITS`.
    """
    return float(min(1.0, max(0.0, (weaker_arm - 1.0) / 2.0)))


class _Sums:
    """Running sums of a map along one axis, for the mean over any arm of every candidate at once."""

    def __init__(self, values: FloatMap, axis: int) -> None:
        self.axis = axis
        rows, columns = values.shape
        self.padded = np.zeros((rows + 1, columns) if axis == 0 else (rows, columns + 1))
        target = self.padded[1:] if axis == 0 else self.padded[:, 1:]
        np.cumsum(values, axis=axis, out=target)

    def mean(self, start: int, stop: int) -> FloatMap:
        """Mean of `values[k + start : k + stop]` along the axis for every k (NaN where it leaves the map)."""
        length = self.padded.shape[self.axis] - 1
        shape = (length, self.padded.shape[1]) if self.axis == 0 else (self.padded.shape[0], length)
        result = np.full(shape, np.nan)
        count = length - stop + 1
        if count > 0:
            if self.axis == 0:
                high, low = self.padded[stop : stop + count], self.padded[start : start + count]
                result[:count] = (high - low) / float(stop - start)
            else:
                high, low = self.padded[:, stop : stop + count], self.padded[:, start : start + count]
                result[:, :count] = (high - low) / float(stop - start)
        return result


def _arm_means(values: FloatMap, axis: int, start: int, stop: int) -> FloatMap:
    """Mean of `values[k + start : k + stop]` along `axis` for every k (NaN where the arm leaves the map)."""
    return _Sums(values, axis).mean(start, stop)


def _steady(values: FloatMap, axis: int, start: int, stop: int) -> FloatMap:
    """The weakest third of an arm: an edge supports all of it, bone texture rarely does."""
    sums = _Sums(values, axis)
    bounds = np.linspace(start, stop, 4).round().astype(int)
    thirds = [sums.mean(int(a), int(b)) for a, b in itertools.pairwise(bounds)]
    return np.asarray(np.minimum(np.minimum(thirds[0], thirds[1]), thirds[2]), dtype=np.float64)


def _outside_max(arm: FloatMap, axis: int, near: int, far: int) -> FloatMap:
    """Largest `arm` value (at least 0) found `near` to `far` samples before each position along `axis`."""
    filled = np.nan_to_num(arm, nan=0.0).astype(np.float32)
    width = far - near + 1
    # A dilation is a sliding maximum; anchored at the kernel's end it looks back only.
    kernel = np.ones((width, 1) if axis == 0 else (1, width), dtype=np.uint8)
    anchor = (0, width - 1) if axis == 0 else (width - 1, 0)
    widest = cv2.dilate(filled, kernel, anchor=anchor, borderType=cv2.BORDER_CONSTANT, borderValue=0.0)
    result = np.zeros(arm.shape)
    if axis == 0:
        result[near:] = widest[: arm.shape[0] - near]
    else:
        result[:, near:] = widest[:, : arm.shape[1] - near]
    return np.maximum(result, 0.0)


@dataclass(frozen=True, slots=True)
class _Grid:
    start_mm: float
    count: int
    step_mm: float

    def index(self, value_mm: float) -> float:
        return (value_mm - self.start_mm) / self.step_mm


def _parabola_offset(before: float, at: float, after: float) -> float:
    """Sub-sample offset of a peak from three samples around it (0 when flat or not a peak)."""
    curvature = before - 2.0 * at + after
    if not all(math.isfinite(v) for v in (before, at, after)) or curvature >= 0:
        return 0.0
    return float(np.clip(0.5 * (before - after) / curvature, -0.5, 0.5))


@dataclass(frozen=True, slots=True)
class _Best:
    score: float
    weaker_arm: float
    x_mm: float
    y_mm: float
    along: Vector
    across: Vector
    turn: float
    orientation: Orientation


@dataclass(frozen=True, slots=True)
class _Arms:
    """Per-candidate means along the arms (noise units): the support, and what lies outside it."""

    endplate: FloatMap
    wall: FloatMap
    endplate_brightening: FloatMap
    """Positive part only, for the parallel-edge penalty."""
    wall_brightening: FloatMap
    endplate_darkening: FloatMap
    """Negative part, sign flipped: where the next vertebra's endplate across the disc shows."""


def _arms(gx: FloatMap, gy: FloatMap, settings: SnapSettings, step_mm: float, middle: bool) -> _Arms:
    """Mean gradients along the endplate arm and the wall arm of every candidate.

    A middle point has one endplate arm centred on it and no wall (its wall maps are zero).
    """
    arm = max(2, round(settings.arm_mm / step_mm))
    brightening, darkening = np.maximum(gy, 0.0), np.maximum(-gy, 0.0)
    if middle:
        zero = np.zeros(gy.shape)

        def centred(values: FloatMap) -> FloatMap:
            means = np.roll(_arm_means(values, 1, 0, 2 * arm), arm, axis=1)
            means[:, :arm] = np.nan
            return means

        return _Arms(centred(gy), zero, centred(brightening), zero, centred(darkening))
    first = max(1, round(0.5 / step_mm))
    return _Arms(
        _steady(gy, 1, first, arm),
        _steady(gx, 0, first, arm),
        _arm_means(brightening, 1, first, arm),
        _arm_means(np.maximum(gx, 0.0), 0, first, arm),
        _arm_means(darkening, 1, first, arm),
    )


def _corner_scores(
    arms: _Arms, settings: SnapSettings, step_mm: float, middle: bool, penalty: bool = True
) -> FloatMap:
    """Score of every candidate: both arms' support, less a parallel edge just outside each arm, plus
    the far side of the disc (a darkening edge parallel to the endplate, `DISC_MM` outside it)."""
    scale = 2.0 if middle else 1.0
    if not penalty:
        return np.asarray(scale * (arms.endplate + arms.wall), dtype=np.float64)
    near, far = (max(1, round(v / step_mm)) for v in settings.outside_mm)
    outside = _outside_max(arms.endplate_brightening, 0, near, far)
    if not middle:
        outside += _outside_max(arms.wall_brightening, 1, near, far)
    disc_near, disc_far = (max(1, round(v / step_mm)) for v in DISC_MM)
    disc = _outside_max(arms.endplate_darkening, 0, disc_near, disc_far)
    score = arms.endplate + arms.wall - OUTSIDE_WEIGHT * outside + DISC_WEIGHT * disc
    return np.asarray(scale * score, dtype=np.float64)


def _refined(
    region: LocalRegion, origin: Vector, best: _Best, settings: SnapSettings, step: float, middle: bool
) -> tuple[float, float]:
    """The chosen candidate moved to the strongest unclipped edges within `REFINE_MM` of it, finely sampled.

    Clipping decides which corner wins but flattens the top of every clear edge, so the position
    within that plateau is taken from the gradients as they are.
    """
    arm = settings.arm_mm + 1.0
    low = -REFINE_MM - 1.0 - (arm if middle else 0.0)
    start = (best.x_mm + low, best.y_mm + low)
    count = math.ceil((REFINE_MM + arm - low) / step) + 1
    samples, inside = region.patch(origin, best.along, best.across, start, (count, count), step)
    gx, gy = gradients(samples, step)
    gx[~inside] = 0.0
    gy[~inside] = 0.0
    scores = _corner_scores(_arms(gx, gy, settings, step, middle), settings, step, middle, penalty=False)
    centre = round(-low / step)
    reach = max(1, round(REFINE_MM / step))
    window = np.full(scores.shape, False)
    columns = slice(centre, centre + 1) if middle else slice(centre - reach, centre + reach + 1)
    window[centre - reach : centre + reach + 1, columns] = True
    scores = np.where(window & np.isfinite(scores), scores, -np.inf)
    i, j = (int(v) for v in np.unravel_index(int(np.argmax(scores)), scores.shape))
    if not math.isfinite(float(scores[i, j])):
        return best.x_mm, best.y_mm
    x_mm, y_mm = start[0] + j * step, start[1] + i * step
    if 0 < j < count - 1 and not middle:
        x_mm += step * _parabola_offset(*(float(scores[i, j + d]) for d in (-1, 0, 1)))
    if 0 < i < count - 1:
        y_mm += step * _parabola_offset(*(float(scores[i + d, j]) for d in (-1, 0, 1)))
    return x_mm, y_mm


def _joined(
    film: SnapFilm,
    landmark: LandmarkKey,
    position: Point,
    placed: Mapping[str, Point],
    settings: SnapSettings,
) -> bool:
    """Whether a proposed corner is joined to the endplate's other corner, when placed, by a cortical edge.

    A corner found on another structure (a cast, a rib, the next vertebra) has no edge running to the
    other corner, so it is not proposed.
    """
    other = landmark.endplate.key(
        Corner.ANTERIOR if landmark.corner is Corner.POSTERIOR else Corner.POSTERIOR
    )
    if other not in placed:
        return True
    return (
        propose_endplate(film, str(landmark.endplate), {**placed, str(landmark): position}, settings=settings)
        is not None
    )


def propose_corner(
    film: SnapFilm,
    key: str,
    click: Point,
    placed: Mapping[str, Point] = MappingProxyType({}),
    *,
    facing: Facing | None = None,
    settings: SnapSettings = DEFAULT_SETTINGS,
) -> CornerProposal | None:
    """Propose the exact position of landmark `key` near `click`, or None when no clear corner is there.

    `placed` holds the reader's other points of this film (they tell the endplate's direction and which
    side is bone); `facing` helps only for the very first point of a film. Raises LandmarkError for an
    unknown key.
    """
    landmark = LandmarkKey.parse(key)
    if not (0.0 <= click.column <= film.columns and 0.0 <= click.row <= film.rows):
        return None
    middle = landmark.corner is Corner.MIDDLE
    pixel_mm = min(film.row_mm, film.col_mm)
    step = max(settings.search_step_mm, pixel_mm)
    fine_step = max(settings.min_step_mm, pixel_mm)
    radius = settings.search_radius_mm
    lower = -radius - settings.outside_mm[1] - 1.0
    upper = radius + settings.arm_mm + 1.0
    if middle:
        lower = min(lower, -radius - settings.arm_mm - 1.0)
    grid = _Grid(lower, math.ceil((upper - lower) / step) + 1, step)
    region = LocalRegion(film, click, math.hypot(lower, upper) + 1.0, settings.blur_mm)
    if region.empty:
        return None
    expectation = expected(landmark, click, placed, film.scale, facing)
    origin = film.scale.to_mm(click)
    centre = grid.index(0.0)
    ii, jj = np.meshgrid(np.arange(grid.count), np.arange(grid.count), indexing="ij")
    distance_mm = np.hypot(ii - centre, jj - centre) * step
    if middle:
        # A middle point keeps the reader's position along the endplate: only its depth is refined.
        reachable = (np.abs(jj - centre) * step <= 0.5 * step) & (distance_mm <= radius)
    else:
        reachable = distance_mm <= radius
    prior = PRIOR_WEIGHT * (distance_mm / radius) ** 2
    noise: list[float] = []

    def candidate(orientation: Orientation, turn: float) -> _Best | None:
        turned = orientation.turned(turn)
        if not expectation.plausible(turned):
            return None
        along, across = inward(landmark, turned)
        samples, inside = region.patch(origin, along, across, (lower, lower), (grid.count, grid.count), step)
        gx, gy = gradients(samples, step)
        if not noise:
            noise.append(noise_level((gx[inside], gy[inside]), film.gradient_floor))
        gx = np.clip(gx / noise[0], -CLIP_NOISE_UNITS, CLIP_NOISE_UNITS)
        gy = np.clip(gy / noise[0], -CLIP_NOISE_UNITS, CLIP_NOISE_UNITS)
        gx[~inside] = 0.0
        gy[~inside] = 0.0
        arms = _arms(gx, gy, settings, step, middle)
        scores = _corner_scores(arms, settings, step, middle) - prior
        scores[~reachable | ~inside | np.isnan(scores)] = -np.inf
        i, j = (int(v) for v in np.unravel_index(int(np.argmax(scores)), scores.shape))
        weaker = float(arms.endplate[i, j])
        if not middle:
            weaker = min(weaker, float(arms.wall[i, j]))
        return _Best(
            float(scores[i, j]), weaker, lower + j * step, lower + i * step, along, across, turn, orientation
        )

    # Every other direction first, then the two neighbours of the best: fast even for wide searches.
    angle_step = settings.angle_step_deg * max(1.0, expectation.spread_deg / 30.0)
    turns = np.arange(-expectation.spread_deg, expectation.spread_deg + 1e-9, 2.0 * angle_step)
    tried = [candidate(o, float(t)) for o in expectation.orientations for t in turns]
    best = max((c for c in tried if c is not None), key=lambda c: c.score, default=None)
    if best is not None:
        for turn in (best.turn - angle_step, best.turn + angle_step):
            if abs(turn) <= expectation.spread_deg + 1e-9:
                other = candidate(best.orientation, turn)
                if other is not None and other.score > best.score:
                    best = other
    if best is None or not math.isfinite(best.score):
        return None
    confidence = confidence_of(best.weaker_arm)
    if confidence < settings.min_confidence:
        return None
    x_mm, y_mm = _refined(region, origin, best, settings, fine_step, middle)
    point_mm = origin + x_mm * best.along + y_mm * best.across
    position = Point(float(point_mm[0] / film.col_mm), float(point_mm[1] / film.row_mm))
    if not middle and not _joined(film, landmark, position, placed, settings):
        return None
    anterior = -best.along if landmark.corner is Corner.ANTERIOR else best.along
    return CornerProposal(
        key=str(landmark),
        position=position,
        click=click,
        confidence=confidence,
        shift_mm=float(math.hypot(x_mm, y_mm)),
        endplate_direction=(float(anterior[0]), float(anterior[1])),
    )
