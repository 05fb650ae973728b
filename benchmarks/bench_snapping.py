"""Benchmark of endplate snapping on a full-size film, against the goal of 30 ms per proposal.

Run: `.venv/bin/python benchmarks/bench_snapping.py [--quick]`. A 4000 x 2000 phantom film (0.125 mm
pixels, a cemented fracture) is drawn once, as MONOCHROME2 and as MONOCHROME1. For every endplate the
trial's angles need, a click 2 mm off each true corner is proposed in the order a reader places them
(the first corner of a film with nothing placed yet, the searches that follow with the points before
them), then the endplate line. Prints the median and the slowest proposal of each kind, as ratios to
the goal. Times are processor time of this process (OpenCV held to one thread), so that other work on a
shared machine does not inflate them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kyphoangle.geometry import Point
from kyphoangle.phantom import MAX_PIXEL_VALUE, Fracture, SpineModel, landmarks, render
from kyphoangle.snapping import SnapFilm, propose_corner, propose_endplate
from kyphoangle.snapping.evaluation import needed_endplates

GOAL_MS = 30.0
"""A proposal is shown at most this long after the click."""
ROWS, COLUMNS, SPACING_MM = 4000, 2000, 0.125


def main() -> int:
    """Time every proposal of simulated reads; exit 1 when the slowest corner proposal misses the goal."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one read of one film")
    args = parser.parse_args()
    cv2.setNumThreads(1)
    level = "L1"
    model = SpineModel(fractures=(Fracture(level, 30.0, 25.0, 0.0, cemented=True),), bone_density=0.8)
    spacing = (SPACING_MM, SPACING_MM)
    pixels = render(model, rows=ROWS, columns=COLUMNS, spacing_mm=spacing, seed=1)
    truth = landmarks(model, rows=ROWS, columns=COLUMNS, spacing_mm=spacing)
    films = {"MONOCHROME2": SnapFilm(pixels, SPACING_MM, SPACING_MM)}
    if not args.quick:
        films["MONOCHROME1"] = SnapFilm(MAX_PIXEL_VALUE - pixels, SPACING_MM, SPACING_MM, bone_is_dark=True)
    # One proposal before timing: OpenCV and numpy set themselves up on their first call.
    propose_corner(films["MONOCHROME2"], "L3.superior.anterior", Point(*truth["L3.superior.anterior"]))
    first: list[float] = []
    following: list[float] = []
    lines: list[float] = []
    rng = np.random.default_rng(17)
    for film in films.values():
        for _ in range(1 if args.quick else 3):
            placed: dict[str, Point] = {}
            for ref in needed_endplates(level):
                for key in ref.line_keys:
                    angle = rng.uniform(0.0, 2.0 * np.pi)
                    column, row = truth[key]
                    click = Point(
                        column + 2.0 * np.cos(angle) / SPACING_MM, row + 2.0 * np.sin(angle) / SPACING_MM
                    )
                    started = time.process_time()
                    proposal = propose_corner(film, key, click, placed)
                    (following if placed else first).append(1000.0 * (time.process_time() - started))
                    placed[key] = proposal.position if proposal else click
                started = time.process_time()
                propose_endplate(film, str(ref), placed)
                lines.append(1000.0 * (time.process_time() - started))
    print(f"{ROWS} x {COLUMNS} film, goal {GOAL_MS:.0f} ms per proposal")
    header = f"{'proposal (processor time)':<36}{'count':>6}{'median ms':>11}{'slowest ms':>12}"
    print(f"{header}{'slowest/goal':>14}")
    for name, times in (
        ("first corner (nothing placed)", first),
        ("corner with points placed", following),
        ("endplate line", lines),
    ):
        print(
            f"{name:<36}{len(times):>6}{statistics.median(times):>11.1f}{max(times):>12.1f}"
            f"{max(times) / GOAL_MS:>14.2f}"
        )
    return 0 if max(first + following + lines) <= GOAL_MS else 1


if __name__ == "__main__":
    sys.exit(main())
