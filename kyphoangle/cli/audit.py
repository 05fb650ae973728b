"""`kyphoangle audit verify|list`: check the hash chain of the audit trail; show its events."""

from __future__ import annotations

import argparse
import json

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, open_db, print_table, signed_in
from kyphoangle.workstation.audit_trail import AuditEntity, list_audit_events, verify_audit_trail

EXIT_DAMAGED = 1


def register(subparsers: SubParsers) -> None:
    """Add the `audit` command group."""
    group = add_group(subparsers, "audit", "the audit trail")
    verify = add_command(
        group,
        "verify",
        "check that no audit event was edited, deleted or inserted (exit 1 naming the first bad event)",
        "Needs no login. Prints the head hash: write it down outside the database (e.g. in the trial "
        "master file) to detect a wholesale rewrite later.",
    )
    verify.set_defaults(run=run_verify)
    listing = add_command(group, "list", "show audit events (data managers and admins)")
    listing.add_argument("--entity", choices=[e.value for e in AuditEntity])
    listing.add_argument("--id", dest="entity_id", help="only this entity id (with --entity)")
    listing.add_argument("--last", type=int, metavar="N", help="only the last N events")
    listing.set_defaults(run=run_list)


def run_verify(args: argparse.Namespace) -> int:
    """Verify the chain."""
    database = open_db(args)
    try:
        result = verify_audit_trail(database)
    finally:
        database.dispose()
    if result.intact:
        print(f"audit trail intact: {result.events_checked} events; head hash {result.head_hash}")
        return 0
    print(f"audit trail DAMAGED at event {result.first_bad_sequence}: {result.problem}")
    return EXIT_DAMAGED


def run_list(args: argparse.Namespace) -> int:
    """Print the events."""
    actor, _ = signed_in(args)
    try:
        events = list_audit_events(actor, entity=args.entity, entity_id=args.entity_id, last=args.last)
    finally:
        actor.close()
    if args.json:
        for event in events:
            print(json.dumps(event.as_dict(), sort_keys=True, ensure_ascii=False))
        return 0

    def values(value: object) -> str:
        return "" if value is None else json.dumps(value, sort_keys=True, ensure_ascii=False)

    print_table(
        ("seq", "when_utc", "who", "entity", "id", "action", "old", "new", "reason"),
        (
            (
                e.sequence,
                e.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                e.actor_login,
                e.entity,
                e.entity_id,
                e.action,
                values(e.old_values),
                values(e.new_values),
                e.reason,
            )
            for e in events
        ),
    )
    return 0
