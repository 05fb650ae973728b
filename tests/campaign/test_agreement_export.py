"""Campaign agreement statistics from known readings, the blinded CSV export and the audited key file."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from campaign_helpers import FILMS, REPEATS, People, Readings, make_people, make_study, run_campaign
from conftest import Staff

from kyphoangle.agreement import MIN_CASES, bland_altman, icc_2_1, minimal_detectable_change, sem_agreement
from kyphoangle.agreement_report import (
    ALL_LEVELS,
    AgreementScope,
    agreement_line,
    agreement_report,
    text_lines,
    write_html,
)
from kyphoangle.campaign import get_campaign
from kyphoangle.campaign_export import CAMPAIGN_COLUMNS, export_campaign
from kyphoangle.errors import PermissionDeniedError
from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditAction, AuditEntity, list_events
from kyphoangle.storage.models import User

REPEAT_SHIFT = 1.5


@pytest.fixture
def readings(database: Database, staff: Staff) -> tuple[People, Readings]:
    make_study(database, staff.manager)
    people = make_people(database, staff.admin, staff.manager)
    return people, run_campaign(database, people, repeat_shift=REPEAT_SHIFT)


def test_inter_and_intra_reader_agreement_from_known_values(
    database: Database, readings: tuple[People, Readings]
) -> None:
    people, r = readings
    with database.reading() as session:
        report = agreement_report(
            session, get_campaign(session, "CR1"), actor=session.get_one(User, people.manager)
        )
    (inter,) = [
        line
        for line in report.lines
        if line.scope is AgreementScope.INTER and line.measurement == "regional_angle" and line.level == "L1"
    ]
    assert inter.n == FILMS
    # The synthetic spine's own regional angle at L1 is the same on every film, so the readings are known
    # up to one constant, which neither the ICC nor Bland-Altman nor the SEM depend on.
    (base,) = {round(a - r.first[c], 6) for c, (a, _) in zip(sorted(r.codes), inter.pairs, strict=True)}
    table = [[r.first[c], r.second[c]] for c in sorted(r.codes)]
    for (a, b), (x, y) in zip(inter.pairs, table, strict=True):
        assert a == pytest.approx(base + x, abs=1e-6) and b == pytest.approx(base + y, abs=1e-6)
    expected = icc_2_1(table)
    limits = bland_altman([row[0] for row in table], [row[1] for row in table])
    assert inter.icc == pytest.approx(expected.icc, abs=1e-9)
    assert (inter.icc_ci_low, inter.icc_ci_high) == pytest.approx(
        (expected.ci_low, expected.ci_high), abs=1e-9
    )
    assert inter.bias == pytest.approx(limits.bias, abs=1e-9)
    mean_difference = sum(y - x for x, y in table) / len(table)
    assert inter.bias == pytest.approx(mean_difference, abs=1e-9)
    assert (inter.loa_low, inter.loa_high) == pytest.approx(
        (limits.lower_limit, limits.upper_limit), abs=1e-9
    )
    sem = sem_agreement(expected.anova)
    assert inter.sem == pytest.approx(sem) and inter.mdc == pytest.approx(minimal_detectable_change(sem))
    assert inter.mdc == pytest.approx(1.96 * math.sqrt(2) * sem, rel=1e-3)
    pooled = [
        line
        for line in report.lines
        if line.scope is AgreementScope.INTER
        and line.measurement == "regional_angle"
        and line.level == ALL_LEVELS
    ]
    assert pooled and pooled[0].pairs == inter.pairs  # one fractured level: pooling changes nothing

    intra = [line for line in report.lines if line.scope is AgreementScope.INTRA and line.level == "L1"]
    assert {line.reader for line in intra} == {"central1", "central2"}
    for line in intra:
        assert line.n == REPEATS
        shift = REPEAT_SHIFT if line.reader == "central1" else -REPEAT_SHIFT
        assert line.bias == pytest.approx(shift, abs=1e-6)
        assert line.loa_low == pytest.approx(shift, abs=1e-6)

    rates = {rate.reader: rate for rate in report.adjudication}
    assert rates["central1"].compared == FILMS and rates["central1"].adjudicated == 1
    assert rates["central1"].rate == pytest.approx(1 / FILMS)
    assert any(f"adjudication central1: 1/{FILMS}" in line for line in text_lines(report))


def test_html_report_embeds_plots(
    database: Database, readings: tuple[People, Readings], tmp_path: Path
) -> None:
    people, _ = readings
    with database.reading() as session:
        report = agreement_report(
            session, get_campaign(session, "CR1"), actor=session.get_one(User, people.manager)
        )
    out = tmp_path / "report.html"
    write_html(report, out)
    page = out.read_text()
    assert page.count("data:image/png;base64,") >= 3
    assert "ICC(2,1)" in page


def test_agreement_needs_a_data_manager(database: Database, readings: tuple[People, Readings]) -> None:
    people, _ = readings
    with database.reading() as session, pytest.raises(PermissionDeniedError):
        agreement_report(session, get_campaign(session, "CR1"), actor=session.get_one(User, people.central1))


def test_export_is_blinded_and_the_key_is_audited(
    database: Database, readings: tuple[People, Readings], tmp_path: Path
) -> None:
    people, r = readings
    out, key = tmp_path / "campaign.csv", tmp_path / "key.csv"
    with database.transaction() as session:
        summary = export_campaign(
            session, get_campaign(session, "CR1"), out, actor=session.get_one(User, people.manager)
        )
    assert summary.key_path is None and not key.exists()
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CAMPAIGN_COLUMNS
    for forbidden in (
        "subject",
        "visit",
        "visit_day",
        "date",
        "study_date",
        "site",
        "sop_instance_uid",
        "patient",
    ):
        assert not any(forbidden in column for column in CAMPAIGN_COLUMNS), forbidden
    text = out.read_text()
    assert "PID-" not in text and "Doe" not in text and "1.2.826" not in text
    assert {row["read_type"] for row in rows} == {"central", "repeat"}
    finals = {row["read_id"] for row in rows if row["final"] == "1"}
    assert len(finals) == FILMS - 1  # the forced case awaits adjudication: no final read yet
    assert {row["case_code"] for row in rows} == set(r.codes)

    with database.reading() as session:
        before = list_events(session, entity=AuditEntity.CAMPAIGN)
    with database.transaction() as session, pytest.raises(PermissionDeniedError):
        export_campaign(
            session, get_campaign(session, "CR1"), out, actor=session.get_one(User, people.central1), key=key
        )
    assert not key.exists()
    with database.transaction() as session:
        export_campaign(
            session, get_campaign(session, "CR1"), out, actor=session.get_one(User, people.manager), key=key
        )
    with key.open(newline="") as handle:
        keys = list(csv.DictReader(handle))
    assert {row["case_code"] for row in keys} == set(r.codes)
    assert all(row["subject"] and row["visit"] for row in keys)
    with database.reading() as session:
        after = list_events(session, entity=AuditEntity.CAMPAIGN)
    (event,) = after[len(before) :]
    assert event.action == AuditAction.EXPORT and event.actor_login == "manager"
    assert event.new_values["cases"] == FILMS


def test_too_few_cases_give_a_line_without_numbers() -> None:
    rows = [(10.0, 11.0), (12.0, 12.5), (9.0, 9.4), (14.0, 13.0)]
    line = agreement_line(
        AgreementScope.INTER, "", "reader 1 vs reader 2", "regional_angle", "L1", "deg", rows
    )
    assert line.n == 4 and line.icc is None and line.bias is None and line.sem is None
    assert line.note == f"too few cases for reliability statistics (4; {MIN_CASES} or more)"
    five = agreement_line(
        AgreementScope.INTER, "", "reader 1 vs reader 2", "regional_angle", "L1", "deg", [*rows, (11.0, 11.2)]
    )
    assert five.icc is not None and five.bias is not None and five.note == ""
