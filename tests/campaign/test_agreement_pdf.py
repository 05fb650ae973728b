"""The PDF agreement report: a real PDF, one table page per `PDF_ROWS_PER_PAGE` rows, then the plots."""

from __future__ import annotations

from pathlib import Path

import pytest
from campaign_helpers import pdf_pages
from matplotlib.figure import Figure

from kyphoangle.agreement_report import (
    ALL_LEVELS,
    ALL_READERS,
    PDF_PLOTS_PER_PAGE,
    PDF_ROWS_PER_PAGE,
    AdjudicationRate,
    AgreementError,
    AgreementLine,
    AgreementReport,
    AgreementScope,
    draw_bland_altman,
    write_pdf,
)

PAIRS = ((10.0, 11.0), (12.0, 12.5), (15.0, 14.0), (9.0, 9.5))


def _line(number: int, *, plotted: bool = True) -> AgreementLine:
    if not plotted:
        rows = tuple((a, b, a + 0.2) for a, b in PAIRS)
        return AgreementLine(
            AgreementScope.INTER, "", "regional_angle", f"L{number}", "deg", rows, icc=0.9, icc_ci_low=0.5,
            icc_ci_high=0.99, sem=1.0, mdc=2.8, readers=ALL_READERS,
        )  # fmt: skip
    return AgreementLine(
        AgreementScope.INTER, "", "regional_angle", ALL_LEVELS, "deg", PAIRS, icc=0.9, icc_ci_low=0.5,
        icc_ci_high=0.99, bias=0.125, loa_low=-1.5, loa_high=1.75, sem=1.0, mdc=2.8,
        readers="reader 1 vs reader 2",
    )  # fmt: skip


def _rates(count: int) -> tuple[AdjudicationRate, ...]:
    return tuple(AdjudicationRate(f"central{n}", 8, 1, n % 2, 1 - n % 2) for n in range(1, count + 1))


def _report(lines: list[AgreementLine], readers: int) -> AgreementReport:
    return AgreementReport("CR1", tuple(lines), _rates(readers))


def test_small_report_is_one_table_page_and_the_plots(tmp_path: Path) -> None:
    out = tmp_path / "small.pdf"
    write_pdf(_report([_line(1), _line(2, plotted=False), _line(3)], readers=3), out)
    assert out.read_bytes().startswith(b"%PDF")
    assert pdf_pages(out) == 1 + 1  # one table page with the rates; two plots on one page
    assert b"Reader agreement in campaign CR1" in out.read_bytes()  # the document's title


def test_long_table_runs_over_several_pages(tmp_path: Path) -> None:
    # Two full pages and two rows: the rates fit under the last rows.
    lines = [_line(n, plotted=n < PDF_PLOTS_PER_PAGE + 1) for n in range(2 * PDF_ROWS_PER_PAGE + 2)]
    out = tmp_path / "long.pdf"
    write_pdf(_report(lines, readers=3), out)
    assert pdf_pages(out) == 3 + 2  # plots: PDF_PLOTS_PER_PAGE + 1 of them
    # Two full pages: the rates take a page of their own.
    out = tmp_path / "full.pdf"
    write_pdf(_report([_line(n, plotted=False) for n in range(2 * PDF_ROWS_PER_PAGE)], readers=6), out)
    assert pdf_pages(out) == 3


def test_empty_report_is_one_page(tmp_path: Path) -> None:
    out = tmp_path / "empty.pdf"
    write_pdf(AgreementReport("CR1", ()), out)
    assert pdf_pages(out) == 1


def test_the_all_readers_line_has_no_bland_altman_plot() -> None:
    axes = Figure().subplots()
    draw_bland_altman(axes, _line(1))
    assert axes.get_ylabel() == "reader 2 - reader 1 (deg)"
    with pytest.raises(AgreementError, match="not a pair"):
        draw_bland_altman(Figure().subplots(), _line(1, plotted=False))
