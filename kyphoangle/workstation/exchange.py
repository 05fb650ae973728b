"""Signed reads as DICOM reports (SR and GSPS) and back, the wide EDC exports and the monitoring report.

All of them are the data managers' and admins' (`Action.EXPORT_DICOM_REPORTS`, `IMPORT_DICOM_REPORTS`,
`EXPORT_EDC`, `MONITOR`). highdicom takes a second to load, so the DICOM report modules are imported
only when a report is written or read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kyphoangle.edc.rows import ReadSource, WideExport, wide_export
from kyphoangle.errors import KyphoangleError
from kyphoangle.monitoring import COLUMNS as MONITORING_COLUMNS
from kyphoangle.monitoring import (
    MonitoringLine,
    MonitoringReport,
    monitoring_report,
    write_monitoring_csv,
    write_monitoring_html,
)
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import SignedIn

__all__ = [
    "MONITORING_COLUMNS",
    "EdcSummary",
    "MonitoringLine",
    "MonitoringReport",
    "ReadSource",
    "ReportImport",
    "WrittenReports",
    "export_dicom_reports",
    "import_dicom_reports",
    "make_monitoring_report",
    "write_edc_csv",
    "write_edc_workbook",
    "write_monitoring_csv",
    "write_monitoring_html",
]


@dataclass(frozen=True, slots=True)
class WrittenReports:
    """The files written for one signed read: its structured report and, when asked, its GSPS."""

    read_id: int
    report: Path
    presentation: Path | None


@dataclass(frozen=True, slots=True)
class ReportImport:
    """What became of one report file: the draft read stored, or why it was not."""

    path: str
    read_id: int | None = None
    reader: str | None = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class EdcSummary:
    """A wide export written: how many subject visits, and the REDCap dictionary beside a CSV."""

    rows: int
    path: str
    dictionary: Path | None = None


def export_dicom_reports(
    actor: SignedIn, folder: str | Path, *, read_ids: Sequence[int] | None = None, gsps: bool = True
) -> list[WrittenReports]:
    """Write each selected signed read (default: every current one) as SR (TID 1500) and GSPS files."""
    actor.check(Action.EXPORT_DICOM_REPORTS)
    from kyphoangle.sr.archive import export_reports  # highdicom loads in a second: only when asked

    with actor.reading() as (session, user):
        written = export_reports(session, folder, actor=user, read_ids=read_ids, gsps=gsps)
    return [WrittenReports(w.read_id, w.report, w.presentation) for w in written]


def import_dicom_reports(
    actor: SignedIn, paths: Sequence[str | Path], *, reader: str | None = None
) -> list[ReportImport]:
    """Store the read of each kyphoangle report as a draft by the reader it names (or `reader`), each in
    its own transaction, after checking its values against its landmarks; one outcome per file."""
    actor.check(Action.IMPORT_DICOM_REPORTS)
    from kyphoangle.sr.archive import import_report

    outcomes = []
    for path in paths:
        try:
            with actor.writing() as (session, user):
                read = import_report(session, path, actor=user, reader_login=reader)
                outcome = ReportImport(str(path), read.id, read.reader.login)
        except KyphoangleError as exc:
            outcome = ReportImport(str(path), error=str(exc))
        outcomes.append(outcome)
    return outcomes


def _wide_export(actor: SignedIn, source: ReadSource | str) -> WideExport:
    actor.check(Action.EXPORT_EDC)
    with actor.reading() as (session, user):
        return wide_export(session, actor=user, source=source)


def write_edc_csv(
    actor: SignedIn, out: str | Path, *, source: ReadSource | str = ReadSource.SITE
) -> EdcSummary:
    """One row per subject and visit (REDCap field names, coded values) and the REDCap dictionary."""
    from kyphoangle.edc.wide_csv import write_wide_csv

    export = _wide_export(actor, source)
    dictionary = write_wide_csv(export, out)
    return EdcSummary(len(export.rows), str(out), dictionary)


def write_edc_workbook(
    actor: SignedIn, out: str | Path, *, source: ReadSource | str = ReadSource.SITE
) -> EdcSummary:
    """The same data as an Excel workbook, with the dictionary and the conventions."""
    from kyphoangle.edc.workbook import write_workbook

    export = _wide_export(actor, source)
    write_workbook(export, out)
    return EdcSummary(len(export.rows), str(out))


def make_monitoring_report(actor: SignedIn, *, today: dt.date | None = None) -> MonitoringReport:
    """Per site, subject and visit: films, reads, central reading and what is overdue (as of `today`)."""
    actor.check(Action.MONITOR)
    with actor.reading() as (session, user):
        return monitoring_report(session, actor=user, today=today)
