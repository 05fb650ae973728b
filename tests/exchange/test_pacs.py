"""PACS exchange against a real Orthanc: DIMSE (C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE, Storage SCP) and
DICOMweb (QIDO-RS, WADO-RS, STOW-RS), with the failures a hospital network produces."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, DemoStudy
from orthanc_server import OrthancServer, free_port, instance_file, send_to_modality, study_id
from pydicom import dcmread

from kyphoangle.cli import main
from kyphoangle.pacs import dimse
from kyphoangle.pacs.exchange import Listener
from kyphoangle.storage import open_database
from kyphoangle.storage.models import AuditEvent, Image, PacsNode, Read, ReadStatus
from kyphoangle.storage.users import create_user, get_user


@pytest.fixture
def loaded(orthanc: OrthancServer, demo: DemoStudy) -> Iterator[OrthancServer]:
    """Orthanc holding the demo films (and nothing else)."""
    orthanc.hold_only(demo.films)
    yield orthanc
    orthanc.clear()


@pytest.fixture
def empty_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new study database with only an admin: the films come from the PACS."""
    path = tmp_path / "fresh.sqlite3"
    database = open_database(str(path))
    with database.transaction() as session:
        create_user(session, login="admin", role="admin", password=ADMIN_PASSWORD, actor=None)
    database.dispose()
    monkeypatch.setenv("KYPHOANGLE_DB", str(path))
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", ADMIN_PASSWORD)
    monkeypatch.setenv("KYPHOANGLE_DATA_DIR", str(tmp_path / "data"))
    return path


def _add_dimse(orthanc: OrthancServer, name: str = "orthanc", ae_title: str = "ORTHANC") -> None:
    argv = [
        "pacs",
        "add",
        name,
        "--ae-title",
        ae_title,
        "--host",
        "127.0.0.1",
        "--port",
        str(orthanc.dicom_port),
    ]
    assert main([*argv, "--user", "admin"]) == 0


def _studies(orthanc: OrthancServer, patient_id: str) -> list[str]:
    found = []
    for study in orthanc.get_json("/studies?expand"):  # type: ignore[attr-defined]
        if study["PatientMainDicomTags"]["PatientID"] == patient_id:
            found.append(study["MainDicomTags"]["StudyInstanceUID"])
    return found


def test_nodes_are_stored_edited_by_admins_only_and_audited(
    orthanc: OrthancServer,
    empty_db: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _add_dimse(orthanc)
    _add_dimse(orthanc)  # saved again: an update
    assert main(["pacs", "add", "web", "--url", f"{orthanc.dicomweb}", "--user", "admin"]) == 0
    assert (
        main(["pacs", "add", "bad", "--ae-title", "A\\B", "--host", "h", "--port", "1", "--user", "admin"])
        == 2
    )
    assert "not an AE title" in capsys.readouterr().err
    database = open_database(str(empty_db))
    with database.transaction() as session:
        admin = get_user(session, "admin")
        create_user(session, login="dm", role="data_manager", password="data-manager", actor=admin)
    with database.reading() as session:
        assert {n.name for n in session.query(PacsNode)} == {"orthanc", "web"}
        actions = [e.action for e in session.query(AuditEvent).filter(AuditEvent.entity == "pacs_node")]
        assert actions == ["create", "update", "create"]
    database.dispose()
    capsys.readouterr()
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", "data-manager")
    assert main(["pacs", "remove", "orthanc", "--user", "dm"]) == 3
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", ADMIN_PASSWORD)
    assert main(["pacs", "nodes", "--user", "admin"]) == 0
    assert "orthanc" in capsys.readouterr().out


def test_dimse_echo_find_and_retrieve_into_the_import(
    loaded: OrthancServer, empty_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _add_dimse(loaded)
    assert main(["pacs", "echo", "orthanc", "--user", "admin"]) == 0
    capsys.readouterr()
    assert (
        main(["pacs", "find", "orthanc", "--patient-id", "DEMO-001", "--modality", "DX", "--user", "admin"])
        == 0
    )
    out = capsys.readouterr().out
    studies = _studies(loaded, "DEMO-001")
    assert len(studies) > 2 and all(uid in out for uid in studies)
    assert main(["pacs", "retrieve", "orthanc", studies[0], "--user", "admin"]) == 0
    # retrieved again: a new folder, nothing new imported, the first copy stays where the database says
    assert main(["pacs", "retrieve", "orthanc", studies[0], "--user", "admin"]) == 0
    assert "already imported: 1" in capsys.readouterr().out
    assert (
        main(["pacs", "retrieve", "orthanc", studies[1], "--move-to", "KYPHOANGLE:0", "--user", "admin"]) != 0
    )
    database = open_database(str(empty_db))
    with database.reading() as session:
        images = session.query(Image).all()
        assert {i.study_instance_uid for i in images} == {studies[0]}
        assert all(Path(i.file_path).is_file() for i in images)
    database.dispose()


def test_c_move_to_our_receiver_and_pushes_to_the_listener(
    loaded: OrthancServer, empty_db: Path, scp_port: int
) -> None:
    _add_dimse(loaded)
    study = _studies(loaded, "DEMO-002")[0]
    assert (
        main(["pacs", "retrieve", "orthanc", study, "--move-to", f"KYPHOANGLE:{scp_port}", "--user", "admin"])
        == 0
    )
    database = open_database(str(empty_db))
    with database.reading() as session:
        assert [i.study_instance_uid for i in session.query(Image)] == [study]
        admin = get_user(session, "admin")
        session.expunge(admin)
    # Orthanc pushes a film to kyphoangle's Storage SCP (the modality 'kyphoangle' of its configuration).
    listener = Listener(database, actor=admin, folder=empty_db.parent / "received", port=scp_port)
    try:
        other = _studies(loaded, "DEMO-001")[0]
        send_to_modality(loaded, "kyphoangle", study_id(loaded, other))
    finally:
        listener.stop()
    with database.reading() as session:
        assert {i.study_instance_uid for i in session.query(Image)} == {study, other}
    assert len(listener.summaries) == 1 and len(listener.summaries[0].new) == 1
    database.dispose()


def test_an_incomplete_retrieve_imports_nothing(
    loaded: OrthancServer, demo: DemoStudy, empty_db: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A study holding a film and a structured report: kyphoangle accepts films only, so the report's
    # sub-operation fails and the retrieve is incomplete.
    with demo.open().reading() as session:
        read = session.query(Read).filter(Read.status == ReadStatus.SIGNED).order_by(Read.id).first()
        assert read is not None
        read_id, study = read.id, read.image.study_instance_uid
    assert main(["sr", "export", str(tmp_path / "sr"), "--read", str(read_id), "--no-gsps", "--user", "admin",
                 "--db", str(demo.db)]) == 0  # fmt: skip
    loaded.upload(next((tmp_path / "sr").glob("*.dcm")))
    _add_dimse(loaded)
    capsys.readouterr()
    assert main(["pacs", "retrieve", "orthanc", study, "--user", "admin"]) == 2
    err = capsys.readouterr().err
    assert "incomplete" in err and "nothing was imported" in err and "Traceback" not in err
    database = open_database(str(empty_db))
    with database.reading() as session:
        assert session.query(Image).count() == 0
    database.dispose()
    assert not list((tmp_path / "data").rglob("*.dcm"))


def test_unreachable_refused_and_silent_nodes_give_one_clear_line(
    orthanc: OrthancServer, empty_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pacs", "add", "nowhere", "--ae-title", "X", "--host", "127.0.0.1", "--port",
                 str(free_port()), "--user", "admin"]) == 0  # fmt: skip
    _add_dimse(orthanc, "stranger", ae_title="NOT_ORTHANC")
    capsys.readouterr()
    assert main(["pacs", "echo", "nowhere", "--user", "admin"]) == 2
    assert "cannot be reached" in capsys.readouterr().err
    assert main(["pacs", "echo", "stranger", "--user", "admin"]) == 2
    assert "refused the association" in capsys.readouterr().err
    # a node that accepts the connection and never answers
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        peer = dimse.DicomPeer("silent", "SILENT", "127.0.0.1", port, timeout_s=1.0)
        with pytest.raises(dimse.PacsError, match="did not answer"):
            dimse.echo(peer)
    assert main(["pacs", "echo", "unknown", "--user", "admin"]) == 2
    assert "there is no PACS node 'unknown'" in capsys.readouterr().err


def test_reports_sent_over_dimse_and_dicomweb_arrive_intact(
    loaded: OrthancServer, demo: DemoStudy, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("KYPHOANGLE_DB", str(demo.db))
    monkeypatch.setenv("KYPHOANGLE_PASSWORD", ADMIN_PASSWORD)
    _add_dimse(loaded)
    assert main(["pacs", "add", "web", "--url", loaded.dicomweb, "--user", "admin"]) == 0
    with demo.open().reading() as session:
        reads = session.query(Read).filter(Read.status == ReadStatus.SIGNED).order_by(Read.id).limit(2).all()
        first, second = reads[0].id, reads[1].id
    assert main(["pacs", "send", "orthanc", "--read", str(first), "--user", "admin"]) == 0
    assert main(["pacs", "send", "web", "--read", str(second), "--user", "admin"]) == 0
    assert main(["sr", "export", str(tmp_path / "local"), "--read", str(first), "--read", str(second),
                 "--user", "admin"]) == 0  # fmt: skip
    for path in sorted((tmp_path / "local").glob("*.dcm")):
        local = dcmread(path)
        raw = instance_file(loaded, str(local.SOPInstanceUID))
        assert raw is not None, f"{path.name} did not arrive"
        stored = dcmread(io.BytesIO(raw))
        assert stored.SOPClassUID == local.SOPClassUID
        for keyword in ("ContentSequence", "GraphicAnnotationSequence", "VerifyingObserverSequence"):
            if keyword in local:
                assert stored[keyword].value == local[keyword].value, (path.name, keyword)


def test_dicomweb_search_and_retrieve_into_the_import(
    loaded: OrthancServer, empty_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["pacs", "add", "web", "--url", loaded.dicomweb, "--user", "admin"]) == 0
    assert main(["pacs", "echo", "web", "--user", "admin"]) == 0
    capsys.readouterr()
    assert main(["pacs", "find", "web", "--patient-id", "DEMO-002", "--user", "admin"]) == 0
    studies = _studies(loaded, "DEMO-002")
    out = capsys.readouterr().out
    assert studies and all(uid in out for uid in studies)
    assert main(["pacs", "retrieve", "web", studies[0], "--user", "admin"]) == 0
    database = open_database(str(empty_db))
    with database.reading() as session:
        assert [i.study_instance_uid for i in session.query(Image)] == [studies[0]]
    database.dispose()
    assert (
        main(
            [
                "pacs",
                "add",
                "webdown",
                "--url",
                f"http://127.0.0.1:{free_port()}/dicom-web",
                "--user",
                "admin",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["pacs", "echo", "webdown", "--user", "admin"]) == 2
    assert "cannot be reached" in capsys.readouterr().err


def test_studies_retrieved_one_by_one_with_progress_cancel_and_a_failure_keeping_what_came(
    loaded: OrthancServer, empty_db: Path
) -> None:
    from kyphoangle.workstation.connection import sign_in
    from kyphoangle.workstation.pacs import RetrieveProgress, retrieve_studies

    _add_dimse(loaded)
    studies = _studies(loaded, "DEMO-001")[:3]
    database = open_database(str(empty_db))
    actor = sign_in(database, "admin", ADMIN_PASSWORD)
    seen: list[RetrieveProgress] = []
    result = retrieve_studies(actor, "orthanc", studies, progress=seen.append, cancel=lambda: bool(seen))
    assert result.cancelled and not result.failure
    assert [s.study_uid for s in result.studies] == studies[:1] and result.not_retrieved == tuple(studies[1:])
    assert [(p.done, p.total, p.study_uid) for p in seen] == [(0, 3, studies[0]), (1, 3, "")]
    assert any("cancelled" in line for line in result.lines())

    # a study the node does not hold stops the run there; the studies before it stay imported
    result = retrieve_studies(actor, "orthanc", [studies[1], "1.2.3.4.5", studies[2]])
    assert [s.study_uid for s in result.studies] == [studies[1]] and "orthanc" in result.failure
    assert result.not_retrieved == ("1.2.3.4.5", studies[2])
    assert result.lines()[:2] == [
        "studies retrieved: 1 of 3 (1 films)",
        f"the retrieve stopped: {result.failure}",
    ]
    with database.reading() as session:
        assert session.query(Image).count() == 2
    database.dispose()
