"""The PACS nodes of the study and what is done with them: test, search, retrieve into the import, receive
films, send the signed reads' reports.

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
from kyphoangle.pacs.dimse import OUR_AE_TITLE, QueryLevel, QueryMatch
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
    "Retrieved",
    "echo_node",
    "find_on_node",
    "list_pacs_nodes",
    "receive_films",
    "received_folder",
    "remove_pacs_node",
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
