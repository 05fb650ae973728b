"""`kyphoangle campaign ...`: blinded central reading campaigns from the command line.

- `create NAME --readers R1,R2[,R3...] --adjudicator A` (data managers, admins): two to six central
  readers, who become reader 1, reader 2, ... in the order listed (reader 1's read is final when a case
  needs no adjudication; a case is adjudicated when any two readers meet the rule); films of all
  subjects, or of `--subjects`, `--visits` and `--sites`; the adjudication rule (`--measurement`,
  `--threshold-deg`), repeats (`--repeat-fraction`, `--min-gap` cases, `--min-gap-days`) and `--seed`
  (generated and recorded when not given).
- `worklist NAME`: a reader's own worklist, case codes and done/remaining only; the adjudicator's
  cases awaiting adjudication.
- `next NAME`: the reader's next case (case code, film, fractured levels); `read NAME FILE.json
  [--sign]` saves (and signs, with your password) your landmarks for it.
- `adjudicate NAME CASE --read READ_ID --reason TEXT` selects the final read of a case.
- `status NAME`: the campaign's state and readers, per reader (slot order) done/remaining, cases
  awaiting adjudication and finished; a reader sees only their own line.
- `close NAME [--reason TEXT]` (data managers, admins): close the campaign, audited with the number of
  unfinished cases; nothing can be read or adjudicated in it afterwards.
- `export NAME OUT.csv [--key KEY.csv]` (data managers, admins): the blinded campaign CSV; the key file
  mapping case codes to subjects and visits only with `--key` (audited).
"""

from __future__ import annotations

import argparse

from kyphoangle.campaign import (
    DEFAULT_MIN_GAP,
    DEFAULT_REPEAT_FRACTION,
    DEFAULT_THRESHOLD_DEG,
    MAX_READERS,
    MIN_READERS,
    AdjudicationRule,
    reader_name,
)
from kyphoangle.cli.db_common import SubParsers, add_command, add_group, print_table, signed_in
from kyphoangle.protocol import MeasurementName
from kyphoangle.text_safety import terminal_safe
from kyphoangle.vocabulary import CampaignRole
from kyphoangle.workstation.campaigns import (
    adjudicate_case,
    campaign_status,
    close_campaign,
    create_campaign,
    export_campaign_csv,
    my_worklist,
    next_case,
    read_case,
)


def _names(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def register(subparsers: SubParsers) -> None:
    """Add the `campaign` command group."""
    group = add_group(subparsers, "campaign", "blinded central reading campaigns")
    create = add_command(group, "create", "create a campaign and its readers' worklists (data managers)")
    create.add_argument("name", metavar="NAME")
    create.add_argument(
        "--readers",
        type=_names,
        required=True,
        metavar="R1,R2[,R3...]",
        help=f"the {MIN_READERS} to {MAX_READERS} central readers, in order (reader 1 first)",
    )
    create.add_argument("--adjudicator", required=True, metavar="LOGIN")
    create.add_argument("--title", default="")
    create.add_argument("--subjects", type=_names, metavar="S001,S002", help="only these subjects' films")
    create.add_argument("--visits", type=_names, metavar="V1,V2", help="only films of these visits")
    create.add_argument("--sites", type=_names, metavar="SITE1,SITE2", help="only these sites' subjects")
    create.add_argument(
        "--measurement",
        action="append",
        choices=[m.value for m in MeasurementName],
        help="a measurement that matters (repeatable); the first decides adjudication "
        "(default regional_angle)",
    )
    create.add_argument("--threshold-deg", type=float, default=DEFAULT_THRESHOLD_DEG)
    create.add_argument(
        "--no-level-rule",
        action="store_true",
        help="do not adjudicate when the readers disagree on the evaluable levels",
    )
    create.add_argument("--repeat-fraction", type=float, default=DEFAULT_REPEAT_FRACTION)
    create.add_argument(
        "--min-gap", type=int, default=DEFAULT_MIN_GAP, help="cases between a read and its repeat"
    )
    create.add_argument("--min-gap-days", type=int, help="days between a read and its repeat")
    create.add_argument("--seed", type=int, help="random seed (default: generated and recorded)")
    create.add_argument(
        "--no-snapping", action="store_true", help="readers place every landmark by hand (no proposals)"
    )
    create.set_defaults(run=run_create)

    listing = add_command(group, "worklist", "your worklist: case codes, done and remaining")
    listing.add_argument("name", metavar="NAME")
    listing.set_defaults(run=run_worklist)

    nxt = add_command(group, "next", "your next case")
    nxt.add_argument("name", metavar="NAME")
    nxt.add_argument(
        "--film",
        metavar="OUT.dcm",
        help="write the case's film there as a blinded copy (no name, identifier, date or description)",
    )
    nxt.set_defaults(run=run_next)

    read = add_command(group, "read", "save your landmarks for your current case")
    read.add_argument("name", metavar="NAME")
    read.add_argument("file", metavar="FILE.json")
    read.add_argument("--sign", action="store_true", help="sign the read (your password)")
    read.set_defaults(run=run_read)

    decide = add_command(group, "adjudicate", "select the final read of a case (adjudicator)")
    decide.add_argument("name", metavar="NAME")
    decide.add_argument("case", metavar="CASE")
    chosen = decide.add_mutually_exclusive_group(required=True)
    chosen.add_argument(
        "--choose",
        choices=[str(role) for role in CampaignRole if role != CampaignRole.ADJUDICATOR],
        help="the reader slot whose first read becomes final (your password is checked)",
    )
    chosen.add_argument("--read", type=int, metavar="READ_ID", help="or a read by id (your own third read)")
    decide.add_argument("--reason", required=True)
    decide.set_defaults(run=run_adjudicate)

    status = add_command(group, "status", "progress of a campaign")
    status.add_argument("name", metavar="NAME")
    status.set_defaults(run=run_status)

    close = add_command(group, "close", "close a campaign: no more reading or adjudication (data managers)")
    close.add_argument("name", metavar="NAME")
    close.add_argument("--reason", default="", help="why the campaign is closed (kept in the audit trail)")
    close.set_defaults(run=run_close)

    export = add_command(group, "export", "write the blinded campaign CSV (data managers)")
    export.add_argument("name", metavar="NAME")
    export.add_argument("out", metavar="OUT.csv")
    export.add_argument("--key", metavar="KEY.csv", help="also write the case code key (audited)")
    export.set_defaults(run=run_export)


def run_create(args: argparse.Namespace) -> int:
    """Create the campaign."""
    measurements = [MeasurementName(m) for m in args.measurement or [MeasurementName.REGIONAL_ANGLE]]
    actor, _ = signed_in(args)
    try:
        created = create_campaign(
            actor,
            args.name,
            readers=args.readers,
            adjudicator=args.adjudicator,
            title=args.title,
            subjects=args.subjects,
            visits=args.visits,
            sites=args.sites,
            measurements=measurements,
            rule=AdjudicationRule(measurements[0], args.threshold_deg, not args.no_level_rule),
            repeat_fraction=args.repeat_fraction,
            min_gap=args.min_gap,
            min_gap_days=args.min_gap_days,
            seed=args.seed,
            snapping=not args.no_snapping,
        )
    finally:
        actor.close()
    print(f"campaign {terminal_safe(created.code)} created (seed {created.seed})")
    return 0


def run_worklist(args: argparse.Namespace) -> int:
    """Print the user's worklist (case codes only)."""
    actor, _ = signed_in(args)
    try:
        adjudicating, rows = my_worklist(actor, args.name)
    finally:
        actor.close()
    if adjudicating:
        print_table(("case_code", "state"), ((row.case_code, "awaiting adjudication") for row in rows))
        return 0
    print_table(
        ("position", "case_code", "done"),
        ((row.position, row.case_code, "yes" if row.done else "") for row in rows),
    )
    done = sum(row.done for row in rows)
    print(f"{done} done, {len(rows) - done} remaining")
    return 0


def run_next(args: argparse.Namespace) -> int:
    """Print the next case (never its file's path: it may name the patient; the UID is the blinded
    copy's); `--film` writes the copy."""
    actor, _ = signed_in(args)
    try:
        case = next_case(actor, args.name, film=args.film)
    finally:
        actor.close()
    if case is None:
        print("nothing left to read")
        return 0
    print_table(
        ("case_code", "position", "sop_instance_uid", "fractured_levels", "draft_read", "film"),
        [
            (
                case.case_code,
                f"{case.position}/{case.total}",
                case.blinded_uid,
                " ".join(case.fractured_levels),
                case.draft_read_id,
                str(case.film) if case.film else "(add --film OUT.dcm for a blinded copy)",
            )
        ],
    )
    return 0


def run_read(args: argparse.Namespace) -> int:
    """Save (and sign) the user's landmarks for their current case."""
    actor, password = signed_in(args)
    try:
        saved = read_case(actor, args.name, args.file, sign_with=password if args.sign else None)
    finally:
        actor.close()
    print(f"read {saved.read_id} ({saved.read_type}, {saved.status}) saved")
    return 0


def run_adjudicate(args: argparse.Namespace) -> int:
    """Record the adjudicator's decision."""
    actor, password = signed_in(args)
    try:
        decision = adjudicate_case(
            actor,
            args.name,
            args.case,
            reason=args.reason,
            password=password,
            choose=CampaignRole(args.choose) if args.choose is not None else None,
            read_id=args.read,
        )
    finally:
        actor.close()
    if decision.chosen is not None:
        print(
            f"case {terminal_safe(args.case)}: {reader_name(decision.chosen)}'s read "
            f"(read {decision.read_id}) is final"
        )
    else:
        print(f"case {terminal_safe(args.case)}: read {decision.read_id} is final")
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print the campaign's progress."""
    actor, _ = signed_in(args)
    try:
        progress = campaign_status(actor, args.name)
    finally:
        actor.close()
    print_table(
        ("reader", "role", "done", "remaining"),
        ((r.login, r.role, r.done, r.remaining) for r in progress.readers),
    )
    print(f"campaign {terminal_safe(progress.code)} is {progress.status}, {len(progress.readers)} readers")
    print(
        f"{progress.cases} cases: {progress.reading} being read, "
        f"{progress.awaiting_adjudication} awaiting adjudication, {progress.finished} finished "
        f"({progress.adjudicated} adjudicated)"
    )
    return 0


def run_close(args: argparse.Namespace) -> int:
    """Close the campaign."""
    actor, _ = signed_in(args)
    try:
        progress = close_campaign(actor, args.name, reason=args.reason)
    finally:
        actor.close()
    left = progress.cases - progress.finished
    print(f"campaign {terminal_safe(progress.code)} closed ({left} of {progress.cases} cases unfinished)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the campaign CSV (and the key)."""
    actor, _ = signed_in(args)
    try:
        summary = export_campaign_csv(actor, args.name, args.out, key=args.key)
    finally:
        actor.close()
    print(f"{summary.rows} rows from {summary.reads} reads written to {summary.path}")
    if summary.key_path is not None:
        print(f"case code key written to {summary.key_path} (recorded in the audit trail)")
    return 0
