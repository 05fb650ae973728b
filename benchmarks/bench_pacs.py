"""Benchmark: retrieve 100 films from a local Orthanc into the import, against a plain `cp` of the files.

Run: `.venv/bin/python benchmarks/bench_pacs.py [--films 100] [--keep]`. Needs Debian's `orthanc` and
`orthanc-dicomweb` (scripts/setup.sh installs them). Builds 100 lateral films (one demo film copied
with new UIDs, 10 patients of 10 studies each), starts its own Orthanc on free ports on 127.0.0.1 with
storage in a temporary folder, uploads the films, then times:

- `cp` of the 100 files into a new folder (the goal's reference);
- `cp` and the regular import of the copies (header check, hash, database: what any way in costs);
- C-GET of every study into the import (`kyphoangle.pacs.exchange.retrieve`, DIMSE);
- WADO-RS of every study into the import (DICOMweb).

Prints films per second and the ratio of each retrieve to the `cp` (goal: within 3x).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "exchange"))

from argon2 import PasswordHasher
from pydicom import dcmread
from pydicom.uid import generate_uid

from kyphoangle.demo import generate_demo_films
from kyphoangle.importer import import_radiographs
from kyphoangle.pacs.exchange import retrieve
from kyphoangle.storage import Database, open_database
from kyphoangle.storage.models import PacsNode, PacsProtocol, User
from kyphoangle.storage.users import create_user, set_password_hasher

GOAL_RATIO = 3.0


def make_films(folder: Path, count: int) -> list[tuple[str, Path]]:
    """`count` films (copies of one demo film with new patient, study, series and instance UIDs)."""
    source_dir = folder / "demo"
    generate_demo_films(source_dir, subjects=1)
    template = dcmread(sorted(source_dir.rglob("*.dcm"))[0])
    films = folder / "films"
    films.mkdir()
    made = []
    for n in range(count):
        patient, study = divmod(n, 10)
        template.PatientID = f"BENCH-{patient:03d}"
        template.PatientName = f"BENCH^{patient:03d}"
        if study == 0 or n == 0:
            study_uids = [generate_uid() for _ in range(10)]
        template.StudyInstanceUID = study_uids[study]
        template.SeriesInstanceUID = generate_uid()
        template.SOPInstanceUID = generate_uid()
        template.file_meta.MediaStorageSOPInstanceUID = template.SOPInstanceUID
        path = films / f"film-{n:03d}.dcm"
        template.save_as(path, enforce_file_format=True)
        made.append((str(template.StudyInstanceUID), path))
    return made


def fresh_database(path: Path) -> tuple[Database, User]:
    database = open_database(str(path))
    with database.transaction() as session:
        admin = create_user(session, login="admin", role="admin", password="bench-admin", actor=None)
        session.flush()
        session.expunge(admin)
    return database, admin


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=100)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--pdu-kb", type=int, default=16, help="Orthanc's MaximumPduLength in KB (16 default, 128 maximum)"
    )
    args = parser.parse_args(argv)
    set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    from orthanc_server import free_port, start_orthanc

    work = Path(tempfile.mkdtemp(prefix="kyphoangle-bench-pacs-"))
    server = None
    try:
        films = make_films(work, args.films)
        size_mb = sum(p.stat().st_size for _, p in films) / 1e6
        studies = sorted({study for study, _ in films})
        server = start_orthanc(
            work / "orthanc", our_port=free_port(), extra={"MaximumPduLength": args.pdu_kb * 1024}
        )
        for _, path in films:
            server.upload(path)

        copy_s = timed(
            lambda: subprocess.run(["cp", "-r", str(work / "films"), str(work / "copied")], check=True)
        )
        database, admin = fresh_database(work / "cp.sqlite3")
        cp_import_s = copy_s + timed(lambda: import_radiographs(database, work / "copied", actor=admin))
        database.dispose()

        results: dict[str, float] = {}
        for label, node in (
            (
                "C-GET",
                PacsNode(
                    name="orthanc",
                    protocol=PacsProtocol.DIMSE,
                    ae_title="ORTHANC",
                    host="127.0.0.1",
                    port=server.dicom_port,
                ),
            ),
            (
                "WADO-RS",
                PacsNode(name="orthancweb", protocol=PacsProtocol.DICOMWEB, url=f"{server.dicomweb}"),
            ),
        ):
            database, admin = fresh_database(work / f"{label}.sqlite3")
            root = work / f"retrieved-{label}"

            def run(
                node: PacsNode = node, database: Database = database, root: Path = root, admin: User = admin
            ) -> None:
                result = retrieve(database, node, study_uid=studies, actor=admin, root=root)
                assert len(result.summary.new) == result.files == len(studies)

            results[label] = timed(run)
            database.dispose()

        count = len(films)
        print(
            f"{count} films, {size_mb:.0f} MB, {len(studies)} studies, local Orthanc on 127.0.0.1 "
            f"(maximum PDU {args.pdu_kb} KB)"
        )
        print(f"cp:                    {copy_s:7.2f} s  {count / copy_s:8.1f} films/s")
        print(f"cp + import:           {cp_import_s:7.2f} s  {count / cp_import_s:8.1f} films/s")
        for label, seconds in results.items():
            ratio = seconds / copy_s
            verdict = "meets" if ratio <= GOAL_RATIO else "misses"
            print(
                f"{label + ' + import:':22} {seconds:7.2f} s  {count / seconds:8.1f} films/s  "
                f"{ratio:5.1f}x cp ({verdict} the {GOAL_RATIO:g}x goal), "
                f"{seconds / cp_import_s:4.1f}x cp + import"
            )
    finally:
        if server is not None:
            server.stop()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
