"""The `kyphoangle.landmarks/1` interchange file: round trip and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kyphoangle.errors import LandmarkError, LandmarkFileError
from kyphoangle.landmark_file import (
    LandmarkFile,
    PointProvenance,
    parse_landmark_document,
    read_landmark_file,
    write_landmark_file,
)
from kyphoangle.protocol import GlobalEndpoints, NotEvaluable
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import ReadType

EXAMPLE = {
    "format": "kyphoangle.landmarks/1",
    "image": {"sop_instance_uid": "1.2.3"},
    "reader": "r.smith",
    "read_type": "site",
    "fractured_levels": ["L1"],
    "points": {"T12.superior.posterior": [812.5, 1930.0], "T12.superior.anterior": [1088.0, 1901.5]},
}


def write(tmp_path: Path, document: object, name: str = "read.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def test_reads_the_documented_example(tmp_path: Path) -> None:
    landmarks = read_landmark_file(write(tmp_path, EXAMPLE))
    assert landmarks.sop_instance_uid == "1.2.3"
    assert landmarks.reader == "r.smith"
    assert landmarks.read_type is ReadType.SITE
    assert landmarks.fractured_levels == ("L1",)
    assert landmarks.points["T12.superior.anterior"] == (1088.0, 1901.5)


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    original = LandmarkFile(
        sop_instance_uid="1.2.840.1",
        points={"L1.superior.anterior": (10.25, 20.125), "S1.superior.posterior": (1.0, 2.0)},
        reader="c.reader",
        read_type=ReadType.CENTRAL,
        fractured_levels=("T12", "L1"),
        not_evaluable={"T12": NotEvaluable("double_contour", "oblique film")},
        normal_table="shi-2020",
        endpoints=GlobalEndpoints.parse("T5.superior-T12.inferior", "L1.superior-L5.inferior"),
        calibration=PixelSpacing.manual(0.14, 0.15),
    )
    path = tmp_path / "out.json"
    write_landmark_file(path, original)
    assert read_landmark_file(path) == original
    assert not path.with_name("out.json.tmp").exists()


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ([], "JSON object"),
        ({**EXAMPLE, "format": "other/1"}, "format must be"),
        ({**EXAMPLE, "image": {}}, "sop_instance_uid"),
        ({**EXAMPLE, "points": [1, 2]}, "points must be"),
        ({**EXAMPLE, "points": {"L1.superior.anterior": "here"}}, "expected \\[column, row\\]"),
        ({**EXAMPLE, "points": {"L6.superior.anterior": [1, 2]}}, "not a landmark key"),
        ({**EXAMPLE, "points": {"L1.superior.anterior": [1, None]}}, "two finite numbers"),
        ({**EXAMPLE, "read_type": "casual"}, "read_type"),
        ({**EXAMPLE, "fractured_levels": ["T4"]}, "T10 to L5"),
        ({**EXAMPLE, "fractured_levels": "L1"}, "must be a list"),
        ({**EXAMPLE, "not_evaluable": {"L1": {}}}, "reason is required"),
        ({**EXAMPLE, "not_evaluable": {"L1": {"reason": "tired"}}}, "not-evaluable reason"),
        ({**EXAMPLE, "endpoints": {"kyphosis": "T12.inferior"}}, "endpoint pair"),
        ({**EXAMPLE, "calibration": {"row_mm": 0, "col_mm": 0.1}}, "positive numbers"),
        ({**EXAMPLE, "reader": 7}, "login name"),
    ],
)
def test_bad_documents_name_file_and_problem(tmp_path: Path, document: object, message: str) -> None:
    with pytest.raises(LandmarkFileError, match=message) as info:
        read_landmark_file(write(tmp_path, document, "bad.json"))
    assert str(info.value).startswith("bad.json: ")


def test_unreadable_and_invalid_json(tmp_path: Path) -> None:
    with pytest.raises(LandmarkFileError, match="cannot be read"):
        read_landmark_file(tmp_path / "absent.json")
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(LandmarkFileError, match="not valid JSON"):
        read_landmark_file(tmp_path / "broken.json")
    (tmp_path / "binary.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(LandmarkFileError):
        read_landmark_file(tmp_path / "binary.json")


def test_provenance_round_trips_and_old_files_have_none(tmp_path: Path) -> None:
    document = {
        "format": "kyphoangle.landmarks/1",
        "image": {"sop_instance_uid": "1.2.3"},
        "points": {"L1.superior.anterior": [10.0, 20.0], "L1.superior.posterior": [40.0, 22.0]},
        "provenance": {"L1.superior.anterior": {"proposed": True, "accepted": True, "click": [12.5, 18.0]}},
    }
    parsed = parse_landmark_document(document)
    assert parsed.provenance["L1.superior.anterior"] == PointProvenance(True, True, (12.5, 18.0))
    assert "L1.superior.posterior" not in parsed.provenance
    path = tmp_path / "read.json"
    write_landmark_file(path, parsed)
    assert read_landmark_file(path) == parsed
    assert "provenance" not in parse_landmark_document({**document, "provenance": {}}).to_document()
    old = {key: value for key, value in document.items() if key != "provenance"}
    assert parse_landmark_document(old).provenance == {}


@pytest.mark.parametrize(
    ("provenance", "message"),
    [
        ({"L1.inferior.anterior": {"proposed": True, "accepted": False}}, "not placed"),
        ({"L1.superior.anterior": {"proposed": False, "accepted": True}}, "never made"),
        ({"L1.superior.anterior": {"proposed": "yes", "accepted": True}}, "true or false"),
        ({"L1.superior.anterior": {"proposed": True, "accepted": True, "click": [1.0]}}, "column, row"),
        ({"L1.superior.anterior": {"proposed": True, "accepted": True, "click": [1.0, "x"]}}, "finite"),
        ([], "provenance must map"),
    ],
)
def test_bad_provenance_is_refused(provenance: object, message: str) -> None:
    document = {
        "format": "kyphoangle.landmarks/1",
        "image": {"sop_instance_uid": "1.2.3"},
        "points": {"L1.superior.anterior": [10.0, 20.0]},
        "provenance": provenance,
    }
    with pytest.raises(LandmarkError, match=message):
        parse_landmark_document(document)
