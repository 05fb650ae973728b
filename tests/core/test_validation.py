"""The validation of the tool's own error runs on a small scale in the test suite."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from kyphoangle.demo import FilmSize
from kyphoangle.validation import (
    MAX_ANGLE_ERROR_DEG,
    NOISE_SIGMAS_MM,
    ValidationReport,
    run_validation,
)

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "validate.py"


@pytest.fixture(scope="module")
def report() -> ValidationReport:
    return run_validation(subjects=2, film_size=FilmSize(600, 300, 0.8), repeats=40)


def test_phantom_truth_survives_every_encoding(report: ValidationReport) -> None:
    assert report.passed and report.max_angle_error_deg <= MAX_ANGLE_ERROR_DEG
    encodings = {check.encoding for check in report.encodings}
    assert len(encodings) >= 6  # every lossless transfer syntax the demo writes, plus non-square pixels
    sources = {check.spacing_source for check in report.encodings}
    assert {"pixel_spacing", "imager_pixel_spacing_ermf", "imager_pixel_spacing", "none"} <= sources
    assert all(check.max_height_error_mm < 1e-6 for check in report.encodings)


def test_click_noise_gives_the_error_propagation_figures(report: ValidationReport) -> None:
    by = {(r.name, r.sigma_mm): r for r in report.noise}
    for name in ("thoracic_kyphosis", "regional_angle", "vertebral_kyphosis", "anterior_height"):
        sds = [by[(name, sigma)].sd for sigma in NOISE_SIGMAS_MM]
        assert sds[0] < sds[1] < sds[2]  # more noise, more error, roughly in proportion
        for sigma in NOISE_SIGMAS_MM:
            result = by[(name, sigma)]
            assert result.predicted_sd is not None
            assert result.sd == pytest.approx(result.predicted_sd, rel=0.35)


def test_worked_examples_are_reproduced(report: ValidationReport) -> None:
    published = {example: (paper, ours) for example, paper, ours in report.worked_examples}
    mean_squares = next(v for k, v in published.items() if "Table 3" in k)
    assert mean_squares[0] == mean_squares[1]
    assert any("0.29" in ours for _, ours in published.values())


def test_the_script_writes_its_report(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("validate_script", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    out = tmp_path / "validation.md"
    assert module.main(["--small", "--repeats", "5", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "passed" in text and "| thoracic_kyphosis | 2 |" in text


def test_the_documented_report_is_a_full_run() -> None:
    text = (SCRIPT.parents[1] / "docs" / "validation.md").read_text(encoding="utf-8")
    assert "Written by `scripts/validate.py`;" in text and ": passed." in text
