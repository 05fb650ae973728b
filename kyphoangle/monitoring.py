"""The trial monitoring report for the data manager: per site, subject and visit, what is done and due.

One line per subject and scheduled visit: how many films the visit has, whether each film's date falls in
the visit's window (a film assigned by hand may not), the site reads signed or still in draft, the
central reading of the films (cases being read, awaiting adjudication, finished) and what is overdue:

- `film overdue`: the visit's window has closed (`today` is past procedure day + the window's last day)
  and the visit has no film, for a subject still active (withdrawn and deceased subjects owe nothing);
- `site read overdue`: a film of the visit was imported more than `SITE_READ_DAYS` days ago and has no
  signed site read;
- `adjudication pending`: a central case of the visit waits for the adjudicator.

Days are study days (from the procedure, D0); no patient identity appears. Written as CSV (one row per
line) and as a self-contained HTML page (overdue lines highlighted), both through `output_file`.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
from collections import Counter
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.campaign import CaseState, case_state
from kyphoangle.output_file import output_text
from kyphoangle.storage.models import (
    Campaign,
    CampaignCase,
    Image,
    Read,
    Subject,
    User,
)
from kyphoangle.storage.schedule import study_day
from kyphoangle.storage.study import get_study
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.vocabulary import ReadStatus, ReadType, SubjectStatus

SITE_READ_DAYS = 14
"""Days after a film's import by which its site read should be signed."""


@dataclass(frozen=True, slots=True)
class MonitoringLine:
    """One subject's visit: films, reads, central reading, what is overdue."""

    site: str
    subject: str
    subject_status: str
    visit: str
    window: str
    films: int
    films_in_window: int
    films_outside_window: str
    """Study days of the films outside the window (assigned by hand), e.g. `D21`; empty when none."""
    site_reads_signed: int
    site_reads_draft: int
    central_cases_reading: int
    central_cases_finished: int
    adjudications_pending: int
    overdue: str
    """`; `-separated overdue items, empty when nothing is overdue."""


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(MonitoringLine))


@dataclass(frozen=True, slots=True)
class MonitoringReport:
    """The lines and when the report was made."""

    made_on: dt.date
    lines: tuple[MonitoringLine, ...]

    @property
    def overdue_count(self) -> int:
        """Lines with something overdue."""
        return sum(1 for line in self.lines if line.overdue)


def _case_states(session: Session) -> dict[int, list[CaseState]]:
    states: dict[int, list[CaseState]] = {}
    for campaign in session.scalars(select(Campaign)):
        for case in session.scalars(select(CampaignCase).where(CampaignCase.campaign_id == campaign.id)):
            states.setdefault(case.image_id, []).append(case_state(session, campaign, case))
    return states


def monitoring_report(session: Session, *, actor: User, today: dt.date | None = None) -> MonitoringReport:
    """The report as of `today` (default: the current UTC date)."""
    require_permission(actor, Permission.EXPORT)
    today = today or dt.datetime.now(dt.UTC).date()
    visits = sorted(get_study(session).visits, key=lambda v: v.position)
    images: dict[tuple[int, int], list[Image]] = {}
    for image in session.scalars(select(Image).where(Image.visit_id.is_not(None))):
        assert image.visit_id is not None
        images.setdefault((image.subject_id, image.visit_id), []).append(image)
    site_reads: Counter[tuple[int, str]] = Counter()
    for image_id, status in session.execute(
        select(Read.image_id, Read.status).where(
            Read.read_type == ReadType.SITE, Read.superseded_by_id.is_(None)
        )
    ):
        site_reads[(image_id, str(status))] += 1
    cases = _case_states(session)
    lines = []
    subjects = session.scalars(select(Subject)).all()
    for subject in sorted(subjects, key=lambda s: ((s.site.code if s.site else ""), s.code)):
        active = subject.status == SubjectStatus.ACTIVE
        for visit in visits:
            films = images.get((subject.id, visit.id), [])
            days = [study_day(f.study_date, subject.procedure_date) for f in films]
            outside = [d for d in days if d is not None and not visit.min_day <= d <= visit.max_day]
            signed = sum(site_reads[(f.id, ReadStatus.SIGNED.value)] for f in films)
            drafts = sum(site_reads[(f.id, ReadStatus.DRAFT.value)] for f in films)
            states = [state for f in films for state in cases.get(f.id, [])]
            overdue = []
            if not films and active and subject.procedure_date is not None:
                closes = subject.procedure_date + dt.timedelta(days=visit.max_day)
                if today > closes:
                    overdue.append(f"film overdue ({(today - closes).days} days after the window)")
            late = [
                f
                for f in films
                if site_reads[(f.id, ReadStatus.SIGNED.value)] == 0
                and (today - f.imported_at.date()).days > SITE_READ_DAYS
            ]
            if late:
                overdue.append(f"site read overdue ({len(late)} film{'s' if len(late) > 1 else ''})")
            pending = states.count(CaseState.AWAITING_ADJUDICATION)
            if pending:
                overdue.append(f"adjudication pending ({pending})")
            lines.append(
                MonitoringLine(
                    site=subject.site.code if subject.site else "",
                    subject=subject.code,
                    subject_status=str(subject.status),
                    visit=visit.code,
                    window=f"D{visit.min_day} to D{visit.max_day}",
                    films=len(films),
                    films_in_window=len(films) - len(outside) - sum(1 for d in days if d is None),
                    films_outside_window=" ".join(f"D{d}" for d in outside),
                    site_reads_signed=signed,
                    site_reads_draft=drafts,
                    central_cases_reading=states.count(CaseState.READING),
                    central_cases_finished=states.count(CaseState.FINISHED),
                    adjudications_pending=pending,
                    overdue="; ".join(overdue),
                )
            )
    return MonitoringReport(made_on=today, lines=tuple(lines))


def write_monitoring_csv(report: MonitoringReport, path: str | Path) -> None:
    """One row per line, the columns of `MonitoringLine`."""
    with output_text(path, newline="") as stream:
        writer = csv.writer(stream, lineterminator="\n")
        writer.writerow(COLUMNS)
        for line in report.lines:
            writer.writerow(astuple(line))


_STYLE = """
body { font-family: sans-serif; margin: 1.5em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.5em; text-align: left; }
th { background: #eee; }
tr.overdue td { background: #fde2e1; }
tr.site td { background: #dde8f5; font-weight: bold; }
"""


def _row(cells: Sequence[object], tag: str = "td", css: str = "") -> str:
    body = "".join(f"<{tag}>{html.escape(str(cell))}</{tag}>" for cell in cells)
    return f'<tr class="{css}">{body}</tr>' if css else f"<tr>{body}</tr>"


def monitoring_html(report: MonitoringReport) -> str:
    """The report as one self-contained HTML page, grouped by site."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>Trial monitoring report</title>',
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Trial monitoring report</h1>",
        f"<p>As of {report.made_on.isoformat()}: {len(report.lines)} subject visits, "
        f"{report.overdue_count} with overdue items (highlighted).</p>",
        "<table>",
        _row([c.replace("_", " ") for c in COLUMNS], "th"),
    ]
    site = None
    for line in report.lines:
        if line.site != site:
            site = line.site
            label = html.escape(site or "(none)")
            parts.append(f'<tr class="site"><td colspan="{len(COLUMNS)}">Site {label}</td></tr>')
        parts.append(_row(astuple(line), css="overdue" if line.overdue else ""))
    parts += ["</table>", "</body></html>", ""]
    return "\n".join(parts)


def write_monitoring_html(report: MonitoringReport, path: str | Path) -> None:
    """Write the HTML page."""
    with output_text(path) as stream:
        stream.write(monitoring_html(report))
