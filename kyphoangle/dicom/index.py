"""Finding DICOM files in files, folders and DICOMDIRs, reading each header; bad files never stop a scan."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kyphoangle.dicom.attributes import captured_warnings
from kyphoangle.dicom.radiograph import RadiographHeader
from kyphoangle.dicom.reader import MEDIA_STORAGE_DIRECTORY, read_header
from kyphoangle.errors import NotDicomError, RadiographError

ScanResult = tuple[Path, RadiographHeader | RadiographError]
"""A file found by a scan, with its header or the reason it could not be read."""

_DATASET_STARTS = (b"\x08\x00", b"\x02\x00", b"\x00\x08", b"\x00\x02")
"""First bytes of a DICOM dataset without preamble (group 0002 or 0008, either byte order)."""


def iter_dicom_files(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]], *, report_non_dicom: bool = False
) -> Iterator[ScanResult]:
    """Yield (path, header or error) for every DICOM file in `paths`, in a stable (sorted) order.

    Each path may be a file, a folder (walked recursively, symbolic links to folders not followed) or a
    DICOMDIR, whose referenced files are yielded instead of the DICOMDIR itself. A file met twice is
    yielded once. Files named explicitly always yield a result; files found in folders that do not look
    like DICOM (no "DICM" marker, no dataset start) are skipped unless `report_non_dicom`.
    """
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    seen: set[Path] = set()
    for item in items:
        path = Path(item)
        if path.is_dir():
            yield from _walk(path, seen, report_non_dicom=report_non_dicom)
        else:
            yield from _visit(path, seen, explicit=True, report_non_dicom=report_non_dicom)


def _walk(folder: Path, seen: set[Path], *, report_non_dicom: bool) -> Iterator[ScanResult]:
    for root, folders, files in os.walk(folder, onerror=None):
        folders.sort()
        # A DICOMDIR first, so its files come in its order and the walk then skips them.
        for name in sorted(files, key=lambda name: (name.upper() != "DICOMDIR", name)):
            yield from _visit(Path(root) / name, seen, explicit=False, report_non_dicom=report_non_dicom)


def _visit(path: Path, seen: set[Path], *, explicit: bool, report_non_dicom: bool) -> Iterator[ScanResult]:
    key = _key(path)
    if key in seen:
        return
    seen.add(key)
    if not explicit and not _looks_like_dicom(path):
        if report_non_dicom:
            yield path, NotDicomError(path, "this is not a DICOM file")
        return
    try:
        header = read_header(path)
    except RadiographError as error:
        yield path, error
        return
    if header.sop_class_uid == MEDIA_STORAGE_DIRECTORY:
        yield from _directory(path, seen, report_non_dicom=report_non_dicom)
        return
    yield path, header


def _directory(dicomdir: Path, seen: set[Path], *, report_non_dicom: bool) -> Iterator[ScanResult]:
    """Yield the files a DICOMDIR references, in its order (a folder walk then skips them)."""
    from pydicom import dcmread

    try:
        with captured_warnings([]):
            records = dcmread(dicomdir).DirectoryRecordSequence
            referenced = [_referenced_path(dicomdir.parent, record) for record in records]
    except Exception as exc:
        reason = " ".join(str(exc).split())[:120] or exc.__class__.__name__
        yield dicomdir, NotDicomError(dicomdir, f"this DICOMDIR (disc index) is damaged ({reason})")
        return
    for path in referenced:
        if path is None:
            continue
        if not path.exists():
            if _key(path) not in seen:
                seen.add(_key(path))
                yield path, RadiographError(path, f"listed in {dicomdir} but missing from the disc")
            continue
        yield from _visit(path, seen, explicit=True, report_non_dicom=report_non_dicom)


def _referenced_path(root: Path, record: Any) -> Path | None:
    """The file a directory record points to, matching case-insensitively (discs are often mounted
    with lower-case names while the DICOMDIR holds upper-case IDs)."""
    file_id = record.get("ReferencedFileID")
    if not file_id:
        return None
    parts = [file_id] if isinstance(file_id, str) else [str(part) for part in file_id]
    path = root
    for part in parts:
        exact = path / part
        if not exact.exists() and path.is_dir():
            exact = next((child for child in path.iterdir() if child.name.upper() == part.upper()), exact)
        path = exact
    return path


def _key(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _looks_like_dicom(path: Path) -> bool:
    try:
        with open(path, "rb") as file:
            start = file.read(132)
    except OSError:
        return True  # let read_header report why it cannot be read
    return start[128:132] == b"DICM" or start[:2] in _DATASET_STARTS
