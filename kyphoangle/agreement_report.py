"""Reliability of a reading campaign: inter- and intra-reader agreement, adjudication rates, a report.

Which values: signed, current reads only. Inter-reader agreement compares the readers' first
(non-repeat) reads of each case; intra-reader agreement compares a reader's first read with their
repeat read of the same case. For each of the campaign's measurements, statistics are given per level
and pooled over levels (`level` = `all`: each case and level is one row; level-independent measurements
such as `thoracic_kyphosis` have only the pooled line). The statistics are those of
`kyphoangle.agreement`: ICC(2,1) with its 95% CI, Bland-Altman bias and 95% limits, SEM (absolute
agreement) and MDC95. Too few rows leave the statistics empty, with the reason in `note`.

With k readers (two to six; `readers` on each line says who is compared):
- one inter-reader line per pair of readers, reader i with reader j for i < j ("reader 1 vs reader 2"):
  ICC(2,1) of the two, Bland-Altman of reader j minus reader i, SEM and MDC, over the cases both
  measured;
- with three readers or more, also an "all readers" line: ICC(2,1) over the n x k table of the cases
  every reader measured, with its CI, SEM and MDC (no Bland-Altman, which compares two series). With
  two readers the single pair line is that line, so two-reader results are unchanged;
- intra-reader lines per reader (repeat minus first read); `readers` holds the reader's slot.

Adjudication rate per reader, for every reader: among the cases all readers have signed, the share
that met the adjudication rule, and how often that reader's read was then chosen as final or
overruled.

Output: plain text, CSV (`CSV_COLUMNS`), HTML with inline Bland-Altman plots (`write_html`) and PDF
(`write_pdf`), both drawing the plots with `draw_bland_altman` (matplotlib, no GUI backend).
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import enum
import html
import io
import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, TYPE_CHECKING, TextIO

from sqlalchemy.orm import Session

from kyphoangle.agreement import MIN_CASES as MIN_CASES  # where it used to live; the statistics enforce it
from kyphoangle.agreement import (
    AgreementError,
    bland_altman,
    icc_2_1,
    minimal_detectable_change,
    sem_agreement,
)
from kyphoangle.campaign import (
    CaseState,
    campaign_reads,
    case_state,
    evaluate_rule_for_case,
    final_reads,
    get_case,
    members_of,
    reader_name,
    reader_roles,
    settings_of,
)
from kyphoangle.conventions import BLAND_ALTMAN, ICC_FORM, MDC_FORMULA, SEM_FORMULA
from kyphoangle.output_file import output_binary, output_text, write_text
from kyphoangle.storage.models import Campaign, Read, User
from kyphoangle.storage.reads import measurements_of
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.text_safety import csv_record, terminal_safe
from kyphoangle.vocabulary import CampaignRole, ReadStatus

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_Values = dict[tuple[str, str | None], tuple[float, str]]
"""A read's values by (measurement, level), with their unit."""

ALL_LEVELS = "all"
"""The `level` of statistics pooled over levels."""

ALL_READERS = "all readers"
"""The `readers` of the inter-reader line over every reader of a campaign of three readers or more."""

PAIR_SEPARATOR = " vs "
"""Joins the two readers of a pair line: "reader 1 vs reader 2" (differences: the second minus the first)."""


class AgreementScope(enum.StrEnum):
    """Between readers, or one reader with themself (first read against the repeat)."""

    INTER = "inter"
    INTRA = "intra"


@dataclass(frozen=True, slots=True)
class AgreementLine:
    """The statistics of one measurement (one level or pooled) in one scope, for the readers compared."""

    scope: AgreementScope
    reader: str
    """Empty for inter-reader lines; the reader's login for intra-reader lines."""
    measurement: str
    level: str
    unit: str
    pairs: tuple[tuple[float, ...], ...]
    """The complete rows compared: (first, second) for a pair of readers or a first read and its repeat;
    one value per reader, reader 1 first, for the all-readers line."""
    icc: float | None = None
    icc_ci_low: float | None = None
    icc_ci_high: float | None = None
    bias: float | None = None
    loa_low: float | None = None
    loa_high: float | None = None
    sem: float | None = None
    mdc: float | None = None
    note: str = ""
    readers: str = ""
    """Who is compared: "reader 1 vs reader 2" (Bland-Altman: reader 2 minus reader 1), `ALL_READERS`,
    or for an intra-reader line the reader's slot ("reader 1")."""

    @property
    def n(self) -> int:
        """Number of complete rows (cases, or case-levels when pooled)."""
        return len(self.pairs)


@dataclass(frozen=True, slots=True)
class AdjudicationRate:
    """One reader's share of adjudicated cases and the outcomes."""

    reader: str
    compared: int
    adjudicated: int
    chosen: int
    overruled: int

    @property
    def rate(self) -> float | None:
        """Adjudicated / compared."""
        return self.adjudicated / self.compared if self.compared else None


@dataclass(frozen=True, slots=True)
class AgreementReport:
    """Everything the report shows."""

    campaign: str
    lines: tuple[AgreementLine, ...]
    adjudication: tuple[AdjudicationRate, ...] = field(default_factory=tuple)


CSV_COLUMNS: tuple[str, ...] = (
    "campaign", "scope", "reader", "readers", "measurement", "level", "unit", "n", "icc", "icc_ci_low",
    "icc_ci_high", "bias", "loa_low", "loa_high", "sem", "mdc", "note",
)  # fmt: skip
"""Columns of the statistics CSV: `reader` is the login of an intra-reader line (empty for inter-reader
lines), `readers` who is compared (`AgreementLine.readers`); `bias` and the limits are empty on the
all-readers line."""


def agreement_line(
    scope: AgreementScope,
    reader: str,
    readers: str,
    name: str,
    level: str,
    unit: str,
    rows: Sequence[tuple[float, ...]],
) -> AgreementLine:
    """One statistics line from rows of paired (or, for all readers, n-tuple) values of one measurement.

    ICC(2,1) with its CI, SEM and MDC always; Bland-Altman bias and limits only for pairs. Too few rows
    give a line without numbers whose `note` says why.
    """
    base = AgreementLine(scope, reader, name, level, unit, tuple(rows), readers=readers)
    paired = not rows or len(rows[0]) == 2
    try:
        icc = icc_2_1(rows)
        limits = bland_altman([row[0] for row in rows], [row[1] for row in rows]) if paired else None
    except AgreementError as exc:
        return replace(base, note=str(exc))
    sem = sem_agreement(icc.anova)
    line = replace(
        base,
        icc=icc.icc,
        icc_ci_low=icc.ci_low if icc.ci_estimable else None,
        icc_ci_high=icc.ci_high if icc.ci_estimable else None,
        sem=sem,
        mdc=minimal_detectable_change(sem),
        note="" if icc.ci_estimable else "confidence interval of the ICC not estimable",
    )
    if limits is None:
        return line
    return replace(line, bias=limits.bias, loa_low=limits.lower_limit, loa_high=limits.upper_limit)


def _values(read: Read, names: set[str]) -> _Values:
    return {
        key: (row.value, str(row.unit))
        for key, row in measurements_of(read).items()
        if key[0] in names and row.value is not None
    }


def _pair_name(first: CampaignRole, second: CampaignRole) -> str:
    return f"{reader_name(first)}{PAIR_SEPARATOR}{reader_name(second)}"


def agreement_report(session: Session, campaign: Campaign, *, actor: User) -> AgreementReport:
    """Compute the campaign's reliability statistics (data managers and admins)."""
    require_permission(actor, Permission.EXPORT)
    names = {str(m) for m in settings_of(campaign).measurements}
    roles = reader_roles(session, campaign)
    members = members_of(session, campaign)
    login_of = {role: members[role][1].login for role in roles}
    first: dict[tuple[str, CampaignRole], _Values] = {}
    repeat: dict[tuple[str, CampaignRole], _Values] = {}
    first_ids: dict[tuple[str, CampaignRole], int] = {}
    for case_code, role, is_repeat, read in campaign_reads(session, campaign):
        if role not in roles or read.status != ReadStatus.SIGNED:
            continue
        target = repeat if is_repeat else first
        target[(case_code, role)] = _values(read, names)
        if not is_repeat:
            first_ids[(case_code, role)] = read.id

    lines: list[AgreementLine] = []

    def add_lines(
        scope: AgreementScope,
        reader: str,
        readers: str,
        table: list[tuple[_Values, ...]],
    ) -> None:
        """Lines per level and pooled; a row of `table` is one case, its values by column."""
        per_key: dict[tuple[str, str | None], list[tuple[float, ...]]] = defaultdict(list)
        units: dict[str, str] = {}
        for columns in table:
            for key in set.intersection(*(set(values) for values in columns)):
                per_key[key].append(tuple(values[key][0] for values in columns))
                units[key[0]] = columns[0][key][1]
        for name in sorted(names):
            keys = sorted((k for k in per_key if k[0] == name), key=lambda k: k[1] or "")
            leveled = [k for k in keys if k[1] is not None]
            for key in leveled:
                lines.append(
                    agreement_line(scope, reader, readers, name, str(key[1]), units[name], per_key[key])
                )
            pooled = [row for key in keys for row in per_key[key]]
            lines.append(
                agreement_line(scope, reader, readers, name, ALL_LEVELS, units.get(name, ""), pooled)
            )

    cases = sorted({code for code, _ in first})
    if len(roles) > 2:
        every = [
            tuple(first[(c, role)] for role in roles) for c in cases if all((c, r) in first for r in roles)
        ]
        add_lines(AgreementScope.INTER, "", ALL_READERS, every)
    for one, other in itertools.combinations(roles, 2):
        pairs: list[tuple[_Values, ...]] = [
            (first[(c, one)], first[(c, other)]) for c in cases if (c, one) in first and (c, other) in first
        ]
        add_lines(AgreementScope.INTER, "", _pair_name(one, other), pairs)
    for role in roles:
        intra: list[tuple[_Values, ...]] = [
            (first[key], repeat[key]) for key in sorted(repeat) if key[1] == role and key in first
        ]
        add_lines(AgreementScope.INTRA, login_of[role], reader_name(role), intra)

    finals = set(final_reads(session, campaign).values())
    compared = [c for c in cases if all((c, role) in first_ids for role in roles)]
    adjudicated = [
        c for c in compared if evaluate_rule_for_case(session, campaign, get_case(session, campaign, c))
    ]
    decided = [
        c
        for c in adjudicated
        if case_state(session, campaign, get_case(session, campaign, c)) is CaseState.FINISHED
    ]
    rates = []
    for role in roles:
        chosen = sum(first_ids[(c, role)] in finals for c in decided)
        rates.append(
            AdjudicationRate(login_of[role], len(compared), len(adjudicated), chosen, len(decided) - chosen)
        )
    return AgreementReport(campaign.code, tuple(lines), tuple(rates))


# --- output ---------------------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def csv_rows(report: AgreementReport) -> list[dict[str, str]]:
    """The statistics as CSV rows (`CSV_COLUMNS`)."""
    return [
        {
            "campaign": report.campaign,
            "scope": str(line.scope),
            "reader": line.reader,
            "readers": line.readers,
            "measurement": line.measurement,
            "level": line.level,
            "unit": line.unit,
            "n": str(line.n),
            "icc": _fmt(line.icc, 4),
            "icc_ci_low": _fmt(line.icc_ci_low, 4),
            "icc_ci_high": _fmt(line.icc_ci_high, 4),
            "bias": _fmt(line.bias, 4),
            "loa_low": _fmt(line.loa_low, 4),
            "loa_high": _fmt(line.loa_high, 4),
            "sem": _fmt(line.sem, 4),
            "mdc": _fmt(line.mdc, 4),
            "note": line.note,
        }
        for line in report.lines
    ]


def write_csv(report: AgreementReport, out: TextIO | Path) -> None:
    """Write the statistics as CSV to a path or an open text stream."""
    if isinstance(out, Path):
        with output_text(out, newline="") as handle:
            _csv_to(report, handle)
    else:
        _csv_to(report, out)


def _csv_to(report: AgreementReport, handle: IO[str]) -> None:
    writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(csv_record(row) for row in csv_rows(report))


def icc_text(line: AgreementLine) -> str:
    """The ICC with its interval, "0.912 [0.801, 0.962]" (the interval "[not estimable]"), or ""."""
    if line.icc is None:
        return ""
    if line.icc_ci_low is None or line.icc_ci_high is None:
        return f"{line.icc:.3f} [not estimable]"
    return f"{line.icc:.3f} [{line.icc_ci_low:.3f}, {line.icc_ci_high:.3f}]"


def _who(line: AgreementLine) -> str:
    if line.scope is AgreementScope.INTER:
        return f"inter-reader {line.readers}".rstrip()
    return f"intra-reader {line.reader}"


def text_lines(report: AgreementReport) -> list[str]:
    """A plain-text summary, one line per statistic line and per reader's adjudication rate."""
    out = [f"Agreement in campaign {report.campaign}"]
    for line in report.lines:
        head = f"{_who(line):<34} {line.measurement} {line.level:<4} n={line.n:<3}"
        if line.icc is None:
            out.append(f"{head} {line.note}")
            continue
        text = f"{head} ICC {icc_text(line)}  "
        if line.bias is not None:
            text += f"bias {line.bias:+.2f} {line.unit} (LoA {line.loa_low:+.2f} to {line.loa_high:+.2f})  "
        out.append(f"{text}SEM {line.sem:.2f}  MDC {line.mdc:.2f}")
    for rate in report.adjudication:
        share = "-" if rate.rate is None else f"{100 * rate.rate:.0f}%"
        out.append(
            f"adjudication {rate.reader}: {rate.adjudicated}/{rate.compared} cases ({share}); "
            f"read chosen {rate.chosen}, overruled {rate.overruled}"
        )
    return [*out, "", *definition_lines()]


def definition_lines() -> list[str]:
    """How the statistics are computed, written under every text and HTML report."""
    return [f"Definitions: {ICC_FORM}", SEM_FORMULA, MDC_FORMULA, BLAND_ALTMAN]


def _difference_names(line: AgreementLine) -> tuple[str, str]:
    """What the line's differences subtract: (first, second) for `second - first`."""
    if line.scope is AgreementScope.INTRA:
        return "first read", "repeat"
    first, _, second = line.readers.partition(PAIR_SEPARATOR)
    if not second:
        raise AgreementError(f"{line.readers or 'this line'} is not a pair of readers: no Bland-Altman plot")
    return first, second


def _plotted(report: AgreementReport) -> list[AgreementLine]:
    """The lines that have a Bland-Altman plot (a pair, or a first read and its repeat, with limits)."""
    return [line for line in report.lines if line.bias is not None]


def draw_bland_altman(axes: Axes, line: AgreementLine) -> None:
    """Draw the line's Bland-Altman plot on `axes`: differences against means, bias and 95% limits."""
    first, second = _difference_names(line)
    means = [(row[0] + row[1]) / 2 for row in line.pairs]
    differences = [row[1] - row[0] for row in line.pairs]
    axes.scatter(means, differences, s=14, color="#1f4e79")
    for value, style in ((line.bias, "-"), (line.loa_low, "--"), (line.loa_high, "--")):
        if value is not None:
            axes.axhline(value, linestyle=style, color="#a33", linewidth=1)
    axes.set_xlabel(f"mean of the two reads ({line.unit})")
    axes.set_ylabel(f"{second} - {first} ({line.unit})")
    axes.set_title(f"{line.measurement} {line.level}: {_who(line)}", fontsize=10)


def _bland_altman_png(line: AgreementLine) -> str:
    """A Bland-Altman plot of the line's pairs as base64 PNG (matplotlib, no GUI backend)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.0, 3.6), dpi=100)
    draw_bland_altman(figure.subplots(), line)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


_METHODS = (
    "ICC(2,1) (two-way random, absolute agreement, single measures) with 95% CI; Bland-Altman bias and 95% "
    "limits of agreement (for each pair of readers the later minus the earlier, reader 2 minus reader 1, "
    "reader 3 minus reader 1, ...; or repeat minus first read); SEM (absolute agreement) and MDC95 = "
    "1.96 x sqrt(2) x SEM. With three readers or more, the 'all readers' line is the ICC over every "
    "reader, on the cases all of them measured. Signed reads only."
)


def write_html(report: AgreementReport, out: Path) -> None:
    """An HTML report: the statistics table, the adjudication rates and Bland-Altman plots (PNG inline)."""
    e = html.escape
    rows = "\n".join(
        "<tr>" + "".join(f"<td>{e(row[c])}</td>" for c in CSV_COLUMNS[1:]) + "</tr>"
        for row in csv_rows(report)
    )
    rates = "\n".join(
        f"<tr><td>{e(r.reader)}</td><td>{r.compared}</td><td>{r.adjudicated}</td>"
        f"<td>{'' if r.rate is None else f'{100 * r.rate:.1f}%'}</td>"
        f"<td>{r.chosen}</td><td>{r.overruled}</td></tr>"
        for r in report.adjudication
    )
    plots = "\n".join(
        f'<figure><img alt="Bland-Altman {e(line.measurement)} {e(line.level)} {e(_who(line))}" '
        f'src="data:image/png;base64,{_bland_altman_png(line)}"></figure>'
        for line in _plotted(report)
    )
    header = "".join(f"<th>{e(c)}</th>" for c in CSV_COLUMNS[1:])
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Agreement: {e(terminal_safe(report.campaign))}</title>
<style>body{{font-family:sans-serif}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px}} figure{{display:inline-block;margin:4px}}</style></head>
<body><h1>Reader agreement in campaign {e(terminal_safe(report.campaign))}</h1>
<p>{e(_METHODS)}</p>
<h2>Statistics</h2><table><tr>{header}</tr>
{rows}
</table>
<h2>Adjudication per reader</h2>
<table><tr><th>reader</th><th>cases compared</th><th>adjudicated</th><th>rate</th><th>read chosen</th>
<th>overruled</th></tr>
{rates}
</table>
<h2>Bland-Altman plots</h2>
{plots}
</body></html>
"""
    write_text(out, document)


# --- PDF ------------------------------------------------------------------------------------------------

PDF_PAGE_SIZE_IN = (11.69, 8.27)
"""A4 landscape, in inches."""
PDF_ROWS_PER_PAGE = 24
"""Table rows on one page of the PDF report (the adjudication rates take their count plus two)."""
PDF_PLOTS_PER_PAGE = 4
"""Bland-Altman plots on one page of the PDF report (two by two)."""

_PDF_COLUMNS = (
    "measurement", "level", "readers / reader", "n", "ICC [95% CI]", "bias", "95% LoA", "SEM", "MDC", "note",
)  # fmt: skip
_PDF_WIDTHS = (0.12, 0.04, 0.14, 0.03, 0.15, 0.05, 0.10, 0.05, 0.05, 0.27)
_PDF_RATE_COLUMNS = ("reader", "cases compared", "adjudicated", "rate", "read chosen", "overruled")
_PDF_NOTE_CHARS = 55


def _pdf_row(line: AgreementLine) -> list[str]:
    who = line.readers if line.scope is AgreementScope.INTER else f"{line.reader} ({line.readers})"
    icc = icc_text(line)
    bias = "" if line.bias is None else f"{line.bias:+.2f}"
    loa = "" if line.loa_low is None else f"{line.loa_low:+.2f} to {line.loa_high:+.2f}"
    note = line.note if len(line.note) <= _PDF_NOTE_CHARS else line.note[: _PDF_NOTE_CHARS - 3] + "..."
    return [
        line.measurement,
        line.level,
        who,
        str(line.n),
        icc,
        bias,
        loa,
        _fmt(line.sem),
        _fmt(line.mdc),
        note,
    ]


def rate_cells(rate: AdjudicationRate) -> list[str]:
    """One reader's adjudication row as text: reader, compared, adjudicated, share, chosen, overruled."""
    share = "" if rate.rate is None else f"{100 * rate.rate:.1f} %"
    return [
        rate.reader,
        str(rate.compared),
        str(rate.adjudicated),
        share,
        str(rate.chosen),
        str(rate.overruled),
    ]


def _pdf_table_pages(report: AgreementReport) -> list[tuple[list[AgreementLine], bool]]:
    """The statistics lines of each table page, and whether the adjudication rates go on it (the last)."""
    size = PDF_ROWS_PER_PAGE
    pages: list[tuple[list[AgreementLine], bool]] = [
        (list(report.lines[start : start + size]), False) for start in range(0, len(report.lines), size)
    ] or [([], False)]
    if report.adjudication:
        last = pages[-1][0]
        if len(last) + len(report.adjudication) + 2 <= size:
            pages[-1] = (last, True)
        else:
            pages.append(([], True))
    return pages


def write_pdf(report: AgreementReport, out: Path) -> None:
    """A PDF report: title and the statistics table, the adjudication rates, then the Bland-Altman plots.

    A4 landscape; the table runs over as many pages as needed (`PDF_ROWS_PER_PAGE` rows each) and the
    plots come `PDF_PLOTS_PER_PAGE` to a page. Holds the campaign name, the readers' logins and slots and
    the statistics, never a patient's identity. Drawn with matplotlib's PDF backend, no GUI.
    """
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure
    from matplotlib.transforms import Bbox

    table_pages = _pdf_table_pages(report)
    plotted = _plotted(report)
    plot_pages = [plotted[i : i + PDF_PLOTS_PER_PAGE] for i in range(0, len(plotted), PDF_PLOTS_PER_PAGE)]
    total = len(table_pages) + len(plot_pages)
    slot = 1.0 / (PDF_ROWS_PER_PAGE + 1)
    title = f"Reader agreement in campaign {terminal_safe(report.campaign)}"

    def footer(figure: Figure, number: int) -> None:
        figure.text(
            0.96, 0.02, f"{terminal_safe(report.campaign)}: page {number} of {total}", ha="right", fontsize=7
        )

    with (
        output_binary(out) as stream,
        PdfPages(stream, metadata={"Title": title, "Creator": "kyphoangle"}) as pdf,
    ):
        for number, (lines, with_rates) in enumerate(table_pages, start=1):
            figure = Figure(figsize=PDF_PAGE_SIZE_IN)
            if number == 1:
                figure.text(0.04, 0.95, title, fontsize=15, weight="bold", va="top")
                figure.text(
                    0.04, 0.905, f"Report generated on {dt.date.today().isoformat()}.", fontsize=8, va="top"
                )
                figure.text(0.04, 0.885, _METHODS, fontsize=7, va="top", wrap=True)
            else:
                figure.text(0.04, 0.95, f"{title} (continued)", fontsize=11, weight="bold", va="top")
            axes = figure.add_axes((0.04, 0.05, 0.92, 0.78 if number == 1 else 0.86))
            axes.set_axis_off()
            used = 0
            if lines:
                used = len(lines) + 1
                table = axes.table(
                    cellText=[_pdf_row(line) for line in lines],
                    colLabels=_PDF_COLUMNS,
                    colWidths=_PDF_WIDTHS,
                    cellLoc="left",
                    bbox=Bbox.from_bounds(0.0, 1.0 - used * slot, 1.0, used * slot),
                )
                table.auto_set_font_size(False)
                table.set_fontsize(7)
            elif not report.lines and number == 1:
                axes.text(0.0, 1.0, "No statistics: no signed reads to compare.", fontsize=9, va="top")
                used = 1
            if with_rates:
                heading = 1.0 - (used + 0.5) * slot
                axes.text(0.0, heading, "Adjudication per reader", fontsize=9, weight="bold", va="center")
                height = (len(report.adjudication) + 1) * slot
                rates = axes.table(
                    cellText=[rate_cells(rate) for rate in report.adjudication],
                    colLabels=_PDF_RATE_COLUMNS,
                    cellLoc="left",
                    bbox=Bbox.from_bounds(0.0, 1.0 - (used + 1) * slot - height, 0.6, height),
                )
                rates.auto_set_font_size(False)
                rates.set_fontsize(7)
            footer(figure, number)
            pdf.savefig(figure)
        for index, chunk in enumerate(plot_pages):
            number = len(table_pages) + index + 1
            figure = Figure(figsize=PDF_PAGE_SIZE_IN)
            figure.text(0.04, 0.97, f"Bland-Altman plots, campaign {report.campaign}", fontsize=11, va="top")
            grid = figure.subplots(2, 2, squeeze=False).ravel()
            for axes, line in itertools.zip_longest(grid, chunk):
                if line is None:
                    axes.set_visible(False)
                else:
                    draw_bland_altman(axes, line)
            figure.tight_layout(rect=(0.0, 0.04, 1.0, 0.93))
            footer(figure, number)
            pdf.savefig(figure)
