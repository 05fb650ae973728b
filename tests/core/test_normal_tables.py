"""Normal tables traced to their sources: every value's provenance, unverified values said so."""

from __future__ import annotations

import json

import pytest

from kyphoangle.cli import main
from kyphoangle.errors import NormalTableError
from kyphoangle.exit_status import ExitStatus
from kyphoangle.normal_table import available_normal_tables, load_normal_table, parse_normal_table


def test_every_shipped_value_names_its_source_population_posture_modality_and_definition() -> None:
    for name in available_normal_tables():
        table = load_normal_table(name)
        assert table.values_deg
        for level in table.values_deg:
            origin = table.source_of(level)
            for text in (
                origin.source,
                origin.population,
                origin.posture,
                origin.modality,
                origin.angle_definition,
            ):
                assert text and text != "", (name, level)


def test_what_could_not_be_checked_is_marked_unverified() -> None:
    farcy, shi, kwon = (load_normal_table(n) for n in ("farcy-1990", "shi-2020", "kwon-2019"))
    assert not farcy.verified and farcy.unverified_levels == tuple(farcy.values_deg)
    assert "one motion segment" in farcy.source_of("L1").angle_definition
    assert "Keynan" in farcy.source_of("L1").quoted_in  # a commonly quoted approximation: where from
    assert not shi.verified
    assert kwon.verified
    assert kwon.source_of("T12").posture == "supine" and kwon.source_of("T12").modality.startswith("CT")
    assert "segmental Cobb" in kwon.source_of("T12").angle_definition


def test_first_format_tables_still_load_as_unverified() -> None:
    table = parse_normal_table(
        {
            "format": "kyphoangle.normal_table/1",
            "name": "x",
            "version": "1",
            "source": "s",
            "values_deg": {"L1": 1},
        },
        origin="x.json",
    )
    assert table.unverified_levels == ("L1",) and table.source_of("L1").population == "not recorded"


@pytest.mark.parametrize(
    ("provenance", "message"),
    [
        (None, "provenance must say"),
        ({"L2": {}}, "which has no value"),
        ({"*": {"source": "s"}}, "lacks population"),
        (
            {
                "*": {
                    "source": "s",
                    "population": "p",
                    "posture": "p",
                    "modality": "m",
                    "angle_definition": "a",
                    "verified": "yes",
                }
            },
            "true or false",
        ),
    ],
)
def test_bad_provenance_is_refused(provenance: object, message: str) -> None:
    document = {
        "format": "kyphoangle.normal_table/2", "name": "x", "version": "1", "source": "s",
        "values_deg": {"L1": 1.0}, "provenance": provenance,
    }  # fmt: skip
    with pytest.raises(NormalTableError, match=message):
        parse_normal_table(document, origin="x.json")


def test_cli_shows_a_table_value_by_value(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["normal-tables", "show", "farcy-1990"]) == 0
    out = capsys.readouterr().out
    assert "UNVERIFIED values at T10, T11, T12, L1, L2, L3, L4, L5" in out
    assert "L1: +0.0 deg (unverified)" in out and "T10: +5.0 deg (unverified)" in out
    assert "posture: not stated; modality: lateral radiograph" in out
    assert main(["normal-tables", "list"]) == 0
    listing = capsys.readouterr().out.splitlines()
    assert any(line.startswith("kwon-2019\t") and "\tverified\t" in line for line in listing)
    assert main(["normal-tables", "list", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {row["name"]: row["default"] for row in rows}["farcy-1990"] == "yes"
    assert main(["normal-tables", "show", "nonexistent"]) == ExitStatus.BAD_INPUT
    assert capsys.readouterr().err.strip() == (
        "kyphoangle: error: unknown normal table 'nonexistent'; available: farcy-1990, kwon-2019, shi-2020"
    )
