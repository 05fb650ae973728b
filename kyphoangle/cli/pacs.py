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

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, print_table, signed_in
from kyphoangle.importer import ImportSummary
from kyphoangle.workstation.pacs import (
    OUR_AE_TITLE,
    PACS_FOLDER,
    QueryLevel,
    echo_node,
    find_on_node,
    list_pacs_nodes,
    receive_films,
    received_folder,
    remove_pacs_node,
    retrieve_study,
    save_pacs_node,
    send_reports_to_node,
)

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
    actor, _ = signed_in(args)
    try:
        nodes = list_pacs_nodes(actor)
    finally:
        actor.close()
    rows = [(n.name, n.protocol, n.ae_title, n.address, n.username, n.site) for n in nodes]
    print_table(("name", "protocol", "ae_title", "address", "username", "site"), rows)
    return 0


def run_add(args: argparse.Namespace) -> int:
    """Add or change a node."""
    actor, _ = signed_in(args)
    try:
        save_pacs_node(
            actor,
            args.name,
            ae_title=args.ae_title,
            host=args.host,
            port=args.port,
            url=args.url,
            username=args.username,
            site=args.site,
        )
    finally:
        actor.close()
    print(f"PACS node {args.name} saved")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    """Remove a node."""
    actor, _ = signed_in(args)
    try:
        remove_pacs_node(actor, args.name)
    finally:
        actor.close()
    print(f"PACS node {args.name} removed")
    return 0


def run_echo(args: argparse.Namespace) -> int:
    """Test a node."""
    actor, _ = signed_in(args)
    try:
        echo_node(actor, args.name)
    finally:
        actor.close()
    print(f"PACS node {args.name} answers")
    return 0


def run_find(args: argparse.Namespace) -> int:
    """Search and print the matches."""
    filters = {keyword: getattr(args, keyword) for _, keyword in FIND_FILTERS if getattr(args, keyword)}
    level = QueryLevel(args.level.upper())
    if level is not QueryLevel.STUDY and "ModalitiesInStudy" in filters:
        filters["Modality"] = filters.pop("ModalitiesInStudy")
    actor, _ = signed_in(args)
    try:
        matches = find_on_node(actor, args.name, level, **filters)
    finally:
        actor.close()
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
    move_to = _move_to(args.move_to)
    actor, _ = signed_in(args)
    try:
        result = retrieve_study(
            actor,
            args.name,
            args.study_uid,
            series_uid=args.series_uid,
            folder=args.folder,
            move_to=move_to,
        )
    finally:
        actor.close()
    print(f"{result.files} films retrieved into {result.folder}")
    for line in result.summary.lines():
        print(line)
    return 4 if result.summary.conflicts or result.summary.unreadable else 0


def run_send(args: argparse.Namespace) -> int:
    """Send reports."""
    actor, _ = signed_in(args)
    try:
        count = send_reports_to_node(actor, args.name, read_ids=args.read, gsps=not args.no_gsps)
    finally:
        actor.close()
    print(f"{count} DICOM objects sent to {args.name}")
    return 0


def _received(path: Path, summary: ImportSummary) -> None:
    print(f"{path.name}: " + "; ".join(summary.lines()), flush=True)


def run_listen(args: argparse.Namespace) -> int:
    """Receive until interrupted."""
    actor, _ = signed_in(args)
    try:
        folder = args.folder or received_folder()
        listener = receive_films(
            actor, folder=folder, ae_title=args.ae_title, host=args.host, port=args.port, report=_received
        )
        print(f"listening as {args.ae_title} on {args.host}:{args.port}; films kept in {folder}", flush=True)
        try:
            deadline = time.monotonic() + args.seconds if args.seconds is not None else None
            while deadline is None or time.monotonic() < deadline:
                time.sleep(0.2)
        except KeyboardInterrupt:
            print("stopped", file=sys.stderr)
        finally:
            listener.stop()
    finally:
        actor.close()
    print(f"{len(listener.summaries)} films received")
    return 0
