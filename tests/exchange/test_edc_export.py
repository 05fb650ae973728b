"""The wide export for REDCap and the statisticians: rows per subject and visit, dictionary, workbook."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, DemoStudy
from openpyxl import load_workbook
from reads_helpers import sign_truth_reads

from kyphoangle.cli import main
from kyphoangle.edc.redcap import REDCAP_COLUMNS, dictionary_problems, dictionary_rows
from kyphoangle.edc.variables import Variable, edc_variables


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@pytest.fixture
def exported(demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    assert sign_truth_reads(demo) > 5
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", ADMIN_PASSWORD)
    out = tmp_path / "wide.csv"
    assert main(["edc", "csv", str(out), "--user", "admin"]) == 0
    return out


def test_one_row_per_subject_and_visit_with_changes_from_baseline_and_post_op(exported: Path) -> None:
    rows = _rows(exported)
    keys = [(r["subject"], r["visit"]) for r in rows]
    assert len(keys) == len(set(keys)) and len({r["subject"] for r in rows}) == 2
    dictionary = _rows(exported.with_name("wide.redcap.csv"))
    assert list(rows[0]) == [d["Variable / Field Name"] for d in dictionary]
    by_visit = {(r["subject"], r["visit"]): r for r in rows}
    subject = rows[0]["subject"]
    baseline, post_op, later = by_visit[(subject, "1")], by_visit[(subject, "2")], by_visit[(subject, "4")]
    assert baseline["record_id"] == f"{subject}-baseline" and int(baseline["visit_day"]) < 0
    assert baseline["lvl1_art_cb"] == "" and post_op["lvl1_art_cp"] == ""
    for name in ("lvl1_art", "lvl1_ha", "tk", "ll"):
        expected = float(later[name]) - float(baseline[name])
        assert float(later[f"{name}_cb"]) == pytest.approx(expected, abs=1e-8)
        assert float(later[f"{name}_cp"]) == pytest.approx(
            float(later[name]) - float(post_op[name]), abs=1e-8
        )
    # the kyphoplasty corrects the wedge: the post-operative regional angle is smaller than at baseline
    assert float(post_op["lvl1_ra_cb"]) < 0
    assert all(r["lvl1_genant"] in {"", "0", "1", "2", "3"} for r in rows)
    text = exported.read_text(encoding="utf-8")
    assert "DEMO" not in text and "2024" not in text  # no patient ID, name or calendar date


def test_the_dictionary_follows_redcap_rules(exported: Path) -> None:
    with exported.with_name("wide.redcap.csv").open(encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        header = next(reader)
        rows = list(reader)
    assert tuple(header) == REDCAP_COLUMNS
    assert dictionary_problems(header, rows) == []
    names = [row[0] for row in rows]
    assert names[0] == "record_id" and all(len(n) <= 26 and n == n.lower() for n in names)
    types = {row[0]: row[3] for row in rows}
    assert types["visit"] == "radio" and types["lvl1_level"] == "dropdown" and types["lvl1_ra"] == "text"
    validations = {row[0]: row[7] for row in rows}
    assert validations["lvl1_ra_cb"] == "number" and validations["lvl1_genant"] == "integer"
    choices = {row[0]: row[5] for row in rows}
    assert choices["visit"].startswith("1, baseline | 2, D2-D5")
    # every coded value of the data is one of its field's codes
    data = _rows(exported)
    for name in ("visit", "read_source", "spacing_source", "lvl1_level"):
        codes = {part.split(",")[0].strip() for part in choices[name].split("|")}
        assert {row[name] for row in data} - {""} <= codes


def test_the_rule_checker_catches_what_redcap_refuses() -> None:
    variables = edc_variables((("1", "baseline"),))
    rows = dictionary_rows(variables)
    assert dictionary_problems(REDCAP_COLUMNS, rows) == []
    bad = [
        dictionary_rows([Variable("Visit Day", variables[0].form, "x")])[0],
        dictionary_rows([Variable("a_very_long_variable_name_over_26", variables[0].form, "x")])[0],
        rows[1],
        dictionary_rows([Variable("redcap_event_name", variables[0].form, "x")])[0],
    ]
    problems = " ".join(dictionary_problems(REDCAP_COLUMNS, [rows[0], *bad, rows[1]]))
    assert "lower-case letters" in problems and "recommended 26" in problems
    assert "duplicate field name" in problems and "reserved field name" in problems
    assert dictionary_problems(REDCAP_COLUMNS[:-1], rows) != []


def test_the_workbook_holds_data_dictionary_and_conventions(
    exported: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "trial.xlsx"
    assert main(["edc", "excel", str(out), "--user", "admin"]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    book = load_workbook(out, read_only=True)
    assert book.sheetnames == ["data", "dictionary", "conventions"]
    data = list(book["data"].values)
    csv_rows = _rows(exported)
    assert len(data) == len(csv_rows) + 1 and list(data[0]) == list(csv_rows[0])
    column = list(data[0]).index("lvl1_ra")
    assert isinstance(data[1][column], float)
    assert data[1][column] == pytest.approx(float(csv_rows[0]["lvl1_ra"]))
    topics = [row[0] for row in book["conventions"].values]
    assert "_cb columns" in topics and "_cp columns" in topics and "Angles" in topics
    assert len(list(book["dictionary"].values)) == len(data[0]) + 1


def test_central_rows_are_the_campaigns_final_reads(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kyphoangle.campaign import final_reads, list_campaigns

    monkeypatch.setenv("KYPHOANGLE_PASSWORD", ADMIN_PASSWORD)
    out = tmp_path / "central.csv"
    assert main(["edc", "csv", str(out), "--reads", "central", "--user", "admin"]) == 0
    rows = _rows(out)
    with demo.open().reading() as session:
        finals = {n for c in list_campaigns(session) for n in final_reads(session, c).values()}
    assert rows and {r["read_source"] for r in rows} == {"2"}
    assert {int(r["read_id"]) for r in rows} <= finals
