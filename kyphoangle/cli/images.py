"""`kyphoangle images list|position`: the imported films, by subject and visit (no identity, no dates)."""

from __future__ import annotations

import argparse

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, login, open_db, print_table
from kyphoangle.storage.images import get_image, list_images, set_patient_position
from kyphoangle.vocabulary import PatientPosition


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
    database = open_db(args)
    try:
        with database.reading() as session:
            login(args, session)
            headers = [
                "sop_instance_uid",
                "subject",
                "visit",
                "assigned",
                "day",
                "position",
                "spacing",
                "reads",
            ]
            if args.paths:
                headers.append("path")
            rows = []
            for i in list_images(session, subject_code=args.subject, visit_code=args.visit):
                row: list[object] = [
                    i.sop_instance_uid,
                    i.subject,
                    i.visit,
                    i.visit_assignment,
                    i.study_day,
                    i.patient_position,
                    i.spacing_source,
                    i.read_count,
                ]
                if args.paths:
                    row.append(i.file_path)
                rows.append(row)
            print_table(headers, rows)
    finally:
        database.dispose()
    return 0


def run_position(args: argparse.Namespace) -> int:
    """Set the patient position."""
    database = open_db(args)
    try:
        with database.transaction() as session:
            user, _ = login(args, session)
            image = get_image(session, args.sop_instance_uid)
            set_patient_position(session, image, args.position, actor=user, reason=args.reason)
            print(f"{image.sop_instance_uid}: {image.patient_position}")
    finally:
        database.dispose()
    return 0
