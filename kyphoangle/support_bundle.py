"""The support bundle: one zip with what a support engineer needs and no patient data.

It holds the log files (scrubbed once more, see `kyphoangle.log.scrub`), the versions of Python, Qt,
the DICOM decoders, SQLite, PostgreSQL and every library, the database's schema revision and row
counts, and the settings (environment variables of kyphoangle, folders; passwords are never written).
It never holds the database itself, a film, a landmark file, or a value read from them.
"""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from kyphoangle import __version__
from kyphoangle.folders import ENV_DATA_DIR, ENV_LOG_DIR, data_folder, log_folder
from kyphoangle.log import ENV_LOG_LEVEL, LOG_FILENAME, scrub
from kyphoangle.output_file import output_binary

DISTRIBUTIONS = (
    "kyphoangle", "numpy", "scipy", "matplotlib", "pydicom", "pylibjpeg", "pylibjpeg-openjpeg",
    "pylibjpeg-rle", "pyjpegls", "python-gdcm", "opencv-python-headless", "SQLAlchemy", "alembic",
    "psycopg", "psycopg-binary", "platformdirs", "argon2-cffi", "PySide6-Essentials", "shiboken6",
)  # fmt: skip
"""Installed distributions whose version goes into the bundle."""

SECRET_WORDS = ("PASSWORD", "SECRET", "TOKEN", "KEY")
"""Environment variables whose name holds one of these are listed without their value."""

README = """kyphoangle support bundle

versions.json  Python, the operating system, Qt, the DICOM decoders, SQLite, PostgreSQL's client
               library and every library kyphoangle uses
settings.json  kyphoangle's environment variables (passwords omitted) and folders
database.json  the study database: kind, server version, schema revision, number of rows per table
logs/          the program's log files; file names, paths, quoted values, UIDs and dates replaced

No patient data: no film, no landmark, no name, identifier or date of a patient, no database content.
"""


def distribution_versions() -> dict[str, str]:
    """Version of each library in `DISTRIBUTIONS` ("not installed" when missing)."""
    versions = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    if versions["kyphoangle"] == "not installed":
        versions["kyphoangle"] = __version__  # a frozen bundle carries no metadata
    return versions


def decoder_plugins() -> dict[str, list[str]]:
    """For each compressed transfer syntax of radiographs, the pydicom decoder plugins available."""
    from pydicom.pixels.decoders.base import get_decoder
    from pydicom.uid import (
        JPEG2000,
        DeflatedExplicitVRLittleEndian,
        JPEG2000Lossless,
        JPEGBaseline8Bit,
        JPEGLosslessSV1,
        JPEGLSLossless,
        RLELossless,
    )

    plugins: dict[str, list[str]] = {}
    for uid in (JPEGBaseline8Bit, JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless, JPEG2000, RLELossless):
        try:
            plugins[uid.name] = sorted(get_decoder(uid).available_plugins)
        except Exception as exc:  # a broken decoder must not stop the bundle
            plugins[uid.name] = [f"error: {type(exc).__name__}"]
    plugins[DeflatedExplicitVRLittleEndian.name] = ["zlib"]
    return plugins


def versions() -> dict[str, Any]:
    """Everything `versions.json` holds."""
    facts: dict[str, Any] = {
        "kyphoangle": __version__,
        "python": sys.version,
        "platform": platform.platform(),
        "machine": platform.machine(),
        "frozen": bool(getattr(sys, "frozen", False)),
        "sqlite": sqlite3.sqlite_version,
        "qt": _installed("PySide6-Essentials"),
        "libraries": distribution_versions(),
    }
    try:
        import psycopg

        facts["libpq"] = str(psycopg.pq.version())
    except Exception as exc:  # no PostgreSQL client library: say so
        facts["libpq"] = f"unavailable ({type(exc).__name__})"
    try:
        facts["decoders"] = decoder_plugins()
    except Exception as exc:
        facts["decoders"] = f"unavailable ({type(exc).__name__})"
    return facts


def _installed(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def settings(environment: Mapping[str, str] | None = None) -> dict[str, Any]:
    """kyphoangle's environment variables (secrets named, never shown; URLs without password), folders."""
    env = os.environ if environment is None else environment
    variables: dict[str, str] = {}
    for name in sorted(env):
        if not (name.startswith("KYPHOANGLE_") or name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")):
            continue
        if any(word in name for word in SECRET_WORDS):
            variables[name] = "(set; not shown)"
        elif name == "KYPHOANGLE_DB":
            variables[name] = _safe_url(env[name])
        else:
            variables[name] = scrub(env[name]) if name not in (ENV_LOG_LEVEL,) else env[name]
    return {
        "environment": variables,
        "data_folder_overridden": ENV_DATA_DIR in env,
        "log_folder_overridden": ENV_LOG_DIR in env,
        "data_folder": str(data_folder()),
        "log_folder": str(log_folder()),
    }


def _safe_url(value: str) -> str:
    """A database URL without its password (a plain file path is reduced to its kind)."""
    if "://" not in value:
        return "(an SQLite file path)"
    from sqlalchemy import make_url

    try:
        url = make_url(value)
    except Exception:
        return "(not a valid URL)"
    return url.set(
        database="<database>" if url.get_backend_name() == "sqlite" else url.database
    ).render_as_string(hide_password=True)


def database_facts(database_url: str | None) -> dict[str, Any]:
    """Kind, server version, schema revision and row counts of the study database (never its content)."""
    from sqlalchemy import inspect, text

    from kyphoangle.storage.engine import (
        create_database_engine,
        database_revision,
        head_revision,
        resolve_database_url,
    )

    facts: dict[str, Any] = {"program_schema_head": head_revision()}
    try:
        url = resolve_database_url(database_url)
    except Exception as exc:
        facts["error"] = scrub(str(exc))
        return facts
    facts["backend"] = url.get_backend_name()
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        facts["error"] = "no database file yet"
        return facts
    engine = create_database_engine(url)
    try:
        facts["schema_revision"] = database_revision(engine)
        with engine.connect() as connection:
            if facts["backend"] == "postgresql":
                facts["server_version"] = connection.execute(text("SHOW server_version")).scalar()
            else:
                facts["server_version"] = connection.execute(text("SELECT sqlite_version()")).scalar()
            counts = {}
            for table in sorted(inspect(connection).get_table_names()):
                quoted = connection.dialect.identifier_preparer.quote(table)
                counts[table] = connection.execute(text(f"SELECT count(*) FROM {quoted}")).scalar()
            facts["rows_per_table"] = counts
    except Exception as exc:  # an unreachable or damaged database is a fact for support, not a failure
        facts["error"] = f"{type(exc).__name__}: {scrub(str(exc))}"
    finally:
        engine.dispose()
    return facts


def log_files(folder: Path | None = None) -> list[Path]:
    """The log file and its rotated predecessors, oldest last."""
    where = folder or log_folder()
    return sorted(where.glob(f"{LOG_FILENAME}*")) if where.is_dir() else []


def write_support_bundle(path: str | Path, *, database_url: str | None = None) -> list[str]:
    """Write the bundle (a zip; `-` for standard output); the names of its entries."""
    entries: dict[str, str] = {
        "README.txt": README,
        "versions.json": json.dumps(versions(), indent=2, default=str) + "\n",
        "settings.json": json.dumps(settings(), indent=2) + "\n",
        "database.json": json.dumps(database_facts(database_url), indent=2, default=str) + "\n",
    }
    for log in log_files():
        try:
            entries[f"logs/{log.name}"] = scrub(log.read_text(encoding="utf-8", errors="replace")) + "\n"
        except OSError as exc:
            entries[f"logs/{log.name}.unreadable"] = f"{exc.strerror}\n"
    stamp = datetime.now(UTC).timetuple()[:6]
    with output_binary(path) as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as bundle:
        for name, content in entries.items():
            bundle.writestr(zipfile.ZipInfo(name, date_time=stamp), content)
    return list(entries)
