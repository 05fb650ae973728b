"""Benchmark of the study database against the project's goals; prints figures and the ratio to goal.

Run: `.venv/bin/python benchmarks/bench_storage.py [--db URL] [--quick]`. By default every database
is a fresh SQLite file in a temporary folder; `--db` names an *empty* PostgreSQL database (or SQLite
file) for the export and listing benchmarks instead (the import always uses a temporary SQLite file).

- import 1,000 DICOM files (small films of 100 patients, header only, hashed, audited): goal <= 20 s;
- export 100,000 measurement rows to CSV (long format, change from baseline): goal <= 2 s;
- list every read of a 10,000-subject database (20,000 reads): goal <= 200 ms.

The 10,000-subject database is filled with bulk Core inserts (subjects, identities, films at baseline
and D90, one signed read per film with its landmarks and 5 measurements).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from argon2 import PasswordHasher

from kyphoangle import __version__
from kyphoangle.export import export_csv
from kyphoangle.importer import import_radiographs
from kyphoangle.storage import Database, open_database
from kyphoangle.storage.models import (
    Image,
    Landmark,
    MeasurementRow,
    Read,
    Subject,
    SubjectIdentity,
    User,
    Visit,
    utc_now,
)
from kyphoangle.storage.reads import list_reads
from kyphoangle.storage.users import create_user, set_password_hasher
from kyphoangle.vocabulary import UserRole

IMPORT_FILES = 1000
IMPORT_GOAL_S = 20.0
EXPORT_ROWS = 100_000
EXPORT_GOAL_S = 2.0
LIST_SUBJECTS = 10_000
LIST_GOAL_S = 0.2
RESULTS = Path(__file__).resolve().parent / "results" / "bench_storage.json"
MEASUREMENTS = (
    ("thoracic_kyphosis", None, "deg", "T4.superior-T12.inferior", None),
    ("lumbar_lordosis", None, "deg", "L1.superior-S1.superior", None),
    ("regional_angle", "L1", "deg", None, None),
    ("traumatic_regional_angle", "L1", "deg", None, "farcy-1990"),
    ("vertebral_kyphosis", "L1", "deg", None, None),
)


def _timed(function: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs after one warm-up run (statement caches, file cache)."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _fresh(url: str | None, folder: Path, name: str) -> Database:
    database = open_database(url or str(folder / f"{name}.sqlite3"))
    if url is not None:
        with database.engine.begin() as connection:
            if connection.execute(text("SELECT count(*) FROM image")).scalar():
                raise SystemExit(f"--db {database.display_name} must be an empty database")
    return database


def _staff(database: Database) -> User:
    with database.transaction() as session:
        admin = create_user(
            session, login="bench_admin", role=UserRole.ADMIN, password="benchmark!", actor=None
        )
        manager = create_user(
            session, login="bench_manager", role=UserRole.DATA_MANAGER, password="benchmark!", actor=admin
        )
        create_user(
            session, login="bench_reader", role=UserRole.SITE_READER, password="benchmark!", actor=admin
        )
        return manager


def bench_import(url: str | None, folder: Path, files: int) -> float:
    """Seconds to import `files` small DICOM films into a fresh database."""
    from kyphoangle.dicom.radiograph import PatientIdentity
    from kyphoangle.dicom.writer import write_radiograph

    films = folder / "films"
    pixels = np.full((256, 128), 700, dtype=np.uint16)
    for n in range(files):
        patient = n % 100
        identity = PatientIdentity(patient_name=f"Bench^{patient}", patient_id=f"BENCH{patient:03d}")
        target = films / f"p{patient:03d}"
        target.mkdir(parents=True, exist_ok=True)
        write_radiograph(
            target / f"{n:05d}.dcm",
            pixels,
            pixel_spacing_mm=(0.15, 0.15),
            identity=identity,
            study_date=dt.date(2024, 1, 1) + dt.timedelta(days=n // 100 * 30),
        )
    database = _fresh(url, folder, "import")
    manager = _staff(database)
    start = time.perf_counter()
    summary = import_radiographs(database, films, actor=manager)
    elapsed = time.perf_counter() - start
    assert len(summary.new) == files and not summary.unreadable, summary.lines()[:5]
    database.dispose()
    return elapsed


def fill_study(database: Database, subjects: int) -> User:
    """Bulk-insert `subjects` subjects, each with a baseline and a D90 film and one signed read per film."""
    manager = _staff(database)
    now = utc_now()
    with database.transaction() as session:
        reader_id = session.execute(text("SELECT id FROM app_user WHERE login = 'bench_reader'")).scalar_one()
        visits = {v.code: v.id for v in session.query(Visit).all()}
        study_id = session.execute(text("SELECT id FROM study")).scalar_one()
        session.execute(
            insert(Subject),
            [
                {
                    "id": n + 1,
                    "study_id": study_id,
                    "code": f"S{n + 1:05d}",
                    "procedure_date": dt.date(2024, 1, 10),
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(subjects)
            ],
        )
        session.execute(
            insert(SubjectIdentity),
            [
                {"subject_id": n + 1, "dicom_patient_id": f"BP{n:06d}", "patient_name": f"Bench^{n}"}
                for n in range(subjects)
            ],
        )
        images = []
        for n in range(subjects):
            for k, (visit, day) in enumerate((("baseline", -3), ("D90", 90))):
                images.append(
                    {
                        "id": 2 * n + k + 1,
                        "subject_id": n + 1,
                        "sop_instance_uid": f"1.2.826.0.1.9.{n}.{k}",
                        "study_instance_uid": f"1.2.826.0.1.9.{n}",
                        "series_instance_uid": f"1.2.826.0.1.9.{n}.9",
                        "file_path": f"/films/{n}/{k}.dcm",
                        "sha256": "0" * 64,
                        "file_size_bytes": 1,
                        "study_date": dt.date(2024, 1, 10) + dt.timedelta(days=day),
                        "rows": 3000,
                        "columns": 1500,
                        "spacing_row_mm": 0.15,
                        "spacing_col_mm": 0.15,
                        "spacing_source": "pixel_spacing",
                        "patient_position": "standing",
                        "view_position": "LL",
                        "visit_id": visits[visit],
                        "visit_assignment": "automatic",
                        "imported_at": now,
                        "imported_by_id": manager.id,
                    }
                )
        session.execute(insert(Image), images)
        reads = [
            {
                "id": image["id"],
                "image_id": image["id"],
                "reader_id": reader_id,
                "read_type": "site",
                "status": "signed",
                "created_at": now,
                "updated_at": now,
                "signed_at": now,
                "software_version": __version__,
                "normal_table_name": "farcy-1990",
                "normal_table_version": "1",
                "kyphosis_endpoints": "T4.superior-T12.inferior",
                "lordosis_endpoints": "L1.superior-S1.superior",
                "version": 2,
            }
            for image in images
        ]
        session.execute(insert(Read), reads)
        rng = np.random.default_rng(0)
        keys = [
            f"{v}.{e}.{c}"
            for v in ("T12", "L1", "L2")
            for e in ("superior", "inferior")
            for c in ("anterior", "middle", "posterior")
        ]
        session.execute(
            insert(Landmark),
            [
                {"read_id": read["id"], "key": key, "column_px": 500.0 + j, "row_px": 800.0 + 40 * j}
                for read in reads
                for j, key in enumerate(keys)
            ],
        )
        values = rng.normal(10.0, 5.0, size=(len(reads), len(MEASUREMENTS)))
        session.execute(
            insert(MeasurementRow),
            [
                {
                    "read_id": read["id"],
                    "name": name,
                    "level": level,
                    "value": float(values[r, m]),
                    "unit": unit,
                    "spacing_source": "pixel_spacing",
                    "normal_table_name": table,
                    "normal_table_version": "1" if table else None,
                    "endpoints": endpoints,
                    "landmark_keys": "",
                    "not_computed_reason": None,
                    "missing_landmarks": "",
                    "software_version": __version__,
                    "computed_at": now,
                }
                for r, read in enumerate(reads)
                for m, (name, level, unit, endpoints, table) in enumerate(MEASUREMENTS)
            ],
        )
        if database.engine.dialect.name == "postgresql":
            for table in ("subject", "image", "read", "measurement"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                session.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with database.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
    return manager


def main() -> None:
    """Run the benchmarks and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="an empty database URL to use instead of temporary SQLite files")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes (smoke test)")
    args = parser.parse_args()
    set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    scale = 10 if args.quick else 1
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kyphoangle-bench-") as tmp:
        folder = Path(tmp)
        files = IMPORT_FILES // scale
        seconds = bench_import(None, folder, files)
        results.append(
            {"what": f"import {files} DICOM files", "seconds": seconds, "goal_s": IMPORT_GOAL_S / scale}
        )

        database = _fresh(args.db, folder, "study")
        subjects = LIST_SUBJECTS // scale
        start = time.perf_counter()
        manager = fill_study(database, subjects)
        setup = time.perf_counter() - start
        out = folder / "export.csv"

        def export() -> None:
            with database.reading() as session:
                summary = export_csv(session, out, actor=manager)
            assert summary.rows == EXPORT_ROWS // scale, summary.rows

        def wide() -> None:
            with database.reading() as session:
                export_csv(session, folder / "wide.csv", actor=manager, wide=True)

        def listing() -> None:
            with database.reading() as session:
                reads = list_reads(session)
            assert len(reads) == 2 * subjects

        results.append(
            {
                "what": f"export {EXPORT_ROWS // scale} measurement rows (long CSV)",
                "seconds": _timed(export, 3),
                "goal_s": EXPORT_GOAL_S / scale,
            }
        )
        results.append(
            {
                "what": f"export the same as wide CSV ({2 * subjects} rows)",
                "seconds": _timed(wide, 3),
                "goal_s": EXPORT_GOAL_S / scale,
            }
        )
        results.append(
            {
                "what": f"list all {2 * subjects} reads of {subjects} subjects",
                "seconds": _timed(listing, 5),
                "goal_s": LIST_GOAL_S,
            }
        )
        backend = database.engine.dialect.name
        database.dispose()
    print(
        f"kyphoangle {__version__} storage benchmark ({backend}; set-up of the big database: {setup:.1f} s)"
    )
    print(f"{'what':58} {'measured':>10} {'goal':>9} {'ratio':>7}")
    for row in results:
        row["ratio"] = row["seconds"] / row["goal_s"]
        verdict = "ok" if row["ratio"] <= 1 else "SLOW"
        print(f"{row['what']:58} {row['seconds']:9.3f}s {row['goal_s']:8.2f}s {row['ratio']:7.2f} {verdict}")
    if not args.quick:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text(json.dumps({"backend": backend, "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
