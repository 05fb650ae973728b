"""`kyphoangle images list|position`: the imported films, by subject and visit (no identity, no dates)."""

from __future__ import annotations

import argparse

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, print_table, signed_in
from kyphoangle.vocabulary import PatientPosition
from kyphoangle.workstation.films import list_films, set_position


def register(subparsers: SubParsers) -> None:
    """Add the `images` command group."""
    group = add_group(subparsers, "images", "imported films")
    listing = add_command(group, "list", "list films (visit and study day relative to D0)")
    listing.add_argument("--subject", help="study code")
    listing.add_argument("--visit", help="visit code, 'unscheduled' or 'pending'")
    listing.add_argument("--paths", action="store_true", help="also show the file paths")
    listing.set_defaults(run=run_list)
    position = add_command(group, "position", "record how the patient stood on a film")
    position.add_argument("sop_instance_uid")
    position.add_argument("position", choices=[p.value for p in PatientPosition])
    position.add_argument("--reason", required=True)
    position.set_defaults(run=run_position)


def run_list(args: argparse.Namespace) -> int:
    """Print the films."""
    actor, _ = signed_in(args)
    try:
        films = list_films(actor, subject=args.subject, visit=args.visit, paths=args.paths)
    finally:
        actor.close()
    headers = ["sop_instance_uid", "subject", "visit", "assigned", "day", "position", "spacing", "reads"]
    if args.paths:
        headers.append("path")
    rows = []
    for f in films:
        row: list[object] = [
            f.sop_instance_uid,
            f.subject,
            f.visit,
            f.visit_assignment,
            f.study_day,
            f.patient_position,
            f.spacing_source,
            f.reads,
        ]
        if args.paths:
            row.append(f.path)
        rows.append(row)
    print_table(headers, rows)
    return 0


def run_position(args: argparse.Namespace) -> int:
    """Set the patient position."""
    actor, _ = signed_in(args)
    try:
        position = set_position(actor, args.sop_instance_uid, args.position, args.reason)
    finally:
        actor.close()
    print(f"{args.sop_instance_uid}: {position}")
    return 0
