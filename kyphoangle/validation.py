"""The tool's own error, measured: phantom truth through every film encoding, and reader click noise.

Two questions a statistical analysis plan needs answered, both on phantoms whose angles are known
exactly (`kyphoangle.phantom`):

1. **Does the arithmetic lose anything?** The demo study's films (every lossless transfer syntax we
   write, calibrated Pixel Spacing and detector Imager Pixel Spacing with a magnification factor,
   MONOCHROME1 and 2, both facings, rotated films) are read back; their ground-truth landmarks, after a
   round trip through the landmark file, are measured with the spacing read from each file and
   compared with the designed angles and heights. Non-square pixels (anisotropic spacing, or only a
   Pixel Aspect Ratio) are checked the same way. The largest error must stay within
   `MAX_ANGLE_ERROR_DEG`.
2. **How much does landmark placement cost?** Gaussian noise of SD sigma (mm, in both directions) is
   added to every landmark of phantom spines, and the SD of every angle over many repetitions is the
   measurement error attributable to clicking. It is compared with first-order error propagation:
   an endplate of length L whose two corners move by sigma turns by about sqrt(2) sigma / L radians,
   and an angle between two endplates adds the two variances.
"""

from __future__ import annotations

import math
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kyphoangle.agreement import icc_2_1, two_way_anova
from kyphoangle.anatomy import Corner, EndplateRef, EndplateSide, Vertebra
from kyphoangle.demo import FilmSize, generate_demo_films
from kyphoangle.dicom.reader import load_radiograph, read_header
from kyphoangle.geometry import Facing
from kyphoangle.landmark_file import read_landmark_file
from kyphoangle.normal_table import load_normal_table
from kyphoangle.phantom import Fracture, SpineModel, body_geometry, designed_angle_deg, landmarks
from kyphoangle.protocol import (
    MeasurementName,
    MeasurementSet,
    compute_measurements,
    genant_grade,
    regional_endplates,
)
from kyphoangle.spacing import PixelSpacing, SpacingSource

MAX_ANGLE_ERROR_DEG = 0.01
"""The largest error the arithmetic may add to a designed angle."""

NOISE_SIGMAS_MM: tuple[float, ...] = (0.5, 1.0, 2.0)
"""Click noise simulated: SD of each landmark's displacement along each axis, in millimetres."""

ANGLES: tuple[MeasurementName, ...] = (
    MeasurementName.THORACIC_KYPHOSIS,
    MeasurementName.LUMBAR_LORDOSIS,
    MeasurementName.REGIONAL_ANGLE,
    MeasurementName.SEGMENTAL_KYPHOSIS,
    MeasurementName.VERTEBRAL_KYPHOSIS,
)
"""The angles whose error is measured (ART has the regional angle's error: the normal is a constant)."""

HEIGHTS: dict[MeasurementName, Corner] = {
    MeasurementName.ANTERIOR_HEIGHT: Corner.ANTERIOR,
    MeasurementName.MIDDLE_HEIGHT: Corner.MIDDLE,
    MeasurementName.POSTERIOR_HEIGHT: Corner.POSTERIOR,
}


@dataclass(frozen=True, slots=True)
class EncodingCheck:
    """The largest errors on the films of one encoding and spacing source."""

    encoding: str
    spacing_source: str
    films: int
    max_angle_error_deg: float
    max_height_error_mm: float


@dataclass(frozen=True, slots=True)
class NoiseResult:
    """SD of one measurement under click noise of one sigma, with the first-order prediction."""

    name: str
    sigma_mm: float
    sd: float
    predicted_sd: float | None
    unit: str
    repeats: int


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """Everything the validation measured."""

    encodings: tuple[EncodingCheck, ...]
    noise: tuple[NoiseResult, ...]
    worked_examples: tuple[tuple[str, str, str], ...] = field(default=())
    """(example, published, reproduced)."""

    @property
    def max_angle_error_deg(self) -> float:
        """The largest angle error over every encoding."""
        return max(check.max_angle_error_deg for check in self.encodings)

    @property
    def passed(self) -> bool:
        """Whether the arithmetic stayed within `MAX_ANGLE_ERROR_DEG`."""
        return self.max_angle_error_deg <= MAX_ANGLE_ERROR_DEG


def _designed(model: SpineModel, name: MeasurementName, level: Vertebra | None) -> float:
    """The designed value of an angle of the model."""
    sup, inf = EndplateSide.SUPERIOR, EndplateSide.INFERIOR
    if name is MeasurementName.THORACIC_KYPHOSIS:
        return designed_angle_deg(model, EndplateRef(Vertebra.T4, sup), EndplateRef(Vertebra.T12, inf))
    if name is MeasurementName.LUMBAR_LORDOSIS:
        return designed_angle_deg(model, EndplateRef(Vertebra.L1, sup), EndplateRef(Vertebra.S1, sup))
    assert level is not None
    if name is MeasurementName.REGIONAL_ANGLE:
        return designed_angle_deg(model, *regional_endplates(level))
    if name is MeasurementName.SEGMENTAL_KYPHOSIS:
        above = level.above()
        assert above is not None
        return designed_angle_deg(model, EndplateRef(above, sup), EndplateRef(level, inf))
    return designed_angle_deg(model, EndplateRef(level, sup), EndplateRef(level, inf))


def _errors(model: SpineModel, result: MeasurementSet, levels: Iterable[str]) -> tuple[float, float]:
    """Largest angle error (deg) and height error (mm) of a measured film against its model."""
    angle_error, height_error = 0.0, 0.0
    geometry = body_geometry(model)
    for name in ANGLES:
        for level in levels if name not in (ANGLES[0], ANGLES[1]) else (None,):
            measured = result.get(name, level)
            if measured is None:
                raise AssertionError(f"{name} {level or ''} was not computed from the truth")
            vertebra = Vertebra(level) if level else None
            angle_error = max(angle_error, abs(measured.value - _designed(model, name, vertebra)))
    for level in levels:
        body = geometry[Vertebra(level)]
        designed = {
            MeasurementName.ANTERIOR_HEIGHT: body.anterior_height_mm,
            MeasurementName.MIDDLE_HEIGHT: body.middle_height_mm,
            MeasurementName.POSTERIOR_HEIGHT: body.posterior_height_mm,
        }
        for name, value in designed.items():
            measured = result.get(name, level)
            if measured is None:
                raise AssertionError(f"{name} {level} was not computed from the truth")
            height_error = max(height_error, abs(measured.value - value))
    return angle_error, height_error


def check_encodings(folder: Path, *, subjects: int, film_size: FilmSize) -> tuple[EncodingCheck, ...]:
    """Write the demo study into `folder` and measure its truth through each film's own header."""
    study = generate_demo_films(folder, subjects=subjects, film_size=film_size)
    table = load_normal_table()
    per_group: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for film in study.films:
        truth = read_landmark_file(film.truth_path)
        header = read_header(film.path)
        image = load_radiograph(film.path)
        if image.pixels.shape[:2] != (header.rows, header.columns):
            raise AssertionError(f"{film.path.name}: decoded matrix does not match the header")
        result = compute_measurements(
            truth.points,
            spacing=header.spacing,
            fractured_levels=truth.fractured_levels,
            normal_table=table,
            pixel_aspect_ratio=header.pixel_aspect_ratio,
        )
        per_group[(film.encoding, str(header.spacing.source))].append(
            _errors(film.model, result, truth.fractured_levels)
        )
    per_group.update(_anisotropic_checks())
    return tuple(
        EncodingCheck(
            encoding,
            source,
            len(errors),
            max(angle for angle, _ in errors),
            max(height for _, height in errors),
        )
        for (encoding, source), errors in sorted(per_group.items())
    )


def _anisotropic_checks() -> dict[tuple[str, str], list[tuple[float, float]]]:
    """The same phantom sampled on non-square pixels: by spacing, and by Pixel Aspect Ratio alone."""
    model = SpineModel(rotation_deg=12.0, fractures=(Fracture(Vertebra.L1, 35.0, 25.0),))
    levels = ("T12", "L1", "L2")
    table = load_normal_table()
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    spacing = (0.2, 0.16)  # rows 0.2 mm, columns 0.16 mm: a 5:4 aspect ratio
    points = landmarks(model, rows=3000, columns=3000, spacing_mm=spacing)
    measured = compute_measurements(
        points,
        spacing=PixelSpacing(*spacing, SpacingSource.IMAGER_PIXEL_SPACING),
        fractured_levels=levels,
        normal_table=table,
    )
    results[("non-square pixels (0.2 x 0.16 mm)", str(SpacingSource.IMAGER_PIXEL_SPACING))] = [
        _errors(model, measured, levels)
    ]
    ratio_only = compute_measurements(
        points,
        spacing=PixelSpacing.none(),
        fractured_levels=levels,
        normal_table=table,
        pixel_aspect_ratio=(5, 4),
    )
    # Heights are then in column widths: compared in mm through the column spacing.
    angle_error = max(
        abs(m.value - _designed(model, m.name, Vertebra(m.level) if m.level else None))
        for m in ratio_only.measurements
        if m.name in ANGLES
    )
    geometry = body_geometry(model)
    height_error = max(
        abs(m.value * spacing[1] - getattr(geometry[Vertebra(str(m.level))], f"{HEIGHTS[m.name]}_height_mm"))
        for m in ratio_only.measurements
        if m.name in HEIGHTS
    )
    results[("Pixel Aspect Ratio 5\\4 only", str(SpacingSource.NONE))] = [(angle_error, height_error)]
    return results


NOISE_MODELS: tuple[SpineModel, ...] = (
    SpineModel(fractures=(Fracture(Vertebra.L1, 35.0, 25.0),)),
    SpineModel(
        facing=Facing.LEFT,
        rotation_deg=-15.0,
        thoracic_kyphosis_deg=55.0,
        fractures=(Fracture(Vertebra.T12, 45.0, 30.0),),
    ),
    SpineModel(
        rotation_deg=20.0,
        size_factor=0.85,
        lumbar_lordosis_deg=-60.0,
        fractures=(Fracture(Vertebra.L2, 25.0, 15.0),),
    ),
)
"""Spines the click noise is simulated on: one fracture each, different curves, sizes and rotations."""


def _predicted_sd_deg(
    points: Mapping[str, tuple[float, float]], keys: Sequence[str], sigma_px: float
) -> float:
    """First-order SD of the angle between the two endplates whose corners are `keys` (4 keys)."""
    variance = 0.0
    for posterior, anterior in ((keys[0], keys[1]), (keys[2], keys[3])):
        (x0, y0), (x1, y1) = points[posterior], points[anterior]
        length = math.hypot(x1 - x0, y1 - y0)
        variance += 2.0 * sigma_px**2 / length**2
    return math.degrees(math.sqrt(variance))


def simulate_click_noise(*, repeats: int, seed: int = 16) -> tuple[NoiseResult, ...]:
    """SD of every angle and height when each landmark is displaced by N(0, sigma) mm on each axis."""
    rng = np.random.default_rng(seed)
    table = load_normal_table()
    spacing_mm = 0.2
    spacing = PixelSpacing(spacing_mm, spacing_mm, SpacingSource.PIXEL_SPACING)
    results: list[NoiseResult] = []
    for sigma in NOISE_SIGMAS_MM:
        samples: dict[tuple[str, str], list[float]] = defaultdict(list)
        predicted: dict[str, list[float]] = defaultdict(list)
        for model in NOISE_MODELS:
            level = model.fractures[0].level.value
            truth = landmarks(model, rows=3000, columns=2000, spacing_mm=(spacing_mm, spacing_mm))
            keys = list(truth)
            base = np.array([truth[k] for k in keys])
            exact = compute_measurements(
                truth, spacing=spacing, fractured_levels=(level,), normal_table=table
            )
            for name in ANGLES:
                measured = exact.get(name, None if name in ANGLES[:2] else level)
                assert measured is not None
                predicted[str(name)].append(
                    _predicted_sd_deg(truth, measured.landmarks[:4], sigma / spacing_mm)
                )
            for _ in range(repeats):
                noisy = base + rng.normal(0.0, sigma / spacing_mm, base.shape)
                result = compute_measurements(
                    {k: (float(c), float(r)) for k, (c, r) in zip(keys, noisy, strict=True)},
                    spacing=spacing,
                    fractured_levels=(level,),
                    normal_table=table,
                )
                for m in result.measurements:
                    if m.name in ANGLES or m.name in HEIGHTS:
                        reference = exact.get(m.name, m.level)
                        assert reference is not None
                        # deviations from each model's exact value pool the spines into one SD
                        samples[(str(m.name), str(m.unit))].append(m.value - reference.value)
        for (value_name, unit), deviations in samples.items():
            prediction = predicted.get(value_name)
            if unit == "mm":  # a distance between two points each moved by sigma along it
                prediction = [math.sqrt(2.0) * sigma]
            results.append(
                NoiseResult(
                    value_name,
                    sigma,
                    float(np.std(deviations, ddof=1)),
                    float(np.sqrt(np.mean(np.square(prediction)))) if prediction else None,
                    unit,
                    len(deviations),
                )
            )
    order = [str(n) for n in (*ANGLES, *HEIGHTS)]
    return tuple(sorted(results, key=lambda r: (order.index(r.name), r.sigma_mm)))


def worked_examples() -> tuple[tuple[str, str, str], ...]:
    """Published worked examples the code reproduces."""
    shrout_fleiss = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    anova = two_way_anova(shrout_fleiss)
    icc = icc_2_1(shrout_fleiss)
    return (
        (
            "Shrout & Fleiss 1979, Table 3: mean squares of the 6 targets x 4 judges",
            "BMS 11.24, JMS 32.49, EMS 1.02",
            f"BMS {anova.ms_rows:.2f}, JMS {anova.ms_columns:.2f}, EMS {anova.ms_error:.2f}",
        ),
        (
            "Shrout & Fleiss 1979: ICC(2,1) of the same table; its 95% CI as R psych::ICC",
            "0.29 (0.019 to 0.76)",
            f"{icc.icc:.2f} ({icc.ci_low:.3f} to {icc.ci_high:.2f})",
        ),
        (
            "Genant 1993 grade thresholds: 20%, 25%, 40% height reduction",
            "grades 0, 1, 2, 3 at 19.9%, 20-25%, 25-40%, over 40%",
            _genant_text(),
        ),
    )


def _genant_text() -> str:
    cases = (19.9, 20.0, 25.0, 25.1, 40.0, 40.1)
    return ", ".join(f"{value:g}% -> {genant_grade(value)}" for value in cases)


def run_validation(
    *, subjects: int = 4, film_size: FilmSize | None = None, repeats: int = 2000
) -> ValidationReport:
    """Run both checks (in a temporary folder) and return the report."""
    with tempfile.TemporaryDirectory(prefix="kyphoangle-validation-") as folder:
        encodings = check_encodings(
            Path(folder) / "demo", subjects=subjects, film_size=film_size or FilmSize(2000, 1000, 0.25)
        )
    return ValidationReport(encodings, simulate_click_noise(repeats=repeats), worked_examples())


def _repeatability_lines(report: ValidationReport) -> list[str]:
    """The 95% repeatability limits the simulated SDs imply, beside the published ones."""
    by = {(r.name, r.sigma_mm): r.sd for r in report.noise}
    lines = []
    for sigma in NOISE_SIGMAS_MM:
        sd = by.get((str(MeasurementName.REGIONAL_ANGLE), sigma))
        if sd is not None:
            limit = 1.96 * math.sqrt(2.0) * sd
            lines.append(
                f"- sigma {sigma:g} mm: regional angle, 95% limits of a repeat read +/- {limit:.1f} deg"
            )
    if lines:
        lines = [
            "Repeatability limits implied for one reader (1.96 x sqrt(2) x SD), to set beside the 7 to",
            "11 deg published for manual Cobb angles (Carman et al., J Bone Joint Surg Am 1990;72:328)",
            "and the 7 to 9 deg of correction expected after kyphoplasty:",
            "",
            *lines,
            "",
        ]
    return lines


def report_markdown(report: ValidationReport, *, command: str) -> str:
    """The validation page of the documentation."""
    lines = [
        "# Validation: the tool's own error",
        "",
        f"Written by `{command}`; re-run it after any change to the geometry or the protocol.",
        "",
        "## 1. Phantom truth through every encoding",
        "",
        "Each demo film is written in its transfer syntax and read back; its exact landmarks (through the",
        "landmark file) are measured with the spacing read from the film and compared with the phantom's",
        "designed angles (thoracic kyphosis, lumbar lordosis, and at each fractured level the regional,",
        "segmental and vertebral angles) and heights.",
        "",
        f"Goal: every angle within {MAX_ANGLE_ERROR_DEG} deg. Largest error: "
        f"**{report.max_angle_error_deg:.2e} deg** "
        f"({report.max_angle_error_deg / MAX_ANGLE_ERROR_DEG:.1e} of the goal): "
        f"{'passed' if report.passed else 'FAILED'}.",
        "",
        "| encoding | spacing source | films | largest angle error (deg) | largest height error (mm) |",
        "|---|---|---|---|---|",
        *(
            f"| {c.encoding} | {c.spacing_source} | {c.films} | {c.max_angle_error_deg:.2e} | "
            f"{c.max_height_error_mm:.2e} |"
            for c in report.encodings
        ),
        "",
        "## 2. Click noise: measurement error attributable to landmark placement",
        "",
        "Every landmark of three phantom spines (fracture at L1, T12 or L2; facing right or left; rotated",
        "0, -15 or 20 deg) is displaced by independent Gaussian noise of SD sigma along each axis. The SD",
        "is that of (noisy - exact) over every repetition and spine. *Predicted* is first-order error",
        "propagation, sqrt(2 sigma^2 / L1^2 + 2 sigma^2 / L2^2) radians for two endplates of lengths L1",
        "and L2 (root mean square over the spines); for a height, sqrt(2) sigma. ART has the regional",
        "angle's error. For the statistical analysis plan: a reader's landmark SD of sigma gives these",
        "SDs per single read; the difference of two reads has sqrt(2) times that SD.",
        "",
        *_repeatability_lines(report),
        "| measurement | sigma (mm) | SD | predicted SD | unit | n |",
        "|---|---|---|---|---|---|",
        *(
            f"| {r.name} | {r.sigma_mm:g} | {r.sd:.3f} | "
            f"{'' if r.predicted_sd is None else f'{r.predicted_sd:.3f}'} | {r.unit} | {r.repeats} |"
            for r in report.noise
        ),
        "",
        "## 3. Worked examples from the literature",
        "",
        "| example | published | reproduced |",
        "|---|---|---|",
        *(
            f"| {example} | {published} | {reproduced} |"
            for example, published, reproduced in report.worked_examples
        ),
        "",
    ]
    return "\n".join(lines)
