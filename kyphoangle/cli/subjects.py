"""`kyphoangle subjects list|set`: subjects by study code; D0, treated levels, site, diagnosis."""

from __future__ import annotations

import argparse
import datetime as dt

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, print_table, signed_in
from kyphoangle.vocabulary import Diagnosis, SubjectStatus
from kyphoangle.workstation.subjects import list_subjects, update_subject


def register(subparsers: SubParsers) -> None:
    """Add the `subjects` command group."""
    group = add_group(subparsers, "subjects", "trial subjects (study codes; identity is kept apart)")
    listing = add_command(group, "list", "list the subjects")
    listing.add_argument(
        "--identity", action="store_true", help="also show patient name and ID (data managers and admins)"
    )
    listing.set_defaults(run=run_list)
    change = add_command(
        group,
        "set",
        "record a subject's procedure date, treated levels, site, diagnosis or status",
        "Setting the procedure date (D0) re-assigns the visits of the subject's films that were not "
        "assigned by hand. Changing a value already recorded needs --reason.",
    )
    change.add_argument("code", help="study code, e.g. S001")
    change.add_argument("--procedure-date", type=_date, help="day of the kyphoplasty (D0), YYYY-MM-DD")
    change.add_argument("--levels", help="treated levels, 1 to 3 from T10 to L5, e.g. T12,L1")
    change.add_argument("--site", help="site code (created when new)")
    change.add_argument("--diagnosis", choices=[d.value for d in Diagnosis])
    change.add_argument("--status", choices=[s.value for s in SubjectStatus])
    change.add_argument("--reason", help="why (required when changing a recorded value)")
    change.set_defaults(run=run_set)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def run_list(args: argparse.Namespace) -> int:
    """Print the subjects."""
    actor, _ = signed_in(args)
    try:
        subjects = list_subjects(actor, identity=args.identity)
    finally:
        actor.close()
    headers = ["subject", "site", "diagnosis", "procedure_date", "levels", "status", "films"]
    if args.identity:
        headers += ["patient_id", "patient_name", "birth_date"]
    rows = []
    for s in subjects:
        row: list[object] = [
            s.code,
            s.site,
            s.diagnosis,
            s.procedure_date,
            ",".join(s.treated_levels),
            s.status,
            s.films,
        ]
        if args.identity:
            row += [s.patient_id, s.patient_name, s.birth_date]
        rows.append(row)
    print_table(headers, rows)
    return 0


def run_set(args: argparse.Namespace) -> int:
    """Update the subject."""
    levels = [level.strip() for level in args.levels.split(",") if level.strip()] if args.levels else None
    actor, _ = signed_in(args)
    try:
        code = update_subject(
            actor,
            args.code,
            reason=args.reason,
            procedure_date=args.procedure_date,
            treated_levels=levels,
            site=args.site,
            diagnosis=args.diagnosis,
            status=args.status,
        )
    finally:
        actor.close()
    print(f"subject {code} updated")
    return 0
