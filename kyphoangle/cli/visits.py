"""`kyphoangle visits list|assign`: the visit schedule, and assigning a film's visit by hand."""

from __future__ import annotations

import argparse

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, print_table, signed_in
from kyphoangle.workstation.visits import assign_visit, list_visits


def register(subparsers: SubParsers) -> None:
    """Add the `visits` command group."""
    group = add_group(subparsers, "visits", "the visit schedule and visit assignment")
    listing = add_command(group, "list", "show the visit windows (days from the procedure, D0)")
    listing.set_defaults(run=run_list)
    assign = add_command(
        group,
        "assign",
        "set a film's visit by hand (data managers and admins)",
        "A visit set by hand is kept when the procedure date changes.",
    )
    assign.add_argument("sop_instance_uid")
    assign.add_argument("visit", help="visit code (see `kyphoangle visits list`) or 'unscheduled'")
    assign.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    assign.set_defaults(run=run_assign)


def run_list(args: argparse.Namespace) -> int:
    """Print the schedule."""
    actor, _ = signed_in(args)
    try:
        windows = list_visits(actor)
    finally:
        actor.close()
    print_table(
        ("visit", "label", "target_day", "from_day", "to_day", "baseline"),
        ((v.code, v.label, v.target_day, v.min_day, v.max_day, "yes" if v.baseline else "") for v in windows),
    )
    return 0


def run_assign(args: argparse.Namespace) -> int:
    """Assign the visit."""
    actor, _ = signed_in(args)
    try:
        label = assign_visit(actor, args.sop_instance_uid, args.visit, args.reason)
    finally:
        actor.close()
    print(f"{args.sop_instance_uid}: {label}")
    return 0
