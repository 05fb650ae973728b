"""Measuring what snapping is worth: simulated reads of phantom films with and without accepting proposals.

Each film is a phantom (`kyphoangle.phantom`) with a cemented fracture, osteopenic bone, then made harder
the way real films are: extra blur, lower contrast, quantum-like noise and extra overlapping rib-like
arcs; it is written in one encoding (MONOCHROME1 on every other film) and read back through the normal
film loader. A simulated reader clicks every corner of the endplates the trial's angles need, each
click off the true corner by Gaussian noise of `sigma_mm` along rows and columns, cranial to caudal,
posterior corner first. Without snapping the clicks are the read. With snapping, each click is
replaced by the corner proposal when there is one, and each endplate by the endplate proposal when
there is one. The errors of the regional angle, the vertebral kyphosis of the fractured level and the
global curves against the film's exact landmarks are collected for both reads of the same clicks.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from pydicom import uid
from pydicom.uid import UID

from kyphoangle.anatomy import EndplateRef
from kyphoangle.dicom.reader import load_radiograph
from kyphoangle.dicom.writer import WRITABLE_TRANSFER_SYNTAXES, write_radiograph
from kyphoangle.geometry import Endplate, Facing, InconsistentEndplatesError, Point, Scale, signed_angle_deg
from kyphoangle.phantom import MAX_PIXEL_VALUE, Fracture, SpineModel, landmarks, render
from kyphoangle.protocol import regional_endplates
from kyphoangle.snapping.corner import propose_corner
from kyphoangle.snapping.endplate import propose_endplate
from kyphoangle.snapping.film import SnapFilm
from kyphoangle.vocabulary import EndplateSide, Vertebra

MEASURES = ("regional_angle", "vertebral_kyphosis", "thoracic_kyphosis", "lumbar_lordosis")
"""What the evaluation compares, in the protocol's names (the first two at the fractured level)."""

_KYPHOSIS = (
    EndplateRef(Vertebra.T4, EndplateSide.SUPERIOR),
    EndplateRef(Vertebra.T12, EndplateSide.INFERIOR),
)
_LORDOSIS = (EndplateRef(Vertebra.L1, EndplateSide.SUPERIOR), EndplateRef(Vertebra.S1, EndplateSide.SUPERIOR))
_CEMENTED_LEVELS = ("T11", "T12", "L1", "L2", "L3")


@dataclass(frozen=True, slots=True)
class Degradation:
    """How much harder than the plain phantom a film is made."""

    blur_mm: float = 0.5
    """Extra Gaussian unsharpness (focal spot, scatter, motion)."""
    contrast: float = 0.6
    """Share of the phantom's contrast kept (1 = unchanged)."""
    noise: float = 0.015
    """Quantum-like noise at mid grey, as a share of the full range (grows as the square root of signal)."""
    arcs: int = 6
    """Extra overlapping rib-like arcs drawn across the spine."""


@dataclass(frozen=True, slots=True)
class FilmCase:
    """One evaluation film: how it was made and its exact landmarks."""

    encoding: UID
    photometric: str
    model: SpineModel
    level: Vertebra
    """The cemented fracture whose regional angle is measured."""
    truth: Mapping[str, tuple[float, float]]
    film: SnapFilm = field(repr=False)


@dataclass(frozen=True, slots=True)
class ReadErrors:
    """Errors (degrees) of one simulated read, unsnapped and snapped, per measure; and proposal counts."""

    encoding: UID
    sigma_mm: float
    manual: Mapping[str, float]
    snapped: Mapping[str, float]
    corners_proposed: int
    corners_clicked: int
    lines_proposed: int
    lines_needed: int


def degrade(
    pixels: npt.NDArray[np.uint16],
    rng: np.random.Generator,
    spacing_mm: tuple[float, float],
    how: Degradation,
) -> npt.NDArray[np.uint16]:
    """The phantom film made harder: arcs added, blurred, contrast lowered, noise added (12 bits kept)."""
    row_mm, col_mm = spacing_mm
    density = pixels.astype(np.float32) / MAX_PIXEL_VALUE
    rows, columns = density.shape
    arcs = np.zeros_like(density)
    for _ in range(how.arcs):
        # A rib seen edge-on: a band of bone with a cortical line on each side.
        centre = (int(rng.uniform(0.2, 0.8) * columns), int(rng.uniform(0.1, 0.9) * rows))
        axes = (int(rng.uniform(80.0, 200.0) / col_mm), int(rng.uniform(30.0, 90.0) / row_mm))
        angle, start = float(rng.uniform(0.0, 180.0)), float(rng.uniform(0.0, 360.0))
        stop = start + float(rng.uniform(60.0, 160.0))
        cortex = max(1, round(1.0 / col_mm))
        band = max(2, round(float(rng.uniform(6.0, 10.0)) / col_mm))
        cv2.ellipse(arcs, centre, axes, angle, start, stop, (0.5,), band)
        for edge in (-1, 1):
            offset = (axes[0] + edge * band // 2, axes[1] + edge * band // 2)
            cv2.ellipse(arcs, centre, offset, angle, start, stop, (1.0,), cortex)
    density += float(rng.uniform(0.04, 0.07)) * cv2.GaussianBlur(
        arcs, (0, 0), 0.3 / col_mm, sigmaY=0.3 / row_mm
    )
    density = np.asarray(
        cv2.GaussianBlur(density, (0, 0), how.blur_mm / col_mm, sigmaY=how.blur_mm / row_mm), dtype=np.float32
    )
    mean = float(density[::8, ::8].mean())
    density = mean + how.contrast * (density - mean)
    density += (
        how.noise
        * np.sqrt(np.clip(density, 0.0, 1.0) / 0.5)
        * rng.standard_normal(density.shape, dtype=np.float32)
    )
    np.clip(density, 0.0, 1.0, out=density)
    return np.asarray(density * MAX_PIXEL_VALUE + 0.5, dtype=np.uint16)


def _spine(rng: np.random.Generator) -> tuple[SpineModel, Vertebra]:
    """A random patient with one cemented fracture (and sometimes an untreated one) and osteopenic bone."""
    level = Vertebra(_CEMENTED_LEVELS[int(rng.integers(len(_CEMENTED_LEVELS)))])
    fractures = [Fracture(level, float(rng.uniform(15.0, 30.0)), float(rng.uniform(10.0, 25.0)), 0.0, True)]
    other = Vertebra(("T7", "T8", "L4")[int(rng.integers(3))])
    if rng.random() < 0.5:
        fractures.append(Fracture(other, float(rng.uniform(20.0, 40.0)), float(rng.uniform(15.0, 30.0))))
    model = SpineModel(
        thoracic_kyphosis_deg=float(rng.uniform(30.0, 55.0)),
        lumbar_lordosis_deg=float(rng.uniform(-60.0, -35.0)),
        facing=Facing.RIGHT if rng.random() < 0.6 else Facing.LEFT,
        rotation_deg=float(rng.uniform(-6.0, 6.0)),
        size_factor=float(rng.uniform(0.9, 1.08)),
        bone_density=float(rng.uniform(0.65, 0.9)),
        fractures=tuple(fractures),
        offset_mm=(float(rng.uniform(-8.0, 8.0)), float(rng.uniform(-10.0, 10.0))),
        anatomy_seed=int(rng.integers(1 << 30)),
    )
    return model, level


def make_film(
    encoding: UID,
    seed: int,
    folder: Path,
    *,
    monochrome1: bool = False,
    rows: int = 2000,
    columns: int = 1000,
    spacing_mm: float = 0.25,
    degradation: Degradation = Degradation(),
) -> FilmCase:
    """Render, degrade, write in `encoding` and read back one evaluation film."""
    rng = np.random.default_rng(seed)
    model, level = _spine(rng)
    spacing = (spacing_mm, spacing_mm)
    pixels = degrade(
        render(model, rows=rows, columns=columns, spacing_mm=spacing, seed=seed), rng, spacing, degradation
    )
    photometric = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
    if monochrome1:
        pixels = np.asarray(MAX_PIXEL_VALUE - pixels, dtype=np.uint16)
    stored: npt.NDArray[np.unsignedinteger] = pixels
    if encoding == uid.JPEGBaseline8Bit:
        stored = np.asarray(pixels >> 4, dtype=np.uint8)
    path = write_radiograph(
        folder / f"film-{seed}.dcm", stored, transfer_syntax=encoding, photometric=photometric,
        pixel_spacing_mm=spacing,
    )  # fmt: skip
    film = SnapFilm.from_radiograph(load_radiograph(path))
    path.unlink()
    truth = landmarks(model, rows=rows, columns=columns, spacing_mm=spacing)
    return FilmCase(UID(encoding), photometric, model, level, truth, film)


def needed_endplates(level: Vertebra | str) -> list[EndplateRef]:
    """Endplates the evaluated measures need at a fractured level, cranial to caudal, each once."""
    level = Vertebra(level)
    refs = {*_KYPHOSIS, *_LORDOSIS, *regional_endplates(level)}
    refs |= {EndplateRef(level, EndplateSide.SUPERIOR), EndplateRef(level, EndplateSide.INFERIOR)}
    return sorted(refs, key=lambda ref: ref.sort_key)


def _angles(points: Mapping[str, Point], level: Vertebra, scale: Scale) -> dict[str, float]:
    def endplate(ref: EndplateRef) -> Endplate:
        posterior, anterior = ref.line_keys
        return Endplate(points[posterior], points[anterior])

    pairs = {
        "regional_angle": regional_endplates(level),
        "vertebral_kyphosis": (
            EndplateRef(level, EndplateSide.SUPERIOR),
            EndplateRef(level, EndplateSide.INFERIOR),
        ),
        "thoracic_kyphosis": _KYPHOSIS,
        "lumbar_lordosis": _LORDOSIS,
    }
    result = {}
    for name, (upper, lower) in pairs.items():
        try:
            result[name] = signed_angle_deg(endplate(upper), endplate(lower), scale)
        except InconsistentEndplatesError:
            result[name] = math.nan
    return result


def simulate_read(case: FilmCase, sigma_mm: float, rng: np.random.Generator) -> ReadErrors:
    """One simulated reader's clicks on a film, read without and with accepting every proposal."""
    film = case.film
    manual: dict[str, Point] = {}
    snapped: dict[str, Point] = {}
    corners = lines = needed_lines = 0
    for ref in needed_endplates(case.level):
        needed_lines += 1
        for key in ref.line_keys:
            column, row = case.truth[key]
            click = Point(
                column + float(rng.normal(0.0, sigma_mm)) / film.col_mm,
                row + float(rng.normal(0.0, sigma_mm)) / film.row_mm,
            )
            manual[key] = click
            proposal = propose_corner(film, key, click, snapped)
            snapped[key] = proposal.position if proposal is not None else click
            corners += proposal is not None
        line = propose_endplate(film, str(ref), snapped)
        if line is not None:
            lines += 1
            snapped[ref.line_keys[0]], snapped[ref.line_keys[1]] = line.posterior, line.anterior
    truth = {key: Point(*value) for key, value in case.truth.items()}
    scale = film.scale
    exact = _angles(truth, case.level, scale)
    without, with_ = _angles(manual, case.level, scale), _angles(snapped, case.level, scale)
    return ReadErrors(
        encoding=case.encoding,
        sigma_mm=sigma_mm,
        manual={name: without[name] - exact[name] for name in MEASURES},
        snapped={name: with_[name] - exact[name] for name in MEASURES},
        corners_proposed=corners,
        corners_clicked=2 * needed_lines,
        lines_proposed=lines,
        lines_needed=needed_lines,
    )


@dataclass(frozen=True, slots=True)
class Summary:
    """Error spread of one group of reads (one encoding, or all), for one click noise."""

    label: str
    sigma_mm: float
    reads: int
    sd_manual: Mapping[str, float]
    sd_snapped: Mapping[str, float]
    worst_manual: Mapping[str, float]
    worst_snapped: Mapping[str, float]
    corner_rate: float
    line_rate: float

    def ratio(self, measure: str) -> float:
        """Snapped over manual standard deviation of one measure's error."""
        manual = self.sd_manual[measure]
        return self.sd_snapped[measure] / manual if manual > 0 else math.nan


def _sd(values: Iterable[float]) -> float:
    array = np.array([v for v in values if math.isfinite(v)])
    return float(np.sqrt(np.mean(array**2))) if array.size else math.nan


def summarise(label: str, reads: Sequence[ReadErrors]) -> Summary:
    """Root-mean-square error (the SD around the truth) per measure, with and without snapping."""
    return Summary(
        label=label,
        sigma_mm=reads[0].sigma_mm,
        reads=len(reads),
        sd_manual={m: _sd(r.manual[m] for r in reads) for m in MEASURES},
        sd_snapped={m: _sd(r.snapped[m] for r in reads) for m in MEASURES},
        worst_manual={m: max(abs(r.manual[m]) for r in reads) for m in MEASURES},
        worst_snapped={m: max(abs(r.snapped[m]) for r in reads) for m in MEASURES},
        corner_rate=sum(r.corners_proposed for r in reads) / max(1, sum(r.corners_clicked for r in reads)),
        line_rate=sum(r.lines_proposed for r in reads) / max(1, sum(r.lines_needed for r in reads)),
    )


def evaluate(
    *,
    encodings: Sequence[UID] = WRITABLE_TRANSFER_SYNTAXES,
    films_per_encoding: int = 4,
    reads_per_film: int = 5,
    sigmas_mm: Sequence[float] = (1.0, 2.0),
    seed: int = 17,
    degradation: Degradation = Degradation(),
) -> list[ReadErrors]:
    """Simulated reads of every film of every encoding at every click noise (same clicks both ways)."""
    results: list[ReadErrors] = []
    with tempfile.TemporaryDirectory(prefix="kyphoangle-snapping-") as folder:
        for e, encoding in enumerate(encodings):
            for f in range(films_per_encoding):
                film_seed = seed * 1000 + e * 50 + f
                case = make_film(
                    UID(encoding), film_seed, Path(folder), monochrome1=f % 2 == 1, degradation=degradation
                )
                for sigma in sigmas_mm:
                    rng = np.random.default_rng([film_seed, int(sigma * 100)])
                    results.extend(simulate_read(case, sigma, rng) for _ in range(reads_per_film))
    return results


_LABELS = {
    "regional_angle": "regional angle",
    "vertebral_kyphosis": "vertebral kyphosis",
    "thoracic_kyphosis": "thoracic kyphosis",
    "lumbar_lordosis": "lumbar lordosis",
}

GOAL_RATIO = 0.5
"""The goal: snapping at least halves the spread of the regional-angle error at 2 mm click noise."""


def summaries(reads: Sequence[ReadErrors]) -> list[Summary]:
    """One summary per click noise and encoding, then one per click noise over all encodings."""
    result = []
    for sigma in sorted({r.sigma_mm for r in reads}):
        at_sigma = [r for r in reads if r.sigma_mm == sigma]
        encodings = list(dict.fromkeys(r.encoding for r in at_sigma))
        for encoding in encodings:
            result.append(summarise(encoding.name, [r for r in at_sigma if r.encoding == encoding]))
        result.append(summarise("all encodings", at_sigma))
    return result


def goal_met(table: Sequence[Summary]) -> bool:
    """Regional-angle spread halved at 2 mm over all encodings, and never worse than manual anywhere."""
    halved = all(
        s.ratio("regional_angle") <= GOAL_RATIO
        for s in table
        if s.sigma_mm == 2.0 and s.label == "all encodings"
    )
    never_worse = all(s.ratio(m) <= 1.0 for s in table for m in MEASURES if math.isfinite(s.ratio(m)))
    return halved and never_worse


def markdown(table: Sequence[Summary]) -> str:
    """The evaluation as Markdown tables: error spread (degrees) without and with snapping, by click noise."""
    lines: list[str] = []
    for sigma in sorted({s.sigma_mm for s in table}):
        lines += [
            f"**Click noise sigma = {sigma:g} mm** (root-mean-square error against the true angle, degrees:"
            " clicks only / with snapping, and their ratio)",
            "",
            "| encoding | reads | "
            + " | ".join(_LABELS[m] for m in MEASURES)
            + " | corners proposed | lines proposed |",
            "|---|---:|" + "---:|" * len(MEASURES) + "---:|---:|",
        ]
        for s in (s for s in table if s.sigma_mm == sigma):
            cells = [f"{s.sd_manual[m]:.2f} / {s.sd_snapped[m]:.2f} ({s.ratio(m):.2f})" for m in MEASURES]
            name = f"**{s.label}**" if s.label == "all encodings" else s.label
            lines.append(
                f"| {name} | {s.reads} | "
                + " | ".join(cells)
                + f" | {100 * s.corner_rate:.0f} % | {100 * s.line_rate:.0f} % |"
            )
        worst = [s for s in table if s.sigma_mm == sigma and s.label == "all encodings"]
        if worst:
            s = worst[0]
            lines += [
                "",
                "Largest single error, clicks only / with snapping: "
                + "; ".join(
                    f"{_LABELS[m]} {s.worst_manual[m]:.1f} / {s.worst_snapped[m]:.1f} deg" for m in MEASURES
                )
                + ".",
                "",
            ]
    return "\n".join(lines)
