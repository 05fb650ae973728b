"""The built-in demo study: readable films in several encodings, identities, visits and exact ground truth."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread, uid

from kyphoangle.anatomy import EndplateRef
from kyphoangle.demo import (
    ENCODINGS,
    MANIFEST_NAME,
    TRUTH_READER,
    VISITS,
    DemoFolderError,
    DemoStudy,
    FilmSize,
    generate_demo_films,
    main,
)
from kyphoangle.dicom import load_radiograph, read_header
from kyphoangle.dicom.index import iter_dicom_files
from kyphoangle.landmark_file import read_landmark_file
from kyphoangle.normal_table import DEFAULT_NORMAL_TABLE, load_normal_table
from kyphoangle.phantom import MAX_PIXEL_VALUE, body_geometry, designed_angle_deg
from kyphoangle.protocol import MeasurementName, compute_measurements, regional_endplates
from kyphoangle.vocabulary import EndplateSide, SpacingSource, Vertebra

SMALL = FilmSize(500, 250, 1.0)
"""The demo's field (500 x 250 mm) at 1 mm pixels: the same films, quick to write."""
TABLE = load_normal_table(DEFAULT_NORMAL_TABLE)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> DemoStudy:
    return generate_demo_films(tmp_path_factory.mktemp("demo") / "study", film_size=SMALL)


def test_four_patients_at_every_visit_but_one(study: DemoStudy) -> None:
    assert len(study.subjects) == 4 and len(study.films) == 4 * len(VISITS) - 1
    missing = [s.patient_id for s in study.subjects if len(s.visits) < len(VISITS)]
    assert missing == ["DEMO-002"] and "D360" not in study.subjects[1].visits
    assert {s.site for s in study.subjects} == {"A", "B"}
    assert {s.diagnosis for s in study.subjects} == {"myeloma", "metastasis"}
    for subject in study.subjects:
        assert 1 <= len(subject.fractured_levels) <= 2
        assert all(
            level in ("T10", "T11", "T12", "L1", "L2", "L3", "L4", "L5") for level in subject.fractured_levels
        )
        films = study.films_of(subject.code)
        assert [f.visit for f in films] == list(subject.visits)
        for film in films:
            assert film.study_date == subject.procedure_date + dt.timedelta(days=film.day)
    assert len({f.sop_instance_uid for f in study.films}) == len(study.films)
    assert len({f.study_instance_uid for f in study.films}) == len(study.films)


def test_every_film_is_readable_in_its_encoding(study: DemoStudy) -> None:
    syntaxes = set()
    for film in study.films:
        ds = dcmread(film.path)
        syntaxes.add(ds.file_meta.TransferSyntaxUID)
        assert ds.file_meta.TransferSyntaxUID == film.transfer_syntax
        assert ds.SOPInstanceUID == film.sop_instance_uid
        assert ds.StudyInstanceUID == film.study_instance_uid
        assert ds.SeriesInstanceUID == film.series_instance_uid
        assert (ds.Rows, ds.Columns, ds.BitsStored) == (500, 250, 12)
        assert ds.PhotometricInterpretation == film.photometric
        pixels = ds.pixel_array
        assert pixels.dtype == np.uint16 and pixels.shape == (500, 250)
        assert int(pixels.max()) <= MAX_PIXEL_VALUE
        radiograph = load_radiograph(film.path)
        assert radiograph.spacing.source is film.spacing_source
        assert radiograph.spacing.row_mm == pytest.approx(1.0)
        assert np.array_equal(radiograph.pixels, pixels)
    assert syntaxes == set(ENCODINGS)
    assert uid.JPEGLSLossless in syntaxes and uid.JPEG2000Lossless in syntaxes and uid.RLELossless in syntaxes


def test_sites_differ_in_photometric_and_calibration(study: DemoStudy) -> None:
    for film in study.films:
        ds = dcmread(film.path, stop_before_pixels=True)
        if film.photometric == "MONOCHROME1":
            assert ds.Modality == "CR" and "PixelSpacing" not in ds
            assert float(ds.EstimatedRadiographicMagnificationFactor) > 1.0
            assert film.spacing_source is SpacingSource.IMAGER_PIXEL_SPACING_ERMF
        else:
            # (python-gdcm, which writes the JPEG Lossless films, copies it to Imager Pixel Spacing too.)
            assert ds.Modality == "DX" and [float(v) for v in ds.PixelSpacing] == [1.0, 1.0]
            assert film.spacing_source is SpacingSource.PIXEL_SPACING
    assert {f.photometric for f in study.films} == {"MONOCHROME1", "MONOCHROME2"}


def test_bright_is_dense_after_the_photometric_interpretation(study: DemoStudy) -> None:
    for film in study.films:
        if film.visit != "D3":
            continue
        level = film.model.fractures[0].level
        truth = read_landmark_file(film.truth_path).points
        corners = np.array(
            [truth[f"{level}.{s}.{c}"] for s in ("superior", "inferior") for c in ("anterior", "posterior")]
        )
        column, row = corners.mean(axis=0).astype(int)
        stored = float(dcmread(film.path).pixel_array[row - 1 : row + 2, column - 1 : column + 2].mean())
        cement = MAX_PIXEL_VALUE - stored if film.photometric == "MONOCHROME1" else stored
        assert cement > 3300, (film.patient_id, film.photometric)


def test_identity_is_fictitious_and_complete(study: DemoStudy) -> None:
    first = study.films_of("S01")[0]
    header = read_header(first.path)
    assert header.identity.patient_name == "DEMO^ALICE"
    assert header.identity.patient_id == "DEMO-001"
    assert header.identity.institution_name == "Demo Hospital A"
    assert header.identity.patient_birth_date == study.subjects[0].birth_date
    assert header.study_date == first.study_date
    assert header.view_position == "LAT"
    assert header.patient_orientation == ("A" if first.model.facing == "right" else "P", "F")
    names = {read_header(f.path).identity.patient_name for f in study.films}
    assert names == {"DEMO^ALICE", "DEMO^BERNARD", "DEMO^CLAIRE", "DEMO^DANIEL"}


def test_truth_files_give_the_designed_measurements(study: DemoStudy) -> None:
    for film in study.films:
        truth = read_landmark_file(film.truth_path)
        assert truth.reader == TRUTH_READER and truth.sop_instance_uid == film.sop_instance_uid
        assert len(truth.points) == 15 * 6 - 3  # T4..L5 six points each, S1 superior three
        header = read_header(film.path)
        result = compute_measurements(
            truth.points, spacing=header.spacing, fractured_levels=truth.fractured_levels, normal_table=TABLE
        )
        assert result.facing == film.model.facing
        kyphosis = result.get(MeasurementName.THORACIC_KYPHOSIS)
        assert kyphosis is not None
        designed = designed_angle_deg(
            film.model,
            EndplateRef(Vertebra.T4, EndplateSide.SUPERIOR),
            EndplateRef(Vertebra.T12, EndplateSide.INFERIOR),
        )
        assert kyphosis.value == pytest.approx(designed, abs=0.01)
        geometry = body_geometry(film.model)
        for level in truth.fractured_levels:
            vertebra = Vertebra(level)
            regional = result.get(MeasurementName.REGIONAL_ANGLE, level)
            assert regional is not None
            assert regional.value == pytest.approx(
                designed_angle_deg(film.model, *regional_endplates(vertebra)), abs=0.01
            )
            wedge = result.get(MeasurementName.VERTEBRAL_KYPHOSIS, level)
            height = result.get(MeasurementName.ANTERIOR_HEIGHT, level)
            assert wedge is not None and height is not None
            assert wedge.value == pytest.approx(geometry[vertebra].wedge_deg, abs=0.01)
            assert height.value == pytest.approx(geometry[vertebra].anterior_height_mm, abs=1e-6)


def test_kyphoplasty_corrects_then_correction_slowly_wanes(study: DemoStudy) -> None:
    for subject in study.subjects:
        films = study.films_of(subject.code)
        for level in subject.fractured_levels:
            wedges = [body_geometry(f.model)[Vertebra(level)].wedge_deg for f in films]
            regional = [designed_angle_deg(f.model, *regional_endplates(Vertebra(level))) for f in films]
            assert regional[0] - regional[1] > 3.0  # baseline to D3
            assert wedges[1:] == sorted(wedges[1:]) and wedges[-1] > wedges[1]
            assert not films[0].model.fractures[0].cemented
            assert all(f.model.fractures[0].cemented for f in films[1:])


def test_manifest_lists_what_was_written(study: DemoStudy) -> None:
    document = json.loads((study.folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert document == json.loads(json.dumps(study.to_document()))
    assert [f["path"] for f in document["films"]][:2] == ["DEMO-001/D-5.dcm", "DEMO-001/D3.dcm"]
    for entry in document["films"]:
        assert (study.folder / entry["path"]).is_file() and (study.folder / entry["truth"]).is_file()


def test_same_arguments_give_the_same_study(tmp_path: Path) -> None:
    one = generate_demo_films(tmp_path / "one", subjects=1, film_size=SMALL)
    two = generate_demo_films(tmp_path / "two", subjects=1, film_size=SMALL)
    for a, b in zip(one.films, two.films, strict=True):
        assert a.sop_instance_uid == b.sop_instance_uid and a.model == b.model
        assert np.array_equal(dcmread(a.path).pixel_array, dcmread(b.path).pixel_array)
    other = generate_demo_films(tmp_path / "three", subjects=1, seed=7, film_size=SMALL)
    assert other.films[0].sop_instance_uid != one.films[0].sop_instance_uid


def test_dicomdir_file_set(tmp_path: Path) -> None:
    study = generate_demo_films(tmp_path / "cd", subjects=2, film_size=SMALL, dicomdir=True)
    assert study.dicomdir == tmp_path / "cd" / "DICOMDIR" and study.dicomdir.is_file()
    found = {
        header.sop_instance_uid: path
        for path, header in iter_dicom_files(study.folder)
        if not isinstance(header, Exception)
    }
    assert found == {f.sop_instance_uid: f.path for f in study.films}
    assert not any(p.name.startswith("tmp") for p in study.folder.iterdir())


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("keep me", encoding="utf-8")
    with pytest.raises(DemoFolderError, match="not empty"):
        generate_demo_films(tmp_path, film_size=SMALL)
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("kyphoangle.demo.DEFAULT_FILM", SMALL)
    assert main([str(tmp_path / "out"), "--subjects", "2"]) == 0
    out = capsys.readouterr().out
    assert "Wrote 11 films of 2 demo patients" in out and "DEMO^BERNARD" in out
    assert main([str(tmp_path / "out")]) == 2
    assert "not empty" in capsys.readouterr().err
