"""`kyphoangle pacs ...`: PACS nodes (DICOM and DICOMweb), query, retrieve into the import, send reports.

- `pacs nodes` lists the configured nodes; `pacs add NAME` (admins) adds or changes one: a DICOM node
  with `--ae-title --host --port`, a DICOMweb node with `--url` (and `--username` for basic
  authentication; the password from KYPHOANGLE_PACS_PASSWORD, a token from KYPHOANGLE_PACS_TOKEN);
  `pacs remove NAME` (admins) removes one.
- `pacs echo NAME` tests a node (C-ECHO, or a QIDO-RS search).
- `pacs find NAME` searches studies (or `--level patient|series|image`) by patient ID, name, date and
  modality.
- `pacs retrieve NAME STUDY_UID` brings a study's films (C-GET; `--move-to AE:PORT` for C-MOVE to
  kyphoangle's own receiver; WADO-RS for DICOMweb) into the regular import; an incomplete retrieve
  imports nothing.
- `pacs send NAME` sends the signed reads' SR and GSPS (C-STORE or STOW-RS).
- `pacs listen` receives films (Storage SCP) and imports each, until interrupted (or `--seconds`).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, login, open_db, print_table
from kyphoangle.folders import data_folder
from kyphoangle.importer import ImportSummary
from kyphoangle.pacs.dimse import OUR_AE_TITLE, QueryLevel
from kyphoangle.pacs.exchange import PACS_FOLDER, Listener, check_node, retrieve, search, send_reports
from kyphoangle.storage.models import PacsProtocol, User
from kyphoangle.storage.pacs_nodes import NodeSettings, delete_node, get_node, list_nodes, save_node
from kyphoangle.storage.users import Permission, require_permission

FIND_FILTERS = (
    ("--patient-id", "PatientID"),
    ("--patient-name", "PatientName"),
    ("--date", "StudyDate"),
    ("--modality", "ModalitiesInStudy"),
    ("--study-uid", "StudyInstanceUID"),
)


def register(subparsers: SubParsers) -> None:
    """Add the `pacs` command group."""
    group = add_group(subparsers, "pacs", "PACS nodes: query, retrieve into the import, send reports")
    command = add_command(group, "nodes", "list the configured PACS nodes")
    command.set_defaults(run=run_nodes)
    command = add_command(group, "add", "add or change a PACS node (admins)", __doc__)
    command.add_argument("name")
    command.add_argument("--ae-title", help="DICOM node: its AE title")
    command.add_argument("--host", help="DICOM node: host name or address")
    command.add_argument("--port", type=int, help="DICOM node: port")
    command.add_argument("--url", help="DICOMweb node: base URL (QIDO/WADO/STOW root)")
    command.add_argument("--username", help="DICOMweb node: user name for basic authentication")
    command.add_argument("--site", help="the site the node serves (site code)")
    command.set_defaults(run=run_add)
    command = add_command(group, "remove", "remove a PACS node (admins)")
    command.add_argument("name")
    command.set_defaults(run=run_remove)
    command = add_command(group, "echo", "test a PACS node (C-ECHO, or a DICOMweb search)")
    command.add_argument("name")
    command.set_defaults(run=run_echo)
    command = add_command(group, "find", "search a PACS node for studies, patients, series or images")
    command.add_argument("name")
    command.add_argument("--level", choices=[lv.value.lower() for lv in QueryLevel], default="study")
    for option, keyword in FIND_FILTERS:
        command.add_argument(option, dest=keyword, help=f"match on {keyword} (DICOM wildcards * and ?)")
    command.set_defaults(run=run_find)
    command = add_command(group, "retrieve", "retrieve a study's films into the import")
    command.add_argument("name")
    command.add_argument("study_uid", metavar="STUDY_UID")
    command.add_argument("--series-uid", help="only this series")
    command.add_argument("--move-to", metavar="AE:PORT", help="C-MOVE to our receiver at AE:PORT")
    command.add_argument(
        "--folder", type=Path, help=f"where the films are kept (default: data folder/{PACS_FOLDER})"
    )
    command.set_defaults(run=run_retrieve)
    command = add_command(group, "send", "send the signed reads' SR and GSPS to a PACS node")
    command.add_argument("name")
    command.add_argument("--read", type=int, action="append", metavar="READ_ID", help="only this read")
    command.add_argument("--no-gsps", action="store_true", help="structured reports only")
    command.set_defaults(run=run_send)
    command = add_command(group, "listen", "receive films (DICOM Storage SCP) and import them")
    command.add_argument("--ae-title", default=OUR_AE_TITLE)
    command.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0 for all)")
    command.add_argument("--port", type=int, default=11112)
    command.add_argument("--folder", type=Path, help="where received films are kept")
    command.add_argument("--seconds", type=float, help="stop after this many seconds")
    command.set_defaults(run=run_listen)


def run_nodes(args: argparse.Namespace) -> int:
    """List nodes."""
    database = open_db(args)
    try:
        with database.reading() as session:
            login(args, session)
            rows = [
                (
                    n.name,
                    n.protocol,
                    n.ae_title or "",
                    f"{n.host}:{n.port}" if n.host else n.url or "",
                    n.username or "",
                    n.site.code if n.site else "",
                )
                for n in list_nodes(session)
            ]
    finally:
        database.dispose()
    print_table(("name", "protocol", "ae_title", "address", "username", "site"), rows)
    return 0


def run_add(args: argparse.Namespace) -> int:
    """Add or change a node."""
    protocol = PacsProtocol.DICOMWEB if args.url else PacsProtocol.DIMSE
    settings = NodeSettings(
        name=args.name,
        protocol=protocol,
        ae_title=args.ae_title,
        host=args.host,
        port=args.port,
        url=args.url,
        username=args.username,
        site_code=args.site,
    )
    database = open_db(args)
    try:
        with database.transaction() as session:
            user, _ = login(args, session)
            save_node(session, settings, actor=user)
    finally:
        database.dispose()
    print(f"PACS node {args.name} saved")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """Remove a node."""
    database = open_db(args)
    try:
        with database.transaction() as session:
            user, _ = login(args, session)
            delete_node(session, args.name, actor=user)
    finally:
        database.dispose()
    print(f"PACS node {args.name} removed")
    return 0


def run_echo(args: argparse.Namespace) -> int:
    """Test a node."""
    database = open_db(args)
    try:
        with database.reading() as session:
            login(args, session)
            node = get_node(session, args.name)
            check_node(node)
    finally:
        database.dispose()
    print(f"PACS node {args.name} answers")
    return 0


def run_find(args: argparse.Namespace) -> int:
    """Search and print the matches."""
    filters = {keyword: getattr(args, keyword) for _, keyword in FIND_FILTERS if getattr(args, keyword)}
    level = QueryLevel(args.level.upper())
    if level is not QueryLevel.STUDY and "ModalitiesInStudy" in filters:
        filters["Modality"] = filters.pop("ModalitiesInStudy")
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            require_permission(user, Permission.VIEW_IDENTITY)
            matches = search(get_node(session, args.name), level, **filters)
    finally:
        database.dispose()
    keys = sorted({k for m in matches for k in m.attributes} - {"QueryRetrieveLevel", "SpecificCharacterSet"})
    print_table(keys, ([m.get(k) for k in keys] for m in matches))
    return 0


def _move_to(text: str | None) -> tuple[str, int] | None:
    if text is None:
        return None
    ae_title, _, port = text.rpartition(":")
    if not ae_title or not port.isdigit():
        raise SystemExit(f"kyphoangle: --move-to takes AE:PORT, not {text!r}")
    return ae_title, int(port)


def run_retrieve(args: argparse.Namespace) -> int:
    """Retrieve and import; prints the import report."""
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            node = get_node(session, args.name)
            session.expunge(node)
        result = retrieve(
            database,
            node,
            study_uid=args.study_uid,
            actor=user,
            series_uid=args.series_uid,
            root=args.folder,
            move_to=_move_to(args.move_to),
        )
    finally:
        database.dispose()
    print(f"{result.files} films retrieved into {result.folder}")
    for line in result.summary.lines():
        print(line)
    return 4 if result.summary.conflicts or result.summary.unreadable else 0


def run_send(args: argparse.Namespace) -> int:
    """Send reports."""
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            count = send_reports(
                session, get_node(session, args.name), actor=user, read_ids=args.read, gsps=not args.no_gsps
            )
    finally:
        database.dispose()
    print(f"{count} DICOM objects sent to {args.name}")
    return 0


def _received(path: Path, summary: ImportSummary) -> None:
    print(f"{path.name}: " + "; ".join(summary.lines()), flush=True)


def run_listen(args: argparse.Namespace) -> int:
    """Receive until interrupted."""
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            session.expunge(user)
        actor: User = user
        folder = args.folder or data_folder() / PACS_FOLDER / "received"
        listener = Listener(
            database,
            actor=actor,
            folder=folder,
            ae_title=args.ae_title,
            host=args.host,
            port=args.port,
            report=_received,
        )
        print(f"listening as {args.ae_title} on {args.host}:{args.port}; films kept in {folder}", flush=True)
        try:
            deadline = time.monotonic() + args.seconds if args.seconds else None
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
        finally:
            listener.stop()
    finally:
        database.dispose()
    print(f"{len(listener.summaries)} films received")
    return 0
