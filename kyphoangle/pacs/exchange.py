"""What the data manager does with a configured PACS node: test it, search it, retrieve films into the
regular import, receive films, and send the signed reads' reports back.

Retrieved films land in a new folder under the data folder (`pacs/<node>/<study UID>`, then `-2`,
`-3`... when retrieved again; the study database refers to them, like any imported film) and go
through the regular import, with its checks and its report. A retrieve that did not bring every film
raises `PacsError`, its folder is removed and nothing is imported.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydicom import Dataset
from sqlalchemy.orm import Session

from kyphoangle.folders import data_folder
from kyphoangle.importer import ImportSummary, import_radiographs
from kyphoangle.pacs import dicomweb, dimse
from kyphoangle.pacs.dimse import PacsError, QueryLevel, QueryMatch
from kyphoangle.sr.archive import iter_report_datasets
from kyphoangle.storage import Database
from kyphoangle.storage.models import PacsNode, User
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.vocabulary import PacsProtocol

PACS_FOLDER = "pacs"


@dataclass(frozen=True, slots=True)
class Retrieved:
    """Films retrieved from a node and what the import made of them."""

    folder: Path
    files: int
    summary: ImportSummary


def dicom_peer(node: PacsNode, *, timeout_s: float = dimse.DEFAULT_TIMEOUT_S) -> dimse.DicomPeer:
    """The DIMSE peer of a node; PacsError for a DICOMweb node."""
    if node.protocol != PacsProtocol.DIMSE or node.ae_title is None or node.host is None or node.port is None:
        raise PacsError(f"{node.name} is a DICOMweb node: use search and retrieve over DICOMweb")
    return dimse.DicomPeer(node.name, node.ae_title, node.host, node.port, timeout_s=timeout_s)


def web_peer(node: PacsNode, *, timeout_s: float = dicomweb.DEFAULT_TIMEOUT_S) -> dicomweb.WebPeer:
    """The DICOMweb peer of a node; PacsError for a DIMSE node."""
    if node.protocol != PacsProtocol.DICOMWEB or node.url is None:
        raise PacsError(f"{node.name} is a DICOM (DIMSE) node, not a DICOMweb one")
    return dicomweb.WebPeer(node.name, node.url, node.username, timeout_s=timeout_s)


def check_node(node: PacsNode) -> None:
    """C-ECHO a DIMSE node; a study search limited to nothing for a DICOMweb node."""
    if node.protocol == PacsProtocol.DIMSE:
        dimse.echo(dicom_peer(node))
    else:
        dicomweb.search_studies(web_peer(node), StudyInstanceUID="1.2.3.4.5.6.7.8.9")


def search(node: PacsNode, level: QueryLevel | str = QueryLevel.STUDY, **filters: str) -> list[QueryMatch]:
    """Studies (or patients, series) matching the filters (DICOM keywords)."""
    level = QueryLevel(level)
    if node.protocol == PacsProtocol.DIMSE:
        return dimse.find(dicom_peer(node), level, **filters)
    if level is QueryLevel.SERIES:
        return dicomweb.search_series(web_peer(node), filters.get("StudyInstanceUID", ""))
    return dicomweb.search_studies(web_peer(node), **filters)


def _study_folder(node: PacsNode, study_uid: str, root: Path | None) -> Path:
    """A folder that does not exist yet: a film imported earlier keeps its file (the database names it)."""
    base = root or data_folder() / PACS_FOLDER
    folder = base / node.name / study_uid
    number = 1
    while folder.exists():
        number += 1
        folder = base / node.name / f"{study_uid}-{number}"
    return folder


def retrieve(
    database: Database,
    node: PacsNode,
    *,
    study_uid: str | Sequence[str],
    actor: User,
    series_uid: str | None = None,
    root: Path | None = None,
    move_to: tuple[str, int] | None = None,
) -> Retrieved:
    """Retrieve a study or several (C-GET over one association, or C-MOVE to our Storage SCP at
    `move_to` = (AE title, port); WADO-RS for a DICOMweb node) and import them in one import; PacsError
    (nothing imported) when anything is missing. Several studies share the first one's folder."""
    require_permission(actor, Permission.IMPORT_IMAGES)
    studies = [study_uid] if isinstance(study_uid, str) else list(study_uid)
    if not studies:
        raise PacsError("no study to retrieve")
    folder = _study_folder(node, studies[0], root)
    try:
        files = _fetch(node, folder, studies, series_uid, move_to)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    summary = import_radiographs(database, folder, actor=actor)
    return Retrieved(folder, len(files), summary)


def _fetch(
    node: PacsNode, folder: Path, studies: list[str], series_uid: str | None, move_to: tuple[str, int] | None
) -> list[Path]:
    if node.protocol == PacsProtocol.DICOMWEB:
        files = []
        for study in studies:
            found = dicomweb.retrieve_study(web_peer(node), folder, study)
            if not found:
                raise PacsError(f"{node.name} holds no film of study {study}")
            files += found
        return files
    peer = dicom_peer(node)
    if move_to is None:
        result = dimse.get(peer, folder, study_uid=studies, series_uid=series_uid)
        return list(dimse.retrieve_complete(result, peer).files)
    ae_title, port = move_to
    server = dimse.StorageServer(folder, ae_title=ae_title, port=port)
    totals, status = [0, 0, 0], 0x0000
    try:
        for study in studies:
            moved = dimse.move(peer, ae_title, study_uid=study, series_uid=series_uid)
            totals = [totals[0] + moved[0], totals[1] + moved[1], totals[2] + moved[2]]
            status = moved[3] if moved[3] != 0x0000 else status
    finally:
        server.stop()
    result = dimse.RetrieveResult(folder, tuple(server.files), totals[0], totals[1], totals[2], status)
    return list(dimse.retrieve_complete(result, peer).files)


def send_reports(
    session: Session, node: PacsNode, *, actor: User, read_ids: Sequence[int] | None = None, gsps: bool = True
) -> int:
    """Send the SR (and GSPS) of the selected signed reads (default: all) to the node; how many objects."""
    datasets: list[Dataset] = []
    for _, report, state in iter_report_datasets(session, actor=actor, read_ids=read_ids, gsps=gsps):
        datasets.append(report)
        if state is not None:
            datasets.append(state)
    if not datasets:
        return 0
    if node.protocol == PacsProtocol.DIMSE:
        return dimse.store(dicom_peer(node), datasets)
    return dicomweb.store(web_peer(node), datasets)


class Listener:
    """`kyphoangle pacs listen`: a Storage SCP importing every film it receives, one at a time."""

    def __init__(
        self,
        database: Database,
        *,
        actor: User,
        folder: Path,
        ae_title: str = dimse.OUR_AE_TITLE,
        host: str = "127.0.0.1",
        port: int = 11112,
        report: Callable[[Path, ImportSummary], None] | None = None,
    ) -> None:
        require_permission(actor, Permission.IMPORT_IMAGES)
        self._database, self._actor, self._report = database, actor, report
        self._lock = threading.Lock()
        self.summaries: list[ImportSummary] = []
        self.server = dimse.StorageServer(
            folder, ae_title=ae_title, host=host, port=port, on_received=self._import
        )

    def _import(self, path: Path) -> None:
        with self._lock:
            summary = import_radiographs(self._database, path, actor=self._actor)
            self.summaries.append(summary)
        if self._report is not None:
            self._report(path, summary)

    def stop(self) -> None:
        """Stop receiving."""
        self.server.stop()
