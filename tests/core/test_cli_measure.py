"""`kyphoangle measure`: JSON and CSV output, and one-line errors with exit status 2."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import DigitalXRayImageStorageForPresentation, ExplicitVRLittleEndian, generate_uid

from kyphoangle.cli import main

SOP_UID = "1.2.826.0.1.3680043.8.498.1"


def make_film(path: Path, *, pixel_spacing: tuple[float, float] | None = (0.2, 0.1)) -> Path:
    """A small valid DX film with the given Pixel Spacing (row, column) in mm."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DigitalXRayImageStorageForPresentation
    meta.MediaStorageSOPInstanceUID = SOP_UID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = DigitalXRayImageStorageForPresentation
    ds.SOPInstanceUID = SOP_UID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "DX"
    ds.PatientName = "TEST^PATIENT"
    ds.PatientID = "P1"
    ds.Rows, ds.Columns = 300, 200
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    if pixel_spacing is not None:
        ds.PixelSpacing = list(pixel_spacing)
    ds.PixelData = np.zeros((300, 200), dtype=np.uint16).tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def landmark_document(**changes: object) -> dict[str, object]:
    # L1 fractured: T12 superior horizontal; L2 inferior rises 10 rows over 100 columns.
    points = {
        "T12.superior.posterior": [50.0, 50.0],
        "T12.superior.anterior": [150.0, 50.0],
        "L2.inferior.posterior": [50.0, 250.0],
        "L2.inferior.anterior": [150.0, 240.0],
    }
    document: dict[str, object] = {
        "format": "kyphoangle.landmarks/1",
        "image": {"sop_instance_uid": SOP_UID},
        "reader": "r.smith",
        "read_type": "site",
        "fractured_levels": ["L1"],
        "points": points,
    }
    document.update(changes)
    return document


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_json_output_uses_millimetres(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    film = make_film(tmp_path / "film.dcm")
    marks = tmp_path / "marks.json"
    marks.write_text(json.dumps(landmark_document()), encoding="utf-8")
    status, out, err = run(capsys, "measure", str(film), "--landmarks", str(marks))
    assert status == 0, err
    document = json.loads(out)
    assert document["spacing"] == {"row_mm": 0.2, "col_mm": 0.1, "source": "pixel_spacing"}
    by_name = {(m["name"], m["level"]): m for m in document["measurements"]}
    regional = by_name[("regional_angle", "L1")]
    # 10 rows x 0.2 mm over 100 columns x 0.1 mm: atan(2/10), not the pixel-space atan(0.1).
    assert regional["value"] == pytest.approx(math.degrees(math.atan2(2.0, 10.0)))
    assert regional["unit"] == "deg"
    art = by_name[("traumatic_regional_angle", "L1")]
    assert art["normal_table"] == "farcy-1990" and art["value"] == pytest.approx(regional["value"])
    missing = {(n["name"], n["level"]): n["missing"] for n in document["not_computed"]}
    assert missing[("thoracic_kyphosis", None)] == [
        "T4.superior.posterior", "T4.superior.anterior", "T12.inferior.posterior", "T12.inferior.anterior",
    ]  # fmt: skip


def test_csv_output_and_another_normal_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    film = make_film(tmp_path / "film.dcm", pixel_spacing=None)
    marks = tmp_path / "marks.json"
    marks.write_text(json.dumps(landmark_document()), encoding="utf-8")
    status, out, err = run(
        capsys,
        "measure",
        str(film),
        "--landmarks",
        str(marks),
        "--format",
        "csv",
        "--normal-table",
        "shi-2020",
    )
    assert status == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    art = next(r for r in rows if r["name"] == "traumatic_regional_angle")
    assert art["normal_table"] == "shi-2020"
    assert float(art["value"]) == pytest.approx(math.degrees(math.atan(0.1)) + 2.3)
    assert art["spacing_source"] == "none"
    kyphosis = next(r for r in rows if r["name"] == "thoracic_kyphosis")
    assert kyphosis["value"] == "" and kyphosis["not_computed_reason"] == "missing landmarks"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (landmark_document(image={"sop_instance_uid": "9.9.9"}), "is for image 9.9.9"),
        (landmark_document(points={"L1.superior.anterior": [500.0, 10.0]}), "outside the image"),
        (landmark_document(format="nope"), "format must be"),
        ("{not json", "not valid JSON"),
        (landmark_document(fractured_level=["L1"]), "unknown key 'fractured_level' (did you mean"),
        ('{"points": {}, "points": {}}', "the key 'points' appears twice"),
        ('{"points": {"L1.superior.anterior": [NaN, 1]}}', "NaN is not a number"),
        ("[" * 100_000, "nested deeper than the schema allows"),
        (landmark_document(calibration={"row_mm": 1e-320, "col_mm": 0.1}), "it must be at least 0.01"),
    ],
)
def test_bad_landmark_files_exit_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: object, message: str
) -> None:
    film = make_film(tmp_path / "film.dcm")
    marks = tmp_path / "marks.json"
    marks.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
    status, out, err = run(capsys, "measure", str(film), "--landmarks", str(marks))
    assert status == 2
    assert out == ""
    assert message in err and err.count("\n") == 1 and err.startswith("kyphoangle: error: marks.json")


def test_bad_image_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    garbage = tmp_path / "film.dcm"
    garbage.write_bytes(b"this is not a radiograph" * 10)
    marks = tmp_path / "marks.json"
    marks.write_text(json.dumps(landmark_document()), encoding="utf-8")
    status, _, err = run(capsys, "measure", str(garbage), "--landmarks", str(marks))
    assert status == 2
    assert err.startswith("kyphoangle: error: film.dcm") and err.count("\n") == 1


def test_unknown_normal_table_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    film = make_film(tmp_path / "film.dcm")
    marks = tmp_path / "marks.json"
    marks.write_text(json.dumps(landmark_document()), encoding="utf-8")
    status, _, err = run(capsys, "measure", str(film), "--landmarks", str(marks), "--normal-table", "x")
    assert status == 2 and "unknown normal table" in err
