"""Files kyphoangle writes: private (0600 on POSIX), written whole or not at all, `-` for standard output.

Every export, report, blinded copy, key file and recovery file goes through `output_text` or
`output_binary`: the content is written to a temporary file in the target's folder, flushed to disk and
renamed over the target, so a full disk, a read-only folder or an interruption leaves the previous file
(or none) and never a partial one.
Callers announce success ("exported", "signed") only after the context has exited without error.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from kyphoangle.errors import OutputFileError

STANDARD_OUTPUT = "-"
"""The file name that means standard output, as in most Unix tools."""

PRIVATE_FILE_MODE = 0o600
"""Owner read and write only: exports and keys may hold study data."""

PRIVATE_FOLDER_MODE = 0o700
"""Owner only: the data folder holds the database and recovery files."""


def _reason(exc: OSError) -> str:
    """One line a user understands for an operating-system error."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the folder is read-only"
    if exc.errno == errno.ENOENT:
        return "the folder does not exist"
    if exc.errno == errno.EDQUOT:
        return "the disk quota is exceeded"
    return exc.strerror or str(exc)


def private_folder(path: str | Path) -> Path:
    """Create `path` (and its parents) if missing, owner-only on POSIX; return it."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=PRIVATE_FOLDER_MODE)
        if os.name == "posix":
            os.chmod(folder, PRIVATE_FOLDER_MODE)
    except OSError as exc:
        raise OutputFileError(folder, _reason(exc)) from exc
    return folder


def output_text(
    path: str | Path, *, encoding: str = "utf-8", newline: str | None = None
) -> contextlib.AbstractContextManager[IO[str]]:
    """Open `path` for writing text, atomically and privately; `-` is standard output.

    Raises `OutputFileError` (one clear line) when the file cannot be written; the target is then left
    as it was.
    """
    if str(path) == STANDARD_OUTPUT:
        return _standard_text()
    return _atomic_text(Path(path), encoding=encoding, newline=newline)


def output_binary(path: str | Path) -> contextlib.AbstractContextManager[IO[bytes]]:
    """Open `path` for writing bytes, atomically and privately; `-` is standard output."""
    if str(path) == STANDARD_OUTPUT:
        return _standard_binary()
    return _atomic_binary(Path(path))


@contextlib.contextmanager
def _standard_text() -> Iterator[IO[str]]:
    yield sys.stdout
    sys.stdout.flush()


@contextlib.contextmanager
def _standard_binary() -> Iterator[IO[bytes]]:
    yield sys.stdout.buffer
    sys.stdout.buffer.flush()


@contextlib.contextmanager
def _atomic_text(target: Path, *, encoding: str, newline: str | None) -> Iterator[IO[str]]:
    with _atomic_binary(target) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline=newline)
        yield text
        text.flush()
        text.detach()  # the binary stream is closed (after fsync) by `_atomic_binary`


@contextlib.contextmanager
def _atomic_binary(target: Path) -> Iterator[IO[bytes]]:
    folder = target.parent if str(target.parent) else Path(".")
    try:
        handle, temporary_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    except OSError as exc:
        raise OutputFileError(target, _reason(exc)) from exc
    temporary = Path(temporary_name)
    try:
        if os.name == "posix":
            os.fchmod(handle, PRIVATE_FILE_MODE)
        with os.fdopen(handle, "wb") as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise OutputFileError(target, _reason(exc)) from exc
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_bytes(path: str | Path, data: bytes) -> None:
    """Write `data` to `path` atomically and privately (`-`: standard output)."""
    with output_binary(path) as stream:
        stream.write(data)


def write_text(path: str | Path, text: str, *, newline: str | None = None) -> None:
    """Write `text` to `path` atomically and privately (`-`: standard output)."""
    with output_text(path, newline=newline) as stream:
        stream.write(text)
