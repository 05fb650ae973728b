"""iter_dicom_files: folders, DICOMDIRs, duplicates, and bad files that never stop a scan."""

from __future__ import annotations

import shutil
from pathlib import Path

import dicom_files as files
import numpy as np
import pytest

from kyphoangle.dicom import RadiographHeader
from kyphoangle.dicom.index import iter_dicom_files
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.errors import CorruptPixelDataError, NotDicomError, RadiographError

FILM = (np.arange(32 * 24, dtype=np.uint16).reshape(32, 24) * 5) % 4096


@pytest.fixture
def study(tmp_path: Path) -> Path:
    """A folder as a site exports it: images in sub-folders, a report, junk, a damaged file."""
    (tmp_path / "series1").mkdir()
    (tmp_path / "series2" / "deeper").mkdir(parents=True)
    write_radiograph(tmp_path / "series1" / "IM1", FILM, sop_instance_uid="1.2.3.1")
    write_radiograph(tmp_path / "series2" / "deeper" / "IM2", FILM, sop_instance_uid="1.2.3.2")
    damaged = write_radiograph(tmp_path / "series1" / "IM3", FILM, sop_instance_uid="1.2.3.3")
    damaged.write_bytes(damaged.read_bytes()[:-100])
    shutil.copyfile(files.PYDICOM_TEST_FILES / files.STRUCTURED_REPORT, tmp_path / "series2" / "SR1")
    (tmp_path / "README.TXT").write_text("Patient CD\n")
    (tmp_path / "autorun.inf").write_bytes(b"[autorun]\n")
    return tmp_path


def _by_name(results: list[tuple[Path, RadiographHeader | RadiographError]]) -> dict[str, object]:
    return {path.name: outcome for path, outcome in results}


def test_folder_scan_reads_headers_and_reports_bad_files(study: Path) -> None:
    results = list(iter_dicom_files(study))
    outcomes = _by_name(results)
    assert sorted(outcomes) == ["IM1", "IM2", "IM3", "SR1"]
    im1, im2, sr = outcomes["IM1"], outcomes["IM2"], outcomes["SR1"]
    assert isinstance(im1, RadiographHeader) and im1.sop_instance_uid == "1.2.3.1" and im1.has_pixel_data
    assert isinstance(im2, RadiographHeader) and im2.rows == 32
    assert isinstance(sr, RadiographHeader) and not sr.has_pixel_data
    # read_header stops before the pixels, so a file cut inside them still has a readable header
    assert isinstance(outcomes["IM3"], RadiographHeader)
    assert [path for path, _ in results] == sorted(path for path, _ in results)


def test_non_dicom_files_can_be_reported(study: Path) -> None:
    outcomes = _by_name(list(iter_dicom_files(study, report_non_dicom=True)))
    assert isinstance(outcomes["README.TXT"], NotDicomError)
    assert isinstance(outcomes["autorun.inf"], NotDicomError)


def test_explicit_files_always_yield_a_result(study: Path, tmp_path: Path) -> None:
    results = list(
        iter_dicom_files([study / "README.TXT", tmp_path / "missing.dcm", study / "series1" / "IM1"])
    )
    assert isinstance(results[0][1], NotDicomError)
    assert isinstance(results[1][1], RadiographError) and "does not exist" in str(results[1][1])
    assert isinstance(results[2][1], RadiographHeader)


def test_a_header_damaged_file_does_not_stop_the_scan(study: Path) -> None:
    (study / "series1" / "IM0").write_bytes(bytes(128) + b"DICM" + b"\x02\x00\x10\x00UI" + b"\xff" * 40)
    outcomes = _by_name(list(iter_dicom_files(study)))
    assert isinstance(outcomes["IM0"], NotDicomError)
    assert isinstance(outcomes["IM1"], RadiographHeader)


def test_dicomdir_yields_its_files(tmp_path: Path) -> None:
    disc = Path(shutil.copytree(files.DICOMDIR_FOLDER / "TINY_ALPHA", tmp_path / "disc"))
    results = list(iter_dicom_files(disc / "DICOMDIR"))
    assert len(results) == 50
    assert all(isinstance(outcome, RadiographHeader) for _, outcome in results)
    assert all(path.name != "DICOMDIR" for path, _ in results)
    # walking the folder finds the same files once each
    walked = list(iter_dicom_files([disc, disc / "DICOMDIR"]))
    assert sorted(path.resolve() for path, _ in walked) == sorted(path.resolve() for path, _ in results)


def test_dicomdir_with_a_missing_file(tmp_path: Path) -> None:
    disc = Path(shutil.copytree(files.DICOMDIR_FOLDER / "TINY_ALPHA", tmp_path / "disc"))
    removed = next(disc.rglob("IM000003"))
    removed.unlink()
    outcomes = _by_name(list(iter_dicom_files(disc / "DICOMDIR")))
    assert isinstance(outcomes["IM000003"], RadiographError)
    assert "missing" in str(outcomes["IM000003"])
    assert sum(isinstance(outcome, RadiographHeader) for outcome in outcomes.values()) == 49


def test_dicomdir_on_a_lower_case_disc(tmp_path: Path) -> None:
    disc = Path(shutil.copytree(files.DICOMDIR_FOLDER / "TINY_ALPHA", tmp_path / "disc"))
    for path in sorted(disc.rglob("*"), key=lambda path: -len(path.parts)):
        if path.name != "DICOMDIR":
            path.rename(path.with_name(path.name.lower()))
    results = list(iter_dicom_files(disc / "DICOMDIR"))
    assert len(results) == 50 and all(isinstance(outcome, RadiographHeader) for _, outcome in results)


def test_a_damaged_dicomdir_is_reported(tmp_path: Path) -> None:
    damaged = tmp_path / "DICOMDIR"
    damaged.write_bytes((files.DICOMDIR_FOLDER / "DICOMDIR").read_bytes()[:200])
    (path, outcome), *_ = iter_dicom_files(damaged)
    assert path == damaged and isinstance(outcome, RadiographError)


def test_pydicom_dicomdir_folder_each_file_once() -> None:
    results = list(iter_dicom_files(files.DICOMDIR_FOLDER))
    resolved = [path.resolve() for path, _ in results]
    assert len(resolved) == len(set(resolved))
    assert all(isinstance(outcome, RadiographHeader) for _, outcome in results)
    assert all(not path.name.startswith("DICOMDIR") for path, _ in results)
    assert len(results) == 81


def test_load_of_a_header_readable_but_truncated_file(study: Path) -> None:
    from kyphoangle.dicom import load_radiograph

    with pytest.raises(CorruptPixelDataError):
        load_radiograph(study / "series1" / "IM3")
