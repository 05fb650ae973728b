"""Every film kyphoangle writes passes dciodvfy (dicom3tools) with no error: each encoding the writer
produces, CR and DX, the demo study, and blinded copies (the check script installs dicom3tools)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom import uid
from test_dicom_phi import KEY, _sentinel_film

from kyphoangle.demo import FilmSize, generate_demo_films
from kyphoangle.dicom.blinded_copy import write_blinded_copy
from kyphoangle.dicom.writer import WRITABLE_TRANSFER_SYNTAXES, write_radiograph

DCIODVFY = shutil.which("dciodvfy")

pytestmark = pytest.mark.skipif(
    DCIODVFY is None and not os.environ.get("CI"), reason="dciodvfy (Debian package dicom3tools) is missing"
)


def errors_of(path: Path, tmp_path: Path) -> list[str]:
    """dciodvfy's error lines for a file (dicom3tools does not read the deflated transfer syntax: such a
    file is checked as the same dataset in explicit little endian)."""
    assert DCIODVFY is not None, "dciodvfy is not installed: install the Debian package dicom3tools"
    ds = pydicom.dcmread(path)
    if ds.file_meta.TransferSyntaxUID == uid.DeflatedExplicitVRLittleEndian:
        ds.file_meta.TransferSyntaxUID = uid.ExplicitVRLittleEndian
        path = tmp_path / f"{path.stem}-inflated.dcm"
        ds.save_as(path, enforce_file_format=True)
    run = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, timeout=60, check=False)
    return sorted({line for line in (run.stdout + run.stderr).splitlines() if line.startswith("Error")})


@pytest.mark.parametrize("syntax", WRITABLE_TRANSFER_SYNTAXES, ids=lambda s: uid.UID(s).name)
@pytest.mark.parametrize("modality", ["DX", "CR"])
def test_written_films_conform(tmp_path: Path, syntax: str, modality: str) -> None:
    dtype = np.uint8 if syntax == uid.JPEGBaseline8Bit else np.uint16
    pixels = (np.add.outer(np.arange(96), np.arange(64)) * 13 % 4000).astype(dtype)
    path = write_radiograph(
        tmp_path / "film.dcm",
        pixels,
        transfer_syntax=syntax,
        modality=modality,
        imager_pixel_spacing_mm=(0.15, 0.15),
        ermf=1.1,
    )
    assert errors_of(path, tmp_path) == []


def test_demo_films_and_their_blinded_copies_conform(tmp_path: Path) -> None:
    study = generate_demo_films(tmp_path / "demo", subjects=2, film_size=FilmSize(500, 250, 2.0))
    checked = 0
    for film in study.films[:: max(1, len(study.films) // 6)]:
        assert errors_of(film.path, tmp_path) == [], film.path.name
        copy = write_blinded_copy(film.path, tmp_path / f"blinded-{film.path.name}", case_code="C01", key=KEY)
        assert errors_of(copy, tmp_path) == [], copy.name
        checked += 1
    assert checked >= 4


def test_a_blinded_copy_of_a_film_full_of_identity_conforms(tmp_path: Path) -> None:
    source = _sentinel_film(tmp_path / "source.dcm")
    ds = pydicom.dcmread(source)
    for keyword in ("ClinicalTrialSponsorName", "ClinicalTrialSiteName", "ClinicalTrialSubjectID"):
        del ds[keyword]  # a partial Clinical Trial Subject module: the source itself would not conform
    ds.save_as(source, enforce_file_format=True)
    copy = write_blinded_copy(source, tmp_path / "case.dcm", case_code="K7QX2M", key=KEY)
    assert errors_of(copy, tmp_path) == []
