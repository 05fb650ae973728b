"""Backups of the study database: SQLite's online backup API, `pg_dump` for PostgreSQL.

Both take a consistent copy while the database is in use (readers and writers carry on). An SQLite
backup is itself an SQLite database: restore it by copying it over the database file while no program
has it open. A PostgreSQL backup is a `pg_dump` archive in its custom format: restore it with
`pg_restore --no-owner --dbname URL FILE` into an empty database (docs/deployment.md).
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL

from kyphoangle.errors import StorageError
from kyphoangle.output_file import output_binary
from kyphoangle.storage.engine import resolve_database_url

ENV_PG_DUMP = "KYPHOANGLE_PG_DUMP"
"""Environment variable naming the `pg_dump` program to use (default: on PATH, else Debian's newest)."""
_COPY_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class BackupResult:
    """What a backup wrote: the database kind, the target and its size in bytes."""

    backend: str
    target: str
    size_bytes: int


def backup_database(database: str | URL | None, target: str | Path) -> BackupResult:
    """Copy the database named by `database` (see `resolve_database_url`) to `target` (`-`: stdout)."""
    url = resolve_database_url(database)
    if url.get_backend_name() == "sqlite":
        size = _backup_sqlite(url, target)
    else:
        size = _backup_postgresql(url, target)
    return BackupResult(url.get_backend_name(), str(target), size)


def _backup_sqlite(url: URL, target: str | Path) -> int:
    source_path = url.database
    if not source_path or source_path == ":memory:" or not Path(source_path).exists():
        raise StorageError(f"there is no SQLite database at {source_path}")
    with tempfile.TemporaryDirectory(prefix="kyphoangle-backup-") as folder:
        copy = Path(folder) / "backup.sqlite3"
        try:
            source = sqlite3.connect(f"file:{Path(source_path).as_posix()}?mode=ro", uri=True, timeout=30)
            try:
                destination = sqlite3.connect(copy)
                try:
                    source.backup(destination)
                    # the copy is a single self-contained file, whatever the source's journal mode
                    destination.execute("PRAGMA journal_mode = DELETE")
                finally:
                    destination.close()
            finally:
                source.close()
        except sqlite3.Error as exc:
            raise StorageError(f"the SQLite database could not be backed up ({exc})") from None
        with copy.open("rb") as source_stream, output_binary(target) as stream:
            shutil.copyfileobj(source_stream, stream, _COPY_CHUNK_BYTES)
        return copy.stat().st_size


def pg_dump_program() -> str:
    """The `pg_dump` to run: `KYPHOANGLE_PG_DUMP`, else the one on PATH, else Debian's newest."""
    chosen = os.environ.get(ENV_PG_DUMP) or shutil.which("pg_dump")
    if chosen:
        return chosen
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    if candidates:
        return candidates[-1]
    raise StorageError(
        "pg_dump was not found: install PostgreSQL's client programs (or name pg_dump in KYPHOANGLE_PG_DUMP)"
    )


def libpq_arguments(url: URL) -> tuple[list[str], dict[str, str]]:
    """`pg_dump` connection arguments for `url`, and the environment carrying its password (never argv)."""
    # URL.set(password=None) keeps the password: build the URL again without it
    without_password = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    )
    arguments = ["--dbname", without_password.render_as_string(hide_password=False)]
    environment = {}
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    return arguments, environment


def _backup_postgresql(url: URL, target: str | Path) -> int:
    arguments, extra_environment = libpq_arguments(url)
    command = [pg_dump_program(), "--format=custom", "--no-password", *arguments]
    size = 0
    with output_binary(target) as stream:
        try:
            process = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**os.environ, **extra_environment},
            )
        except OSError as exc:
            raise StorageError(f"pg_dump could not be started ({exc.strerror})") from None
        assert process.stdout is not None and process.stderr is not None
        while chunk := process.stdout.read(_COPY_CHUNK_BYTES):
            stream.write(chunk)
            size += len(chunk)
        errors = process.stderr.read().decode("utf-8", "replace").strip()
        if process.wait() != 0:
            last_line = errors.splitlines()[-1] if errors else f"exit status {process.returncode}"
            raise StorageError(f"pg_dump failed: {last_line}; no backup was written")
    return size
