"""`kyphoangle audit verify|anchor|list`: check the trail and the records; keep its head outside; show it.

`verify` checks, and names the first record that differs: the hash chain of the events; every row of
every table against the digest the trail recorded when kyphoangle last wrote it; every signature
against the content of its read. `anchor` prints the head of the trail (`SEQUENCE:HASH`) to be kept
outside the database, in the trial master file; `verify --anchor SEQUENCE:HASH` then also catches
newest events deleted together with the stored head.
"""

from __future__ import annotations

import argparse
import json

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, open_db, print_table, signed_in
from kyphoangle.exit_status import ExitStatus
from kyphoangle.text_safety import terminal_safe
from kyphoangle.workstation.audit_trail import (
    Anchor,
    AuditEntity,
    list_audit_events,
    verify_audit_trail,
    verify_records,
)

EXIT_DAMAGED = ExitStatus.INTERNAL_ERROR
"""Exit status of `verify` when the trail or a record differs."""


def register(subparsers: SubParsers) -> None:
    """Add the `audit` command group."""
    group = add_group(subparsers, "audit", "the audit trail")
    verify = add_command(
        group,
        "verify",
        "check the audit chain, every table row and every signature (exit 1 naming the first that differs)",
        "Needs no login. Checks the hash chain of the audit events, every row of every table against "
        "the digest recorded when kyphoangle last wrote it, and every signature against the content of "
        "its read. Give the anchor kept in the trial master file (kyphoangle audit anchor) to catch "
        "newest events deleted together with the stored head.",
    )
    verify.add_argument("--anchor", metavar="SEQUENCE:HASH", help="the anchor printed by 'audit anchor'")
    verify.set_defaults(run=run_verify)
    anchor = add_command(
        group,
        "anchor",
        "print the head of the audit trail (SEQUENCE:HASH) to keep in the trial master file",
        "Checks the chain first; prints nothing but the anchor line on success.",
    )
    anchor.set_defaults(run=run_anchor)
    listing = add_command(group, "list", "show audit events (data managers and admins)")
    listing.add_argument("--entity", choices=[e.value for e in AuditEntity])
    listing.add_argument("--id", dest="entity_id", help="only this entity id (with --entity)")
    listing.add_argument("--last", type=int, metavar="N", help="only the last N events")
    listing.set_defaults(run=run_list)


def run_verify(args: argparse.Namespace) -> int:
    """Verify the chain, the rows and the signatures."""
    anchor = Anchor.parse(args.anchor) if args.anchor else None
    database = open_db(args)
    try:
        result = verify_records(database, anchor=anchor)
    finally:
        database.dispose()
    if result.intact:
        print(
            f"audit trail intact: {result.events_checked} events, {result.rows_checked} table rows, "
            f"{result.signatures_checked} signatures; anchor {result.anchor}"
        )
        return 0
    where = f" at event {result.first_bad_sequence}" if result.first_bad_sequence is not None else ""
    print(f"audit trail DAMAGED{where}: {terminal_safe(result.problem or '')}")
    return EXIT_DAMAGED


def run_anchor(args: argparse.Namespace) -> int:
    """Print the head of the chain once the chain is verified."""
    database = open_db(args)
    try:
        result = verify_audit_trail(database)
    finally:
        database.dispose()
    if not result.intact:
        problem = terminal_safe(result.problem or "")
        print(f"audit trail DAMAGED at event {result.first_bad_sequence}: {problem}")
        return EXIT_DAMAGED
    print(result.anchor)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the events."""
    actor, _ = signed_in(args)
    try:
        events = list_audit_events(actor, entity=args.entity, entity_id=args.entity_id, last=args.last)
    finally:
        actor.close()
    if args.json:
        for event in events:
            print(json.dumps(event.as_dict(), sort_keys=True, ensure_ascii=True))
        return 0

    def values(value: object) -> str:
        return "" if value is None else terminal_safe(json.dumps(value, sort_keys=True, ensure_ascii=False))

    print_table(
        ("seq", "when_utc", "who", "entity", "id", "action", "old", "new", "reason"),
        (
            (
                e.sequence,
                e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                terminal_safe(e.actor_login),
                e.entity,
                terminal_safe(e.entity_id),
                e.action,
                values(e.old_values),
                values(e.new_values),
                terminal_safe(e.reason) if e.reason else e.reason,
            )
            for e in events
        ),
    )
    return 0
