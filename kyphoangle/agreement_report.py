"""Reliability of a reading campaign: inter- and intra-reader agreement, adjudication rates, a report.

Which values: signed, current reads only. Inter-reader agreement compares the two readers' first
(non-repeat) reads of each case; intra-reader agreement compares a reader's first read with their
repeat read of the same case. For each of the campaign's measurements, statistics are given per level
and pooled over levels (`level` = `all`: each case and level is one row; level-independent measurements
such as `thoracic_kyphosis` have only the pooled line). The statistics are those of
`kyphoangle.agreement`: ICC(2,1) with its 95% CI, Bland-Altman bias (reader 2 minus reader 1, or
repeat minus first) and 95% limits, SEM (absolute agreement) and MDC95. Too few pairs leave the
statistics empty, with the reason in `note`.

Adjudication rate per reader: among the cases both readers have signed, the share that met the
adjudication rule, and how often that reader's read was then chosen as final or overruled.
"""

from __future__ import annotations

import base64
import csv
import enum
import html
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from sqlalchemy.orm import Session

from kyphoangle.agreement import (
    AgreementError,
    bland_altman,
    icc_2_1,
    minimal_detectable_change,
    sem_agreement,
)
from kyphoangle.campaign import (
    READER_ROLES,
    CaseState,
    campaign_reads,
    case_state,
    evaluate_rule_for_case,
    final_reads,
    get_case,
    members_of,
    settings_of,
)
from kyphoangle.storage.models import Campaign, CampaignRole, Read, ReadStatus, User
from kyphoangle.storage.reads import measurements_of
from kyphoangle.storage.users import Permission, require_permission

_Values = dict[tuple[str, str | None], tuple[float, str]]
"""A read's values by (measurement, level), with their unit."""

ALL_LEVELS = "all"
"""The `level` of statistics pooled over levels."""


class AgreementScope(enum.StrEnum):
    """Between the two readers, or one reader with themself (first read against the repeat)."""

    INTER = "inter"
    INTRA = "intra"


@dataclass(frozen=True, slots=True)
class AgreementLine:
    """The statistics of one measurement (one level or pooled) in one scope."""

    scope: AgreementScope
    reader: str
    """Empty for inter-reader lines; the reader for intra-reader lines."""
    measurement: str
    level: str
    unit: str
    pairs: tuple[tuple[float, float], ...]
    icc: float | None = None
    icc_ci_low: float | None = None
    icc_ci_high: float | None = None
    bias: float | None = None
    loa_low: float | None = None
    loa_high: float | None = None
    sem: float | None = None
    mdc: float | None = None
    note: str = ""

    @property
    def n(self) -> int:
        """Number of complete pairs."""
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
    "campaign", "scope", "reader", "measurement", "level", "unit", "n", "icc", "icc_ci_low", "icc_ci_high",
    "bias", "loa_low", "loa_high", "sem", "mdc", "note",
)  # fmt: skip


def _line(
    scope: AgreementScope, reader: str, name: str, level: str, unit: str, pairs: Sequence[tuple[float, float]]
) -> AgreementLine:
    base = AgreementLine(scope, reader, name, level, unit, tuple(pairs))
    try:
        icc = icc_2_1(pairs)
        limits = bland_altman([a for a, _ in pairs], [b for _, b in pairs])
    except AgreementError as exc:
        return AgreementLine(scope, reader, name, level, unit, tuple(pairs), note=str(exc))
    sem = sem_agreement(icc.anova)
    return AgreementLine(
        base.scope,
        base.reader,
        base.measurement,
        base.level,
        base.unit,
        base.pairs,
        icc=icc.icc,
        icc_ci_low=icc.ci_low,
        icc_ci_high=icc.ci_high,
        bias=limits.bias,
        loa_low=limits.lower_limit,
        loa_high=limits.upper_limit,
        sem=sem,
        mdc=minimal_detectable_change(sem),
    )


def _values(read: Read, names: set[str]) -> _Values:
    return {
        key: (row.value, str(row.unit))
        for key, row in measurements_of(read).items()
        if key[0] in names and row.value is not None
    }


def agreement_report(session: Session, campaign: Campaign, *, actor: User) -> AgreementReport:
    """Compute the campaign's reliability statistics (data managers and admins)."""
    require_permission(actor, Permission.EXPORT)
    names = {str(m) for m in settings_of(campaign).measurements}
    members = members_of(session, campaign)
    login_of = {role: members[role][1].login for role in READER_ROLES}
    first: dict[tuple[str, CampaignRole], _Values] = {}
    repeat: dict[tuple[str, CampaignRole], _Values] = {}
    first_ids: dict[tuple[str, CampaignRole], int] = {}
    for case_code, role, is_repeat, read in campaign_reads(session, campaign):
        if role not in READER_ROLES or read.status != ReadStatus.SIGNED:
            continue
        target = repeat if is_repeat else first
        target[(case_code, role)] = _values(read, names)
        if not is_repeat:
            first_ids[(case_code, role)] = read.id

    lines: list[AgreementLine] = []

    def add_lines(
        scope: AgreementScope,
        reader: str,
        table: list[tuple[_Values, _Values]],
    ) -> None:
        per_key: dict[tuple[str, str | None], list[tuple[float, float]]] = defaultdict(list)
        units: dict[str, str] = {}
        for a, b in table:
            for key in a.keys() & b.keys():
                per_key[key].append((a[key][0], b[key][0]))
                units[key[0]] = a[key][1]
        for name in sorted(names):
            keys = sorted((k for k in per_key if k[0] == name), key=lambda k: k[1] or "")
            leveled = [k for k in keys if k[1] is not None]
            for key in leveled:
                lines.append(_line(scope, reader, name, str(key[1]), units[name], per_key[key]))
            pooled = [pair for key in keys for pair in per_key[key]]
            lines.append(_line(scope, reader, name, ALL_LEVELS, units.get(name, ""), pooled))

    cases = sorted({code for code, _ in first})
    inter = [
        (first[(c, CampaignRole.READER_1)], first[(c, CampaignRole.READER_2)])
        for c in cases
        if (c, CampaignRole.READER_1) in first and (c, CampaignRole.READER_2) in first
    ]
    add_lines(AgreementScope.INTER, "", inter)
    for role in READER_ROLES:
        intra = [(first[key], repeat[key]) for key in sorted(repeat) if key[1] == role and key in first]
        add_lines(AgreementScope.INTRA, login_of[role], intra)

    finals = set(final_reads(session, campaign).values())
    compared = [c for c in cases if all((c, role) in first_ids for role in READER_ROLES)]
    adjudicated = [
        c for c in compared if evaluate_rule_for_case(session, campaign, get_case(session, campaign, c))
    ]
    decided = [
        c
        for c in adjudicated
        if case_state(session, campaign, get_case(session, campaign, c)) is CaseState.FINISHED
    ]
    rates = []
    for role in READER_ROLES:
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
        with out.open("w", newline="", encoding="utf-8") as handle:
            _csv_to(report, handle)
    else:
        _csv_to(report, out)


def _csv_to(report: AgreementReport, handle: TextIO) -> None:
    writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
    writer.writeheader()
    writer.writerows(csv_rows(report))


def text_lines(report: AgreementReport) -> list[str]:
    """A plain-text summary, one line per statistic line and per reader's adjudication rate."""
    out = [f"Agreement in campaign {report.campaign}"]
    for line in report.lines:
        who = "inter-reader" if line.scope is AgreementScope.INTER else f"intra-reader {line.reader}"
        head = f"{who:<24} {line.measurement} {line.level:<4} n={line.n:<3}"
        if line.icc is None:
            out.append(f"{head} {line.note}")
            continue
        out.append(
            f"{head} ICC {line.icc:.3f} [{line.icc_ci_low:.3f}, {line.icc_ci_high:.3f}]  "
            f"bias {line.bias:+.2f} {line.unit} (LoA {line.loa_low:+.2f} to {line.loa_high:+.2f})  "
            f"SEM {line.sem:.2f}  MDC {line.mdc:.2f}"
        )
    for rate in report.adjudication:
        share = "-" if rate.rate is None else f"{100 * rate.rate:.0f}%"
        out.append(
            f"adjudication {rate.reader}: {rate.adjudicated}/{rate.compared} cases ({share}); "
            f"read chosen {rate.chosen}, overruled {rate.overruled}"
        )
    return out


def _bland_altman_png(line: AgreementLine) -> str:
    """A Bland-Altman plot of the line's pairs as base64 PNG (matplotlib, no GUI backend)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.0, 3.6), dpi=100)
    axes = figure.subplots()
    means = [(a + b) / 2 for a, b in line.pairs]
    differences = [b - a for a, b in line.pairs]
    axes.scatter(means, differences, s=14, color="#1f4e79")
    for value, style in ((line.bias, "-"), (line.loa_low, "--"), (line.loa_high, "--")):
        if value is not None:
            axes.axhline(value, linestyle=style, color="#a33", linewidth=1)
    second = "reader 2" if line.scope is AgreementScope.INTER else "repeat"
    first = "reader 1" if line.scope is AgreementScope.INTER else "first read"
    axes.set_xlabel(f"mean of the two reads ({line.unit})")
    axes.set_ylabel(f"{second} - {first} ({line.unit})")
    who = "inter-reader" if line.scope is AgreementScope.INTER else f"intra-reader {line.reader}"
    axes.set_title(f"{line.measurement} {line.level}: {who}", fontsize=10)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


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
        f'<figure><img alt="Bland-Altman {e(line.measurement)} {e(line.level)}" '
        f'src="data:image/png;base64,{_bland_altman_png(line)}"></figure>'
        for line in report.lines
        if line.bias is not None
    )
    header = "".join(f"<th>{e(c)}</th>" for c in CSV_COLUMNS[1:])
    document = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Agreement: {e(report.campaign)}</title>
<style>body{{font-family:sans-serif}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px}} figure{{display:inline-block;margin:4px}}</style></head>
<body><h1>Reader agreement in campaign {e(report.campaign)}</h1>
<p>ICC(2,1) (two-way random, absolute agreement, single measures) with 95% CI; Bland-Altman bias and 95%
limits of agreement (reader 2 minus reader 1, or repeat minus first read); SEM (absolute agreement) and
MDC95 = 1.96 &times; &radic;2 &times; SEM. Signed reads only.</p>
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
    out.write_text(document, encoding="utf-8")
