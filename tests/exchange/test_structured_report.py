"""Signed reads as DICOM SR (TID 1500) and GSPS: validity (dciodvfy), blinding, and the round trip."""

from __future__ import annotations

import datetime as dt
import itertools
import math
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, DemoStudy
from pydicom import Dataset, dcmread

from kyphoangle.annotation import ANGLE_NAMES, ARC_RADIUS, ARC_STEP_DEG, endplate_line
from kyphoangle.cli import main
from kyphoangle.landmark_file import PointProvenance
from kyphoangle.sr import coding
from kyphoangle.sr.presentation import (
    ANGLE_LAYERS,
    DRAWING_VERSION,
    LAYERS,
    glyph_tracking_id,
    presentation_state,
    presentation_uid,
    read_glyphs,
)
from kyphoangle.sr.reading import parse_measurement_report, read_measurement_report
from kyphoangle.sr.report import REPORT_VERSION, film_header, report_uid
from kyphoangle.sr.signed_read import signed_read
from kyphoangle.storage.models import Read, ReadStatus
from kyphoangle.storage.reads import create_read, get_read, measurements_of, read_content
from kyphoangle.storage.users import list_users

DCIODVFY = shutil.which("dciodvfy")


def _export(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *extra: str) -> Path:
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", ADMIN_PASSWORD)
    out = tmp_path / "dicom"
    assert main(["sr", "export", str(out), "--user", "admin", *extra]) == 0
    return out


def _signed(demo: DemoStudy, *, blinded: bool) -> int:
    with demo.open().reading() as session:
        reads = session.query(Read).filter(Read.status == ReadStatus.SIGNED).order_by(Read.id).all()
        kinds = {"central", "repeat", "adjudication"}
        return next(r.id for r in reads if (str(r.read_type) in kinds) == blinded)


def _errors(path: Path) -> list[str]:
    assert DCIODVFY is not None, (
        "dciodvfy missing: install the Debian package dicom3tools (scripts/setup.sh does)"
    )
    result = subprocess.run([DCIODVFY, str(path)], capture_output=True, text=True, check=False)
    lines = (result.stdout + result.stderr).splitlines()
    return [line for line in lines if line.startswith("Error")]


def test_sr_and_gsps_of_every_signed_read_pass_dciodvfy(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chosen = [_signed(demo, blinded=False), _signed(demo, blinded=True)]
    out = _export(tmp_path, monkeypatch, *(f"--read={n}" for n in chosen))
    reports = sorted(out.glob("*.sr.dcm"))
    states = sorted(out.glob("*.gsps.dcm"))
    assert len(reports) == len(states) == 2
    for path in (*reports, *states):
        assert _errors(path) == [], path
        assert path.stat().st_mode & 0o777 == 0o600
    state = dcmread(states[0])
    assert state.SOPClassUID == "1.2.840.10008.5.1.4.1.1.11.1"
    layers = {a.GraphicLayer for a in state.GraphicAnnotationSequence}
    assert {"ENDPLATES_SUP", "ENDPLATES_INF", "ANGLE_RA", "ANGLE_VK", "LABELS"} <= layers
    assert layers <= {layer.name for layer in LAYERS}
    for layer in state.GraphicLayerSequence:  # each layer with its colour and grey level
        assert len(layer.GraphicLayerRecommendedDisplayCIELabValue) == 3
        assert 0 <= layer.GraphicLayerRecommendedDisplayGrayscaleValue <= 0xFFFF
    texts = [
        t.UnformattedTextValue
        for a in state.GraphicAnnotationSequence
        for t in a.get("TextObjectSequence", [])
    ]
    assert any(t.startswith("L1") for t in texts) and any("ART" in t for t in texts)


def _graphics(state: Dataset) -> dict[str, tuple[str, list[tuple[float, float]]]]:
    """Every graphic object of a presentation state: tracking id -> (layer, points)."""
    found = {}
    for annotation in state.GraphicAnnotationSequence:
        for graphic in annotation.get("GraphicObjectSequence", []):
            data = [float(v) for v in graphic.GraphicData]
            assert graphic.GraphicType == "POLYLINE" and graphic.NumberOfGraphicPoints == len(data) // 2
            found[graphic.TrackingID] = (
                annotation.GraphicLayer,
                list(zip(data[::2], data[1::2], strict=True)),
            )
    return found


def test_the_presentation_state_draws_every_angle_as_on_screen(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_id = _signed(demo, blinded=False)
    out = _export(tmp_path, monkeypatch, "--read", str(read_id))
    state = dcmread(out / f"read-{read_id:06d}.gsps.dcm")
    with demo.open().reading() as session:
        read = signed_read(session, get_read(session, read_id))
    angles = [v for v in read.values if v.name in ANGLE_NAMES]
    glyphs = read_glyphs(read)
    assert len(glyphs) == len(angles) >= 3  # every computed angle of the read is drawn
    graphics = _graphics(state)
    texts = {
        t.UnformattedTextValue: (a.GraphicLayer, tuple(float(v) for v in t.AnchorPoint))
        for a in state.GraphicAnnotationSequence
        for t in a.get("TextObjectSequence", [])
    }
    for glyph in glyphs:
        layer = ANGLE_LAYERS[glyph.name].name
        radius = ARC_RADIUS * glyph.size
        arc_layer, arc = graphics[glyph_tracking_id(glyph, "arc")]
        assert arc_layer == layer and len(arc) >= 2
        for column, row in arc:  # on the circle about the vertex, between the two rays
            assert math.dist((column, row), glyph.vertex) == pytest.approx(radius, abs=0.5)
        for end, ray in ((arc[0], glyph.upper_ray), (arc[-1], glyph.lower_ray)):
            on_ray = (glyph.vertex[0] + ray[0] * radius, glyph.vertex[1] + ray[1] * radius)
            assert math.dist(end, on_ray) <= 0.5
        steps = [math.dist(a, b) for a, b in itertools.pairwise(arc)]
        assert max(steps, default=0.0) <= radius * math.radians(ARC_STEP_DEG) + 0.5
        rays_layer, rays = graphics[glyph_tracking_id(glyph, "rays")]
        assert rays_layer == layer and math.dist(rays[1], glyph.vertex) <= 0.5
        # the value, signed, with the angle's name, beside the vertex
        text = glyph.label(" deg")
        assert text.split()[-2][0] in "+-"
        assert texts[text][0] == layer
        assert math.dist(texts[text][1], glyph.vertex) <= glyph.size
    # each endplate line is the segment through its corners, extended by a quarter each side
    for key, (layer, line) in graphics.items():
        if layer.startswith("ENDPLATES"):
            posterior, anterior = (
                read.content.points[f"{key}.posterior"],
                read.content.points[f"{key}.anterior"],
            )
            assert line[0] == pytest.approx(endplate_line(posterior, anterior)[0], abs=1e-3)
            assert line[1] == pytest.approx(endplate_line(posterior, anterior)[1], abs=1e-3)


PROVENANCES = (
    # accepted proposal (the stored point is the proposal), the click a little off
    PointProvenance(proposed=True, accepted=True, click=(0.1 + 0.2, 1 / 3)),
    # a proposal declined: the stored point is the click
    PointProvenance(proposed=True, accepted=False, click=None),
    # no proposal shown (snapping off, or nothing found), click recorded
    PointProvenance(proposed=False, accepted=False, click=(123.456789012345, 987.654321098765)),
    # an accepted proposal whose click was not recorded
    PointProvenance(proposed=True, accepted=True, click=None),
)


def _record_provenance(demo: DemoStudy, read_id: int) -> dict[str, PointProvenance]:
    """Give the read's first landmarks the provenance kinds above (the rest keep none)."""
    recorded = {}
    with demo.open().transaction() as session:
        marks = sorted(get_read(session, read_id).landmarks, key=lambda m: m.key)
        assert len(marks) > len(PROVENANCES)
        for mark, provenance in zip(marks, PROVENANCES, strict=False):
            click = provenance.click
            if provenance.proposed and not provenance.accepted:
                click = (mark.column_px, mark.row_px)  # declined: the point is where the reader clicked
            mark.proposed, mark.accepted = provenance.proposed, provenance.accepted
            mark.click_column_px = click[0] if click is not None else None
            mark.click_row_px = click[1] if click is not None else None
            recorded[mark.key] = replace(provenance, click=click)
    return recorded


def _without_provenance(items: object) -> None:
    """Remove the snapping provenance items from a report's content tree, in place."""
    own = {coding.SNAP_PROPOSED.value, coding.SNAP_ACCEPTED.value, coding.READER_CLICK.value}
    for item in items:  # type: ignore[attr-defined]
        children = item.get("ContentSequence")
        if children is None:
            continue
        kept = [c for c in children if c.ConceptNameCodeSequence[0].CodeValue not in own]
        item.ContentSequence = kept
        _without_provenance(kept)


def test_a_report_carries_the_read_and_comes_back_equal(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_id = _signed(demo, blinded=False)
    recorded = _record_provenance(demo, read_id)
    out = _export(tmp_path, monkeypatch, "--read", str(read_id))
    path = out / f"read-{read_id:06d}.sr.dcm"
    ds = dcmread(path)
    assert ds.VerificationFlag == "VERIFIED" and ds.CompletionFlag == "COMPLETE"
    if DCIODVFY is not None:
        assert _errors(path) == []
    reported = read_measurement_report(path)
    with demo.open().reading() as session:
        original = get_read(session, read_id)
        content = read_content(original)
        assert dict(content.provenance) == recorded  # proposed, declined, not proposed; with or without click
        assert dict(reported.content.provenance) == recorded  # the clicks exactly, not to 32 bits
        values = {k: row.value for k, row in measurements_of(original).items() if row.value is not None}
        assert reported.signed_at == original.signed_at
        assert reported.observer.login == original.reader.login
        assert reported.content == content  # landmarks exactly as clicked, levels, settings
        assert reported.normal_table_version == original.normal_table_version
        assert {(str(v.name), v.level): v.value for v in reported.values} == pytest.approx(values, abs=1e-9)
        film_uid = original.image.sop_instance_uid
        before = session.query(Read).count()
    # Imported back, it is a draft read of the same film whose landmarks and values equal the original.
    assert main(["sr", "import", str(path), "--user", "admin"]) == 0
    with demo.open().reading() as session:
        assert session.query(Read).count() == before + 1
        imported = session.query(Read).order_by(Read.id.desc()).first()
        assert imported is not None and imported.status == ReadStatus.DRAFT
        assert imported.image.sop_instance_uid == film_uid
        assert read_content(imported) == content
        again = {k: row.value for k, row in measurements_of(imported).items() if row.value is not None}
        assert again == values
    # A report without provenance (an earlier export, another program) still reads: no provenance.
    _without_provenance(ds.ContentSequence)
    older = parse_measurement_report(ds)
    assert older.content == replace(content, provenance={})


def test_instance_uids_change_with_the_content_version_only(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_id = _signed(demo, blinded=False)
    out = _export(tmp_path, monkeypatch, "--read", str(read_id))
    report = dcmread(out / f"read-{read_id:06d}.sr.dcm")
    state = dcmread(out / f"read-{read_id:06d}.gsps.dcm")
    with demo.open().reading() as session:
        read = get_read(session, read_id)
        assert read.signed_at is not None
        signed_at, film_uid = read.signed_at.astimezone(dt.UTC), read.image.sop_instance_uid
    assert state.SOPInstanceUID == presentation_uid(read_id, film_uid, signed_at)
    assert report.SOPInstanceUID == report_uid(read_id, film_uid, signed_at)
    # exported again: the same instances
    again = _export(tmp_path / "again", monkeypatch, "--read", str(read_id))
    assert dcmread(again / f"read-{read_id:06d}.gsps.dcm").SOPInstanceUID == state.SOPInstanceUID
    assert dcmread(again / f"read-{read_id:06d}.sr.dcm").SOPInstanceUID == report.SOPInstanceUID
    # another drawing or report content: another instance; the series stays
    assert presentation_uid(read_id, film_uid, signed_at, DRAWING_VERSION + 1) != state.SOPInstanceUID
    assert presentation_uid(read_id, film_uid, signed_at, DRAWING_VERSION - 1) != state.SOPInstanceUID
    assert report_uid(read_id, film_uid, signed_at, REPORT_VERSION + 1) != report.SOPInstanceUID
    assert report_uid(read_id, film_uid, signed_at, REPORT_VERSION - 1) != report.SOPInstanceUID
    assert presentation_uid(read_id, film_uid, signed_at) != report_uid(read_id, film_uid, signed_at)
    later = signed_at + dt.timedelta(seconds=1)  # a re-signed (amended) read is another instance too
    assert presentation_uid(read_id, film_uid, later) != state.SOPInstanceUID


def test_blinded_reports_name_no_reader(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read_id = _signed(demo, blinded=True)
    out = _export(tmp_path, monkeypatch, "--read", str(read_id))
    files = [out / f"read-{read_id:06d}.sr.dcm", out / f"read-{read_id:06d}.gsps.dcm"]
    with demo.open().reading() as session:
        reader = get_read(session, read_id).reader
        readers = [u for u in list_users(session) if str(u.role) in {"central_reader", "adjudicator"}]
    assert reader in readers or reader.login in {u.login for u in readers}
    for path in files:
        raw = path.read_bytes()
        for user in readers:
            assert user.login.encode() not in raw, (path.name, user.login)
            assert not user.full_name or user.full_name.encode() not in raw, (path.name, user.full_name)
    reported = read_measurement_report(files[0])
    assert reported.observer.login is None and reported.observer.name.startswith("DEMO-")
    # Importing needs the reader named; without, one clear line and nothing stored.
    capsys.readouterr()
    assert main(["sr", "import", str(files[0]), "--user", "admin"]) == 2
    assert "blinded read and names no reader" in capsys.readouterr().err
    assert main(["sr", "import", str(files[0]), "--user", "admin", "--reader", "central1"]) == 0


def test_a_changed_value_or_a_foreign_file_is_refused_and_nothing_is_stored(
    demo: DemoStudy, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read_id = _signed(demo, blinded=False)
    out = _export(tmp_path, monkeypatch, "--read", str(read_id), "--no-gsps")
    path = out / f"read-{read_id:06d}.sr.dcm"
    ds = dcmread(path)

    def numbers(items: object) -> list[object]:
        found = []
        for item in items:  # type: ignore[attr-defined]
            if item.ValueType == "NUM" and "MeasuredValueSequence" in item:
                found.append(item)
            found += numbers(item.get("ContentSequence", []))
        return found

    first = next(
        n for n in numbers(ds.ContentSequence) if n.ConceptNameCodeSequence[0].CodeValue == "285285000"
    )
    first.MeasuredValueSequence[0].NumericValue = float(first.MeasuredValueSequence[0].NumericValue) + 3
    changed = tmp_path / "changed.dcm"
    ds.save_as(changed)
    with demo.open().reading() as session:
        before = session.query(Read).count()
    capsys.readouterr()
    assert main(["sr", "import", str(changed), "--user", "admin"]) == 2
    err = capsys.readouterr().err
    assert "in the report but" in err and "Traceback" not in err
    film = next(demo.films.rglob("*.dcm"))
    assert main(["sr", "import", str(film), "--user", "admin"]) == 2
    assert "not a DICOM structured report" in capsys.readouterr().err
    with demo.open().reading() as session:
        assert session.query(Read).count() == before


def test_drafts_are_not_exported(demo: DemoStudy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    signed_id = _signed(demo, blinded=False)
    with demo.open().transaction() as session:
        signed = get_read(session, signed_id)
        draft = create_read(session, image=signed.image, reader=signed.reader, content=read_content(signed))
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", ADMIN_PASSWORD)
    assert main(["sr", "export", str(tmp_path / "x"), "--user", "admin", "--read", str(draft.id)]) == 2
    assert "only signed reads" in capsys.readouterr().err


def test_a_read_at_the_film_edge_draws_within_the_film_and_stays_valid(
    demo: DemoStudy, tmp_path: Path
) -> None:
    # The vertebral kyphosis glyph sits behind the posterior corners: with the spine against the
    # film's left edge, its rays and text would fall off the film; they are kept on it.
    read_id = _signed(demo, blinded=False)
    with demo.open().reading() as session:
        read = signed_read(session, get_read(session, read_id))
    left = min(column for column, _ in read.content.points.values())
    moved = {key: (column - left + 2.0, row) for key, (column, row) in read.content.points.items()}
    read = replace(read, content=replace(read.content, points=moved))
    state = presentation_state(read, film_header(read))
    path = tmp_path / "edge.gsps.dcm"
    state.save_as(path, enforce_file_format=True)
    assert _errors(path) == []
    columns, rows = film_header(read).Columns, film_header(read).Rows
    for _, line in _graphics(dcmread(path)).values():
        assert all(0.0 <= column <= columns and 0.0 <= row <= rows for column, row in line)
    assert {"ANGLE_VK", "ENDPLATES_SUP"} <= {a.GraphicLayer for a in state.GraphicAnnotationSequence}
