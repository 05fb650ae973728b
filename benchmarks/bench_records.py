"""Benchmark of the trial records against the project's goals; prints figures and the ratio to goal.

Run: `.venv/bin/python benchmarks/bench_records.py [--pg URL] [--quick] [--production-hash]`.

- signing with 20 concurrent writers on PostgreSQL: 20 processes each create and sign 25 reads at
  once (500 signatures, each its own transaction with its signature, content hash, row digests and
  audit events); goal >= 50 signatures per second, and 0 duplicate current signed reads;
- `audit verify` (chain, every table row, every signature) on a database of 10,000 signed reads
  (180,000 landmarks, 50,000 measurements) and 100,000 audit events; goal <= 10 s, SQLite and
  PostgreSQL.

Without `--pg`, a throw-away PostgreSQL server is started from Debian's binaries (as the tests do).
Passwords are hashed at the tests' low Argon2 cost unless `--production-hash` is given: at production
cost (about 100 ms of CPU a check) the machine's two cores, not the database, bound the signing rate.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, func, insert, select, text, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "storage"))  # synthetic films

from argon2 import PasswordHasher

from kyphoangle import __version__
from kyphoangle.storage import Database, open_database
from kyphoangle.storage.audit import GENESIS_HASH, canonical_event_bytes
from kyphoangle.storage.integrity import record_baseline, verify_database
from kyphoangle.storage.models import AuditEvent, AuditHead, Read, ReadStatus, Signature, utc_now
from kyphoangle.storage.signatures import CONTENT_FORMAT, content_sha256, read_contents
from kyphoangle.storage.users import set_password_hasher

ROOT = Path(__file__).resolve().parents[1]
WRITERS = 20
SIGNS_PER_WRITER = 25
SIGN_GOAL_PER_S = 50.0
VERIFY_READS = 10_000
VERIFY_EVENTS = 100_000
VERIFY_GOAL_S = 10.0
RESULTS = Path(__file__).resolve().parent / "results" / "bench_records.json"
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@contextmanager
def postgres_server() -> Iterator[str]:
    """A throw-away PostgreSQL server on 127.0.0.1; yields the URL of its `postgres` database."""
    bin_dir = sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1]
    base = Path(tempfile.mkdtemp(prefix="bench-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(base, account.pw_uid, account.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    data = base / "data"
    subprocess.run(
        [*run_as, f"{bin_dir}/initdb", "-D", str(data), "-U", "postgres", "-A", "trust"],
        check=True,
        capture_output=True,
    )
    options = f"-h 127.0.0.1 -p {port} -k {base} -c max_connections=80"
    subprocess.run(
        [
            *run_as,
            f"{bin_dir}/pg_ctl",
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "-o",
            options,
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*run_as, f"{bin_dir}/pg_ctl", "-D", str(data), "-m", "fast", "-w", "stop"], capture_output=True
        )
        shutil.rmtree(base, ignore_errors=True)


def fresh_postgres(server_url: str, name: str) -> str:
    """A new, empty database on the server; returns its URL."""
    engine = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


# --- signing ---------------------------------------------------------------------------------------------


def _writer(url: str, reader: str, password: str, uids: list[str], production: bool) -> None:
    """One writer process: wait for the start line, then create and sign a read of each film."""
    from storage_helpers import landmarks

    from kyphoangle.storage.images import get_image
    from kyphoangle.storage.reads import create_read, sign_read
    from kyphoangle.storage.users import get_user

    database = open_database(url)
    print("ready", flush=True)
    sys.stdin.readline()
    for uid in uids:
        with database.transaction() as session:
            user = get_user(session, reader)
            read = create_read(
                session, image=get_image(session, uid), reader=user, content=landmarks(uid, reader=reader)
            )
            sign_read(session, read, password=password)
    database.dispose()
    print("done", flush=True)


def bench_signing(url: str, production: bool) -> dict[str, float]:
    """Signatures per second of 20 writer processes at once, and duplicates found afterwards."""
    from storage_helpers import PASSWORD, add_subject_with_images

    from kyphoangle.storage.models import UserRole
    from kyphoangle.storage.users import create_user

    database = open_database(url)
    set_password_hasher(PasswordHasher() if production else CHEAP)
    with database.transaction() as session:
        admin = create_user(session, login="admin", role=UserRole.ADMIN, password=PASSWORD, actor=None)
        manager = create_user(session, login="dm", role=UserRole.DATA_MANAGER, password=PASSWORD, actor=admin)
        for n in range(WRITERS):
            create_user(
                session, login=f"reader{n}", role=UserRole.SITE_READER, password=PASSWORD, actor=admin
            )
        manager_id = manager.id
    uids: list[str] = []
    for n in range(WRITERS * SIGNS_PER_WRITER // 5):
        _, films = add_subject_with_images(
            database, manager_id, patient_id=f"B{n}", study_dates=(None,) * 5, uid_prefix=f"1.2.826.0.9.{n}"
        )
        uids.extend(films)
    database.dispose()
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests" / "storage"), str(ROOT)])}
    children = []
    for n in range(WRITERS):
        mine = uids[n * SIGNS_PER_WRITER : (n + 1) * SIGNS_PER_WRITER]
        arguments = (url, f"reader{n}", PASSWORD, mine, production)
        code = (
            f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); import bench_records; "
            f"bench_records._writer(*{arguments!r})"
        )
        children.append(
            subprocess.Popen(
                [sys.executable, "-c", code],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=environment,
            )
        )
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "done"
    elapsed = time.perf_counter() - start
    for child in children:
        child.wait()
    database = open_database(url)
    with database.reading() as session:
        signed = session.scalar(
            select(func.count()).select_from(Read).where(Read.status == ReadStatus.SIGNED)
        )
        groups = session.execute(
            select(Read.image_id, Read.reader_id, Read.read_type, func.count())
            .where(Read.status == ReadStatus.SIGNED, Read.superseded_by_id.is_(None))
            .group_by(Read.image_id, Read.reader_id, Read.read_type)
            .having(func.count() > 1)
        ).all()
        intact = verify_database(session).intact
    database.dispose()
    assert signed == WRITERS * SIGNS_PER_WRITER and intact
    return {
        "signatures": float(signed),
        "seconds": elapsed,
        "per_second": signed / elapsed,
        "duplicates": float(len(groups)),
    }


# --- verify ----------------------------------------------------------------------------------------------


def fill_signed_study(database: Database, reads: int, events: int) -> None:
    """Bulk: `reads` signed reads (bench_storage's study), their signatures, row digests, then events
    up to `events` in the trail (each with a small change of no row, as sign-ins would be)."""
    from bench_storage import fill_study

    fill_study(database, reads // 2)
    with database.engine.begin() as connection:
        read_ids = list(connection.execute(select(Read.id).order_by(Read.id)).scalars())
        rows = connection.execute(select(Read.id, Read.reader_id, Read.signed_at).order_by(Read.id)).all()
        signed = {read_id: (reader_id, signed_at) for read_id, reader_id, signed_at in rows}
        login = connection.execute(
            text("SELECT login FROM app_user WHERE login = 'bench_reader'")
        ).scalar_one()
        signatures = [
            {
                "read_id": content.read["id"],
                "signer_id": signed[content.read["id"]][0],
                "signer_login": login,
                "signer_name": login,
                "signed_at": signed[content.read["id"]][1],
                "meaning": "site_read",
                "content_format": CONTENT_FORMAT,
                "content_sha256": content_sha256(content),
            }
            for content in read_contents(connection, read_ids)
        ]
        connection.execute(insert(Signature), signatures)
        record_baseline(connection, reason="benchmark: bulk-filled study")
        head = connection.execute(select(AuditHead.last_sequence, AuditHead.last_hash)).one()
        sequence, previous = int(head.last_sequence), str(head.last_hash or GENESIS_HASH)
        batch: list[dict[str, object]] = []
        now = utc_now()
        while sequence < events:
            sequence += 1
            values: dict[str, object] = {
                "sequence": sequence,
                "occurred_at": now,
                "actor_id": None,
                "actor_login": login,
                "entity": "user",
                "entity_id": "1",
                "action": "sign_in",
                "old_values": None,
                "new_values": json.dumps({"n": sequence}),
                "reason": None,
                "software_version": __version__,
                "previous_hash": previous,
                "row_digests": None,
            }
            previous = hashlib.sha256(canonical_event_bytes(**values)).hexdigest()  # type: ignore[arg-type]
            batch.append({**values, "event_hash": previous})
            if len(batch) == 5000:
                connection.execute(insert(AuditEvent), batch)
                batch = []
        if batch:
            connection.execute(insert(AuditEvent), batch)
        connection.execute(update(AuditHead).values(last_sequence=sequence, last_hash=previous))
    if database.engine.dialect.name == "postgresql":
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))


def bench_verify(database: Database) -> dict[str, float]:
    """Seconds of one full `audit verify`, after a first run that warms the caches."""
    times = []
    result = None
    for _ in range(2):
        start = time.perf_counter()
        with database.reading() as session:
            result = verify_database(session)
        times.append(time.perf_counter() - start)
    assert result is not None and result.intact, result
    return {
        "seconds": times[-1],
        "events": float(result.events_checked),
        "rows": float(result.rows_checked),
        "signatures": float(result.signatures_checked),
    }


def main() -> None:
    """Run the benchmarks and print figures against the goals."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", help="URL of a PostgreSQL server's maintenance database (default: start one)")
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes (smoke test)")
    parser.add_argument("--production-hash", action="store_true", help="Argon2 at production cost")
    args = parser.parse_args()
    global SIGNS_PER_WRITER
    reads, events = (
        (VERIFY_READS, VERIFY_EVENTS) if not args.quick else (VERIFY_READS // 10, VERIFY_EVENTS // 10)
    )
    if args.quick:
        SIGNS_PER_WRITER = 5
    set_password_hasher(CHEAP)
    figures: dict[str, object] = {}
    with (
        tempfile.TemporaryDirectory() as folder,
        postgres_server() if args.pg is None else _given(args.pg) as server,
    ):
        signing = bench_signing(fresh_postgres(server, "bench_signing"), args.production_hash)
        figures["signing_postgresql"] = signing
        print(
            f"signing, {WRITERS} writers on PostgreSQL: "
            f"{signing['per_second']:.0f} signatures/s "
            f"({signing['signatures']:.0f} in {signing['seconds']:.1f} s), "
            f"{signing['duplicates']:.0f} duplicates; "
            f"goal >= {SIGN_GOAL_PER_S:.0f}/s: ratio {SIGN_GOAL_PER_S / signing['per_second']:.2f}"
        )
        for backend, url in (
            ("sqlite", str(Path(folder) / "verify.sqlite3")),
            ("postgresql", fresh_postgres(server, "bench_verify")),
        ):
            database = open_database(url)
            fill_signed_study(database, reads, events)
            verify = bench_verify(database)
            database.dispose()
            figures[f"verify_{backend}"] = verify
            print(
                f"audit verify, {backend}: {verify['seconds']:.2f} s "
                f"for {verify['events']:.0f} events, "
                f"{verify['rows']:.0f} rows, {verify['signatures']:.0f} signatures; "
                f"goal <= {VERIFY_GOAL_S:.0f} s: "
                f"ratio {verify['seconds'] / VERIFY_GOAL_S:.2f}"
            )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    main()
