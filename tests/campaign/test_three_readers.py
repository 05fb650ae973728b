"""Campaigns of more than two readers end to end: worklists, the pairwise rule, finals, export, agreement."""

from __future__ import annotations

import csv
import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from campaign_helpers import (
    FILMS,
    REPEAT_SHIFTS,
    REPEATS,
    THREE_READERS,
    People,
    ThreeReadings,
    campaign_case_codes,
    create,
    make_people,
    make_readers,
    make_study,
    read_all,
    run_three_reader_campaign,
    three_reader_angles,
)
from conftest import Staff

from kyphoangle.agreement_report import (
    ALL_LEVELS,
    ALL_READERS,
    AgreementLine,
    AgreementScope,
    agreement_report,
    text_lines,
    write_html,
)
from kyphoangle.campaign import (
    CampaignError,
    CaseState,
    adjudicate,
    adjudication_worklist,
    campaign_progress,
    case_reads,
    case_state,
    create_campaign,
    evaluate_rule_for_case,
    final_reads,
    get_campaign,
    get_case,
    members_of,
    reader_name,
    reader_roles,
    worklist,
)
from kyphoangle.campaign_export import export_campaign
from kyphoangle.storage import Database
from kyphoangle.storage.audit import AuditEntity, list_events, verify_trail
from kyphoangle.storage.models import User
from kyphoangle.storage.reads import get_read
from kyphoangle.storage.users import get_user
from kyphoangle.vocabulary import CampaignRole

Z_95 = 1.959963984540054
"""The 97.5% quantile of the standard normal distribution."""


@pytest.fixture
def people(database: Database, staff: Staff) -> People:
    make_study(database, staff.manager)
    return make_people(database, staff.admin, staff.manager)


@pytest.fixture
def central3(database: Database, staff: Staff, people: People) -> int:
    return make_readers(database, staff.admin, ["central3"])["central3"]


def _report_lines(database: Database, people: People, code: str = "K3") -> tuple[AgreementLine, ...]:
    with database.reading() as session:
        report = agreement_report(
            session, get_campaign(session, code), actor=session.get_one(User, people.manager)
        )
    return report.lines


def test_creation_takes_two_to_six_readers(database: Database, staff: Staff, people: People) -> None:
    extra = make_readers(database, staff.admin, [f"central{n}" for n in range(3, 8)])
    ids = [people.central1, people.central2, *extra.values()]
    with database.transaction() as session:
        manager = session.get_one(User, people.manager)
        users = [session.get_one(User, user_id) for user_id in ids]
        adjudicator = session.get_one(User, people.adjudicator)
        with pytest.raises(CampaignError, match="2 to 6 central readers, not 7"):
            create_campaign(session, actor=manager, code="X", readers=users, adjudicator=adjudicator)
        six = create_campaign(
            session, actor=manager, code="SIX", readers=users[:6], adjudicator=adjudicator, min_gap=1
        )
        assert reader_roles(session, six) == tuple(CampaignRole(f"reader_{n}") for n in range(1, 7))
        members = members_of(session, six)
        assert list(members) == [*reader_roles(session, six), CampaignRole.ADJUDICATOR]
        assert [user.login for _, user in members.values()] == [
            "central1", "central2", "central3", "central4", "central5", "central6", "adjudicator2",
        ]  # fmt: skip
        progress = campaign_progress(session, six)
        assert [r.role for r in progress.readers] == list(reader_roles(session, six))
        (event,) = list_events(session, entity=AuditEntity.CAMPAIGN, entity_id=six.id)
        assert event.new_values["readers"]["reader_6"] == "central6"
        assert [reader_name(role) for role in reader_roles(session, six)] == [
            f"reader {n}" for n in range(1, 7)
        ]


def test_worklists_and_rule_wait_for_all_three_readers(
    database: Database, people: People, central3: int
) -> None:
    create(database, people, "K3", readers=[people.central1, people.central2, central3])
    with database.reading() as session:
        campaign = get_campaign(session, "K3")
        orders = {
            login: [e.case_code for e in worklist(session, campaign, get_user(session, login))]
            for login in THREE_READERS
        }
        assert len(list_events(session, entity=AuditEntity.WORKLIST)) == 3
    assert all(len(order) == FILMS + REPEATS for order in orders.values())
    assert len({tuple(order) for order in orders.values()}) == 3  # each reader has their own order

    readings = three_reader_angles(campaign_case_codes(database, "K3"))
    for login in THREE_READERS[:2]:
        read_all(database, "K3", login, readings.angles[login])
    with database.reading() as session:
        campaign = get_campaign(session, "K3")
        # Readers 1 and 2 agree everywhere, and reader 3 has not signed yet: nothing to decide.
        progress = campaign_progress(session, campaign)
        assert progress.reading == FILMS and progress.awaiting_adjudication == 0
        assert [(r.login, r.role, r.remaining) for r in progress.readers] == [
            ("central1", CampaignRole.READER_1, 0),
            ("central2", CampaignRole.READER_2, 0),
            ("central3", CampaignRole.READER_3, FILMS + REPEATS),
        ]
        forced = get_case(session, campaign, readings.forced)
        assert evaluate_rule_for_case(session, campaign, forced) is None
        assert adjudication_worklist(session, campaign, session.get_one(User, people.adjudicator)) == []
        assert final_reads(session, campaign) == {}
    read_all(database, "K3", "central3", readings.angles["central3"])
    with database.reading() as session:
        campaign = get_campaign(session, "K3")
        assert adjudication_worklist(session, campaign, session.get_one(User, people.adjudicator)) == [
            readings.forced
        ]
        progress = campaign_progress(session, campaign)
        assert progress.finished == FILMS - 1 and progress.awaiting_adjudication == 1


def test_only_readers_2_and_3_disagreeing_triggers_adjudication(
    database: Database, people: People, central3: int
) -> None:
    readings = run_three_reader_campaign(database, people, central3)
    with database.transaction() as session:
        campaign = get_campaign(session, "K3")
        adjudicator = session.get_one(User, people.adjudicator)
        case = get_case(session, campaign, readings.forced)
        triggers = evaluate_rule_for_case(session, campaign, case)
        assert triggers == ["regional_angle at L1 differs by 6.0 deg between reader 2 and reader 3 (> 5 deg)"]
        assert not any(login in trigger for trigger in triggers for login in (*THREE_READERS, "PID"))
        outcomes = [
            e.new_values
            for e in list_events(session, entity=AuditEntity.ADJUDICATION)
            if e.new_values.get("case_code") == readings.forced
        ]
        assert len(outcomes) == 1 and outcomes[0]["adjudication_needed"] is True
        assert outcomes[0]["triggers"] == triggers
        assert set(outcomes[0]["reads"]) == {"reader_1", "reader_2", "reader_3"}

        reads = case_reads(session, campaign, readings.forced, adjudicator)
        by_login = {read.reader.login: read for read in reads}
        assert sorted(by_login) == list(THREE_READERS)
        manager = session.get_one(User, people.manager)
        elsewhere = case_reads(session, campaign, readings.codes[0], manager)[0]
        with pytest.raises(CampaignError, match=r"\(reader 1, reader 2, reader 3\)"):
            adjudicate(session, campaign, adjudicator, readings.forced, read=elsewhere, reason="wrong case")
        adjudicate(
            session,
            campaign,
            adjudicator,
            readings.forced,
            read=by_login["central3"],
            reason="reader 3 placed the endplates right",
        )
        chosen_id = by_login["central3"].id

    with database.reading() as session:
        campaign = get_campaign(session, "K3")
        assert (
            case_state(session, campaign, get_case(session, campaign, readings.forced)) is CaseState.FINISHED
        )
        finals = final_reads(session, campaign)
        assert len(finals) == FILMS
        forced_id = get_case(session, campaign, readings.forced).id
        assert finals[forced_id] == chosen_id
        others = {
            get_read(session, read_id).reader.login
            for case_id, read_id in finals.items()
            if case_id != forced_id
        }
        assert others == {"central1"}  # without adjudication, reader 1's read is final
        decision = [e for e in list_events(session, entity=AuditEntity.ADJUDICATION) if e.action == "create"]
        assert len(decision) == 1 and decision[0].new_values["chosen"] == "reader_3"
        assert verify_trail(session).intact


def test_export_has_every_reader(database: Database, people: People, central3: int, tmp_path: Path) -> None:
    readings = run_three_reader_campaign(database, people, central3)
    out = tmp_path / "k3.csv"
    with database.transaction() as session:
        export_campaign(
            session, get_campaign(session, "K3"), out, actor=session.get_one(User, people.manager)
        )
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {(row["reader"], row["reader_role"]) for row in rows} == {
        ("central1", "reader_1"),
        ("central2", "reader_2"),
        ("central3", "reader_3"),
    }
    assert len({row["read_id"] for row in rows}) == 3 * (FILMS + REPEATS)
    finals = {row["case_code"] for row in rows if row["final"] == "1"}
    assert finals == set(readings.codes) - {readings.forced}  # the forced case awaits adjudication


def _anova_icc(table: np.ndarray) -> tuple[float, float]:
    """ICC(2,1) and the SEM of agreement from the two-way ANOVA sums of squares, written out by hand."""
    n, k = table.shape
    grand = table.mean()
    ss_total = ((table - grand) ** 2).sum()
    ss_rows = k * ((table.mean(axis=1) - grand) ** 2).sum()
    ss_columns = n * ((table.mean(axis=0) - grand) ** 2).sum()
    ss_error = ss_total - ss_rows - ss_columns
    ms_rows = ss_rows / (n - 1)
    ms_columns = ss_columns / (k - 1)
    ms_error = ss_error / ((n - 1) * (k - 1))
    icc = (ms_rows - ms_error) / (ms_rows + (k - 1) * ms_error + k * (ms_columns - ms_error) / n)
    sem = math.sqrt(max((ms_columns - ms_error) / n, 0.0) + ms_error)
    return float(icc), sem


def test_agreement_of_three_readers(database: Database, people: People, central3: int) -> None:
    readings: ThreeReadings = run_three_reader_campaign(database, people, central3)
    lines = _report_lines(database, people)
    codes = sorted(readings.codes)
    known = np.array([[readings.angles[login][c] for login in THREE_READERS] for c in codes])

    def inter(readers: str, level: str = "L1") -> AgreementLine:
        (line,) = [
            line
            for line in lines
            if line.scope is AgreementScope.INTER and line.readers == readers and line.level == level
        ]
        return line

    every = inter(ALL_READERS)
    assert every.n == FILMS and every.reader == ""
    observed = np.array(every.pairs)
    assert observed.shape == (FILMS, 3)
    # The synthetic spine adds one unknown constant to every reading; no statistic here depends on it.
    offsets = observed - known
    assert np.allclose(offsets, offsets[0, 0], atol=1e-6)
    icc, sem = _anova_icc(known)
    assert every.icc == pytest.approx(icc, abs=1e-6)
    assert every.sem == pytest.approx(sem, abs=1e-6)
    assert every.mdc == pytest.approx(Z_95 * math.sqrt(2) * sem, abs=1e-6)
    assert every.icc is not None and every.icc_ci_low is not None and every.icc_ci_high is not None
    assert every.icc_ci_low < every.icc < every.icc_ci_high
    assert every.bias is None and every.loa_low is None and every.loa_high is None
    assert inter(ALL_READERS, ALL_LEVELS).pairs == every.pairs  # one fractured level

    for (i, one), (j, other) in itertools.combinations(enumerate(THREE_READERS), 2):
        line = inter(f"reader {i + 1} vs reader {j + 1}")
        assert line.n == FILMS
        differences = known[:, j] - known[:, i]
        sd = differences.std(ddof=1)
        assert line.bias == pytest.approx(differences.mean(), abs=1e-6), (one, other)
        assert line.loa_low == pytest.approx(differences.mean() - Z_95 * sd, abs=1e-6)
        assert line.loa_high == pytest.approx(differences.mean() + Z_95 * sd, abs=1e-6)
        pair_icc, pair_sem = _anova_icc(known[:, [i, j]])
        assert line.icc == pytest.approx(pair_icc, abs=1e-6) and line.sem == pytest.approx(pair_sem, abs=1e-6)
    assert {line.readers for line in lines if line.scope is AgreementScope.INTER} == {
        ALL_READERS, "reader 1 vs reader 2", "reader 1 vs reader 3", "reader 2 vs reader 3",
    }  # fmt: skip

    intra = {line.reader: line for line in lines if line.scope is AgreementScope.INTRA and line.level == "L1"}
    assert set(intra) == set(THREE_READERS)
    for n, login in enumerate(THREE_READERS, start=1):
        assert intra[login].readers == f"reader {n}"
        assert intra[login].n == REPEATS and intra[login].bias == pytest.approx(
            REPEAT_SHIFTS[login], abs=1e-6
        )

    with database.reading() as session:
        report = agreement_report(
            session, get_campaign(session, "K3"), actor=session.get_one(User, people.manager)
        )
    rates = {rate.reader: rate for rate in report.adjudication}
    assert list(rates) == list(THREE_READERS)
    assert all(rate.compared == FILMS and rate.adjudicated == 1 for rate in rates.values())
    assert all(rate.chosen == 0 and rate.overruled == 0 for rate in rates.values())  # not yet decided
    text = "\n".join(text_lines(report))
    assert "inter-reader all readers" in text and "inter-reader reader 2 vs reader 3" in text
    assert f"adjudication central3: 1/{FILMS}" in text


def test_html_report_of_three_readers(
    database: Database, people: People, central3: int, tmp_path: Path
) -> None:
    run_three_reader_campaign(database, people, central3)
    with database.reading() as session:
        report = agreement_report(
            session, get_campaign(session, "K3"), actor=session.get_one(User, people.manager)
        )
    out = tmp_path / "k3.html"
    write_html(report, out)
    page = out.read_text()
    plotted = [line for line in report.lines if line.bias is not None]
    # Three pairs and three readers' repeats, each at L1 and pooled; the all-readers line has no plot.
    assert len(plotted) == 12
    assert page.count("data:image/png;base64,") == len(plotted)
    assert "<th>readers</th>" in page and "<td>all readers</td>" in page
    assert "reader 3 minus reader 1" in page
