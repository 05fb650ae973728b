"""The PACS nodes of the study and what is done with them: test, search, retrieve into the import, receive
films, send the signed reads' reports.

`retrieve_studies` retrieves several studies one after the other, each imported as soon as it has
arrived whole, with a progress callback and a cancel check between studies (what the workstation's
query and retrieve dialog runs): a cancelled or failed run keeps the studies imported before it.

Admins configure the nodes (`Action.MANAGE_PACS_NODES`); data managers and admins list them, query them
(a query shows patient identity), retrieve and receive films (which go through the regular import) and
send reports. Passwords and tokens are never stored: they come from the environment when a node is used.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kyphoangle.folders import data_folder
from kyphoangle.importer import ImportSummary
from kyphoangle.pacs.dimse import OUR_AE_TITLE, PacsError, QueryLevel, QueryMatch
from kyphoangle.pacs.exchange import (
    PACS_FOLDER,
    Listener,
    Retrieved,
    check_node,
    retrieve,
    search,
    send_reports,
)
from kyphoangle.storage.pacs_nodes import NodeSettings, delete_node, get_node, list_nodes, save_node
from kyphoangle.vocabulary import PacsProtocol
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import SignedIn

__all__ = [
    "OUR_AE_TITLE",
    "PACS_FOLDER",
    "Listener",
    "PacsNodeRow",
    "QueryLevel",
    "QueryMatch",
    "RetrieveProgress",
    "Retrieved",
    "StudiesRetrieved",
    "StudyRetrieved",
    "echo_node",
    "find_on_node",
    "list_pacs_nodes",
    "receive_films",
    "received_folder",
    "remove_pacs_node",
    "retrieve_studies",
    "retrieve_study",
    "save_pacs_node",
    "send_reports_to_node",
]


@dataclass(frozen=True, slots=True)
class PacsNodeRow:
    """One configured node as listed."""

    name: str
    protocol: PacsProtocol
    ae_title: str
    address: str
    """`host:port` of a DICOM node, the base URL of a DICOMweb node."""
    username: str
    site: str


def list_pacs_nodes(actor: SignedIn) -> list[PacsNodeRow]:
    """Every configured node, by name."""
    actor.check(Action.LIST_PACS_NODES)
    with actor.reading() as (session, _user):
        return [
            PacsNodeRow(
                n.name,
                PacsProtocol(n.protocol),
                n.ae_title or "",
                f"{n.host}:{n.port}" if n.host else n.url or "",
                n.username or "",
                n.site.code if n.site else "",
            )
            for n in list_nodes(session)
        ]


def save_pacs_node(
    actor: SignedIn,
    name: str,
    *,
    ae_title: str | None = None,
    host: str | None = None,
    port: int | None = None,
    url: str | None = None,
    username: str | None = None,
    site: str | None = None,
) -> None:
    """Add a node, or change the one of that name: a DICOMweb node when a URL is given (audited)."""
    actor.check(Action.MANAGE_PACS_NODES)
    settings = NodeSettings(
        name=name,
        protocol=PacsProtocol.DICOMWEB if url else PacsProtocol.DIMSE,
        ae_title=ae_title,
        host=host,
        port=port,
        url=url,
        username=username,
        site_code=site,
    )
    with actor.writing() as (session, user):
        save_node(session, settings, actor=user)


def remove_pacs_node(actor: SignedIn, name: str) -> None:
    """Remove a node (audited)."""
    actor.check(Action.MANAGE_PACS_NODES)
    with actor.writing() as (session, user):
        delete_node(session, name, actor=user)


def echo_node(actor: SignedIn, name: str) -> None:
    """Test a node (C-ECHO, or a DICOMweb search that matches nothing); PacsError when it does not answer."""
    actor.check(Action.QUERY_PACS)
    with actor.reading() as (session, _user):
        check_node(get_node(session, name))


def find_on_node(
    actor: SignedIn, name: str, level: QueryLevel | str = QueryLevel.STUDY, **filters: str
) -> list[QueryMatch]:
    """Studies (or patients, series, images) of the node matching the filters (DICOM keywords)."""
    actor.check(Action.QUERY_PACS)
    actor.check(Action.SHOW_IDENTITY)
    with actor.reading() as (session, _user):
        return search(get_node(session, name), level, **filters)


def retrieve_study(
    actor: SignedIn,
    name: str,
    study_uid: str | Sequence[str],
    *,
    series_uid: str | None = None,
    folder: Path | None = None,
    move_to: tuple[str, int] | None = None,
) -> Retrieved:
    """Bring a study's films (C-GET, C-MOVE to our receiver at `move_to`, or WADO-RS) into a new folder
    and import them; nothing is imported when anything is missing."""
    actor.check(Action.RETRIEVE_FROM_PACS)
    with actor.reading() as (session, user):
        node = get_node(session, name)
        session.expunge(node)
        session.expunge(user)
    return retrieve(
        actor.database,
        node,
        study_uid=study_uid,
        actor=user,
        series_uid=series_uid,
        root=folder,
        move_to=move_to,
    )


@dataclass(frozen=True, slots=True)
class StudyRetrieved:
    """One study of a multi-study retrieve: what arrived and what the import made of it."""

    study_uid: str
    retrieved: Retrieved


@dataclass(frozen=True, slots=True)
class RetrieveProgress:
    """Where a multi-study retrieve stands, reported before each study and once at the end."""

    done: int
    """Studies retrieved and imported so far."""
    total: int
    study_uid: str
    """The study being retrieved now ('' at the end)."""


@dataclass(frozen=True, slots=True)
class StudiesRetrieved:
    """What `retrieve_studies` did: the studies imported, in order, and why it stopped early if it did."""

    requested: tuple[str, ...]
    studies: tuple[StudyRetrieved, ...]
    cancelled: bool = False
    failure: str = ""
    """The message of the retrieve that failed (that study and the following ones were not imported)."""

    @property
    def not_retrieved(self) -> tuple[str, ...]:
        """The requested studies not imported (cancelled, failed, or after a failure)."""
        done = {s.study_uid for s in self.studies}
        return tuple(uid for uid in self.requested if uid not in done)

    @property
    def files(self) -> int:
        """Films that arrived, over the studies imported."""
        return sum(s.retrieved.files for s in self.studies)

    @property
    def summary(self) -> ImportSummary:
        """The imports of every study added together, as one import report."""
        total = ImportSummary()
        for study in self.studies:
            part = study.retrieved.summary
            total.new += part.new
            total.already_known += part.already_known
            total.conflicts += part.conflicts
            total.unreadable += part.unreadable
            total.new_subjects += [code for code in part.new_subjects if code not in total.new_subjects]
            total.burned_in += part.burned_in
        return total

    def lines(self) -> list[str]:
        """The report: studies and films retrieved, why the run stopped early, then the import's lines."""
        lines = [f"studies retrieved: {len(self.studies)} of {len(self.requested)} ({self.files} films)"]
        if self.cancelled:
            lines.append(
                f"the retrieve was cancelled: {len(self.not_retrieved)} studies not retrieved; "
                "the studies retrieved before are imported"
            )
        if self.failure:
            lines.append(f"the retrieve stopped: {self.failure}")
        return lines + self.summary.lines()


def retrieve_studies(
    actor: SignedIn,
    name: str,
    study_uids: Sequence[str],
    *,
    folder: Path | None = None,
    move_to: tuple[str, int] | None = None,
    progress: Callable[[RetrieveProgress], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> StudiesRetrieved:
    """Retrieve and import the studies one by one (each in its own folder, imported whole or not at
    all); `cancel` is asked before each study, and a cancelled run or a failed retrieve (`failure`)
    keeps the studies imported before it."""
    actor.check(Action.RETRIEVE_FROM_PACS)
    requested = tuple(study_uids)
    done: list[StudyRetrieved] = []

    def result(*, cancelled: bool = False, failure: str = "") -> StudiesRetrieved:
        if progress is not None:
            progress(RetrieveProgress(len(done), len(requested), ""))
        return StudiesRetrieved(requested, tuple(done), cancelled, failure)

    for study_uid in requested:
        if cancel is not None and cancel():
            return result(cancelled=True)
        if progress is not None:
            progress(RetrieveProgress(len(done), len(requested), study_uid))
        try:
            retrieved = retrieve_study(actor, name, study_uid, folder=folder, move_to=move_to)
        except PacsError as exc:
            return result(failure=str(exc))
        done.append(StudyRetrieved(study_uid, retrieved))
    return result()


def send_reports_to_node(
    actor: SignedIn, name: str, *, read_ids: Sequence[int] | None = None, gsps: bool = True
) -> int:
    """Send the SR (and GSPS) of the selected signed reads (default: all) to the node; how many objects."""
    actor.check(Action.SEND_TO_PACS)
    with actor.reading() as (session, user):
        return send_reports(session, get_node(session, name), actor=user, read_ids=read_ids, gsps=gsps)


def received_folder() -> Path:
    """Where received films are kept by default."""
    return data_folder() / PACS_FOLDER / "received"


def receive_films(
    actor: SignedIn,
    *,
    folder: Path | None = None,
    ae_title: str = OUR_AE_TITLE,
    host: str = "127.0.0.1",
    port: int = 11112,
    report: Callable[[Path, ImportSummary], None] | None = None,
) -> Listener:
    """Start a Storage SCP importing every film it receives; stop it with `Listener.stop()`."""
    actor.check(Action.RETRIEVE_FROM_PACS)
    with actor.reading() as (session, user):
        session.expunge(user)
    return Listener(
        actor.database,
        actor=user,
        folder=folder or received_folder(),
        ae_title=ae_title,
        host=host,
        port=port,
        report=report,
    )
