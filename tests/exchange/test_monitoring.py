"""The trial monitoring report: films per visit and window, reads, central reading, overdue items."""

from __future__ import annotations

import csv
import datetime as dt
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, DemoStudy

from kyphoangle.cli import main
from kyphoangle.storage.images import assign_visit
from kyphoangle.storage.models import Image, Subject, Visit
from kyphoangle.storage.users import get_user


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.classes: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "tr":
            self.rows.append([])
            self.classes.append(dict(attrs).get("class") or "")

    def handle_data(self, data: str) -> None:
        if self.rows and data.strip():
            self.rows[-1].append(data.strip())


def _report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, today: dt.date
) -> tuple[list[dict[str, str]], Path]:
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", ADMIN_PASSWORD)
    out, page = tmp_path / "monitoring.csv", tmp_path / "monitoring.html"
    argv = ["monitoring", str(out), "--html", str(page), "--today", today.isoformat(), "--user", "admin"]
    assert main(argv) == 0
    with out.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream)), page


def test_every_subject_visit_with_films_reads_and_overdue_items(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo.open().transaction() as session:
        subject = session.query(Subject).order_by(Subject.code).first()
        assert subject is not None and subject.procedure_date is not None
        film = (
            session.query(Image)
            .join(Visit, Visit.id == Image.visit_id)
            .filter(Image.subject_id == subject.id, Visit.code == "D15")
            .one()
        )
        # a D15 film put into D90 by hand: its date is outside the D90 window
        assign_visit(session, film, "D90", actor=get_user(session, "admin"), reason="test")
        code, procedure = subject.code, subject.procedure_date
        imported = film.imported_at.date()
    today = max(imported + dt.timedelta(days=30), procedure + dt.timedelta(days=400))
    rows, page = _report(tmp_path, monkeypatch, today)
    with demo.open().reading() as session:
        assert len(rows) == session.query(Subject).count() * session.query(Visit).count()
    mine = {r["visit"]: r for r in rows if r["subject"] == code}
    assert mine["D15"]["films"] == "0" and mine["D15"]["overdue"].startswith("film overdue")
    assert mine["D90"]["films"] == "2" and mine["D90"]["films_in_window"] == "1"
    assert mine["D90"]["films_outside_window"] == "D15"
    # baseline: signed by the site reader; the others have no site read 30 days after import
    assert mine["baseline"]["site_reads_signed"] == "1" and "site read" not in mine["baseline"]["overdue"]
    assert "site read overdue (1 film)" in mine["D2-D5"]["overdue"]
    assert any("adjudication pending" in r["overdue"] for r in rows)
    assert sum(int(r["adjudications_pending"]) for r in rows) >= 1
    assert sum(int(r["central_cases_finished"]) + int(r["central_cases_reading"]) for r in rows) > 0
    parser = _Cells()
    parser.feed(page.read_text(encoding="utf-8"))
    overdue_rows = [row for row, css in zip(parser.rows, parser.classes, strict=True) if css == "overdue"]
    assert len(overdue_rows) == sum(1 for r in rows if r["overdue"])
    assert any(row[0].startswith("Site ") for row in parser.rows)
    assert "DEMO" not in page.read_text(encoding="utf-8")


def test_nothing_is_overdue_before_the_windows_close(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with demo.open().reading() as session:
        first = min(s.procedure_date for s in session.query(Subject) if s.procedure_date is not None)
    rows, _ = _report(tmp_path, monkeypatch, first - dt.timedelta(days=30))
    assert all("film overdue" not in r["overdue"] for r in rows)


def test_readers_may_not_see_the_report(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", "central-1!")
    assert main(["monitoring", str(tmp_path / "m.csv"), "--user", "central1"]) == 3
    assert "not permitted" in capsys.readouterr().err
    assert not (tmp_path / "m.csv").exists()
