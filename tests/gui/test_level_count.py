"""Counting the levels from S1 up: on a synthetic spine of any size, slope and curve, the count names
each body as placed, finds a body named one level off, and never needs Qt."""

from __future__ import annotations

import math
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from app.level_count import count_levels
from app.prediction import DISC_TO_BODY
from kyphoangle.vocabulary import Vertebra

Position = tuple[float, float]


def spine(
    height: float, width: float, tilt_deg: float, bend_deg: float, origin: Position = (400.0, 2000.0)
) -> dict[str, Position]:
    """Every endplate T4 to S1 of a spine drawn from S1 up: bodies `height` tall and `width` wide,
    discs `DISC_TO_BODY` of a body, the axis leaning by `tilt_deg` and turning by `bend_deg` per
    level (a smooth curve), anterior to the right."""
    points: dict[str, Position] = {}
    x, y = origin
    angle = math.radians(tilt_deg)
    levels = [v for v in Vertebra if v.order >= Vertebra.T4.order][::-1]  # S1 first
    for vertebra in levels:
        up = (math.sin(angle), -math.cos(angle))  # along the spine, cranially
        across = (-up[1], up[0])  # posterior to anterior

        ends: list[tuple[str, float, float]] = []
        if vertebra is Vertebra.S1:
            ends.append(("S1.superior", x, y))
        else:
            ends.append((f"{vertebra}.inferior", x, y))
            x, y = x + up[0] * height, y + up[1] * height
            ends.append((f"{vertebra}.superior", x, y))
        for name, cx, cy in ends:
            points[f"{name}.posterior"] = (cx - across[0] * width / 2, cy - across[1] * width / 2)
            points[f"{name}.anterior"] = (cx + across[0] * width / 2, cy + across[1] * width / 2)
        angle += math.radians(bend_deg)
        x, y = x + up[0] * height * DISC_TO_BODY, y + up[1] * height * DISC_TO_BODY
    return points


def only(points: dict[str, Position], *names: str) -> dict[str, Position]:
    return {k: v for k, v in points.items() if k.split(".")[0] in names}


def centre(points: dict[str, Position], vertebra: str) -> Position:
    corners = [v for k, v in points.items() if k.startswith(f"{vertebra}.")]
    return sum(c[0] for c in corners) / len(corners), sum(c[1] for c in corners) / len(corners)


geometry = {
    "height": st.floats(min_value=30.0, max_value=200.0),
    "width": st.floats(min_value=1.0, max_value=1.6),
    "tilt_deg": st.floats(min_value=-30.0, max_value=30.0),
    "bend_deg": st.floats(min_value=-4.0, max_value=4.0),
}


@settings(max_examples=60, deadline=None)
@given(**geometry)
def test_the_count_from_s1_puts_each_level_on_its_body(
    height: float, width: float, tilt_deg: float, bend_deg: float
) -> None:
    truth = spine(height, width * height, tilt_deg, bend_deg)
    placed = only(truth, "S1", "L5", "L4")
    count = count_levels(placed)
    assert count is not None and count.start is Vertebra.S1
    assert count.levels[0].text == "count from S1"
    counted = {level.vertebra: level for level in count.levels[1:]}
    assert list(counted) == [Vertebra.L5, Vertebra.L4, Vertebra.L3]  # one level past the last placed
    for vertebra, level in counted.items():
        # placed bodies exactly, the next one within a few percent of a level
        tolerance = 1e-6 if vertebra is not Vertebra.L3 else 0.15 * height
        assert math.dist(level.centre, centre(truth, str(vertebra))) <= tolerance, vertebra
        assert not level.disagrees and level.text == f"{vertebra}?"
        (a, b) = level.tick  # across the spine, through the centre
        assert math.dist(((a[0] + b[0]) / 2, (a[1] + b[1]) / 2), level.centre) < 1e-6


@settings(max_examples=60, deadline=None)
@given(**geometry)
def test_a_body_named_one_level_off_is_found(
    height: float, width: float, tilt_deg: float, bend_deg: float
) -> None:
    truth = spine(height, width * height, tilt_deg, bend_deg)
    placed = only(truth, "S1", "L5", "L4", "L3")
    # The reader skipped L2 and called T12 "L1" and L1 "L2": the names go one level too low.
    for real, given_name in (("T12", "L1"), ("L1", "L2")):
        for key, value in only(truth, real).items():
            placed[given_name + key[len(real) :]] = value
    count = count_levels(placed)
    assert count is not None
    texts = {level.vertebra: level.text for level in count.levels}
    assert texts[Vertebra.L1] == "L1? placed as L2" and texts[Vertebra.T12] == "T12? placed as L1"
    assert texts[Vertebra.L3] == "L3?"


@given(**geometry, names=st.sets(st.sampled_from([v.value for v in Vertebra if v.order >= 3]), max_size=14))
def test_any_placement_counts_upward_in_order_or_not_at_all(
    height: float, width: float, tilt_deg: float, bend_deg: float, names: set[str]
) -> None:
    count = count_levels(only(spine(height, width * height, tilt_deg, bend_deg), *names))
    if len(names - {"S1"}) == 0:
        assert count is None
        return
    assert count is not None
    orders = [level.vertebra.order for level in count.levels[1:]]
    assert orders == sorted(orders, reverse=True) and len(set(orders)) == len(orders)
    assert all(math.isfinite(c) for level in count.levels for c in level.centre)


def test_fewer_than_two_endplates_count_nothing() -> None:
    truth = spine(80.0, 100.0, 0.0, 0.0)
    assert count_levels({}) is None
    assert count_levels(only(truth, "S1")) is None


def test_the_count_needs_no_qt() -> None:
    code = "import sys, app.level_count; sys.exit(any(m.startswith('PySide6') for m in sys.modules))"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
