"""Where the next landmark should be, from the ones placed already (pure Python, no Qt).

Used only to move the view: the reader still clicks every point. A corner of an endplate that has
another corner placed is that corner plus the nearest placed endplate's posterior-to-anterior vector;
an endplate with nothing placed is extrapolated along the spine from the two nearest placed endplates
above it (or below), stepping one vertebral body height per body and 0.3 of it per disc: the further
the jump, the less sure, so the view that follows shows more around it. Nothing is predicted from
fewer than two placed endplates.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from kyphoangle.anatomy import EndplateRef, LandmarkKey
from kyphoangle.vocabulary import Corner, EndplateSide, Vertebra

Position = tuple[float, float]

DISC_TO_BODY = 0.3
"""Height of a disc as a fraction of the neighbouring body's height (adult thoracolumbar spine)."""


def _index(ref: EndplateRef) -> int:
    order, side = ref.sort_key
    return 2 * order + side


def _gap(upper: int, lower: int, body: float) -> float:
    """Distance along the spine from endplate index `upper` to `lower` (bodies and discs between)."""
    total = 0.0
    for index in range(min(upper, lower), max(upper, lower)):
        total += body if index % 2 == 0 else DISC_TO_BODY * body
    return total if lower >= upper else -total


def _endplates(points: Mapping[str, Position]) -> dict[EndplateRef, dict[Corner, Position]]:
    found: dict[EndplateRef, dict[Corner, Position]] = {}
    for key, position in points.items():
        parsed = LandmarkKey.parse(key)
        found.setdefault(parsed.endplate, {})[parsed.corner] = position
    return found


def _centre(corners: Mapping[Corner, Position]) -> Position | None:
    if Corner.POSTERIOR in corners and Corner.ANTERIOR in corners:
        p, a = corners[Corner.POSTERIOR], corners[Corner.ANTERIOR]
        return (p[0] + a[0]) / 2.0, (p[1] + a[1]) / 2.0
    return None


def body_height(points: Mapping[str, Position]) -> float | None:
    """The median posterior height of the vertebrae with both endplates placed (image pixels)."""
    endplates = _endplates(points)
    heights = []
    for ref, corners in endplates.items():
        if ref.side is not EndplateSide.SUPERIOR or ref.vertebra is Vertebra.S1:
            continue
        if Corner.POSTERIOR not in corners:
            continue
        below = endplates.get(EndplateRef(ref.vertebra, EndplateSide.INFERIOR), {})
        if Corner.POSTERIOR in below:
            heights.append(math.dist(corners[Corner.POSTERIOR], below[Corner.POSTERIOR]))
    if not heights:
        return None
    heights.sort()
    return heights[len(heights) // 2]


def predict(key: str, points: Mapping[str, Position]) -> Position | None:
    """The expected position of landmark `key`, or None when too little is placed to tell."""
    target = LandmarkKey.parse(key)
    endplates = _endplates(points)
    whole = {ref: c for ref, c in endplates.items() if _centre(c) is not None}
    own = endplates.get(target.endplate, {})
    nearest = min(whole, key=lambda r: abs(_index(r) - _index(target.endplate)), default=None)
    if own and nearest is not None:
        n = whole[nearest]
        vector = (
            n[Corner.ANTERIOR][0] - n[Corner.POSTERIOR][0],
            n[Corner.ANTERIOR][1] - n[Corner.POSTERIOR][1],
        )
        fraction = {Corner.POSTERIOR: 0.0, Corner.MIDDLE: 0.5, Corner.ANTERIOR: 1.0}
        corner, at = next(iter(own.items()))
        shift = fraction[target.corner] - fraction[corner]
        return at[0] + shift * vector[0], at[1] + shift * vector[1]
    if len(whole) < 2:
        return None
    index = _index(target.endplate)
    above = sorted((r for r in whole if _index(r) < index), key=_index)
    below = sorted((r for r in whole if _index(r) > index), key=_index)
    pair = above[-2:] if len(above) >= 2 else below[:2] if len(below) >= 2 else above[-1:] + below[:1]
    if len(pair) < 2:
        return None
    first, second = sorted(pair, key=_index)
    c1, c2 = _centre(whole[first]), _centre(whole[second])
    assert c1 is not None and c2 is not None
    i1, i2 = _index(first), _index(second)
    body = body_height(points)
    if body is None:
        body = math.dist(c1, c2) / max(abs(_gap(i1, i2, 1.0)), 1e-9)
    span = math.dist(c1, c2) or 1.0
    direction = ((c2[0] - c1[0]) / span, (c2[1] - c1[1]) / span)
    anchor, anchor_index = (c2, i2) if abs(index - i2) <= abs(index - i1) else (c1, i1)
    along = _gap(anchor_index, index, body)
    centre = (anchor[0] + direction[0] * along, anchor[1] + direction[1] * along)
    n = whole[first if anchor_index == i1 else second]
    half = (
        (n[Corner.ANTERIOR][0] - n[Corner.POSTERIOR][0]) / 2,
        (n[Corner.ANTERIOR][1] - n[Corner.POSTERIOR][1]) / 2,
    )
    sign = {Corner.POSTERIOR: -1.0, Corner.MIDDLE: 0.0, Corner.ANTERIOR: 1.0}[target.corner]
    return centre[0] + sign * half[0], centre[1] + sign * half[1]
