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
from pathlib import Path

from kyphoangle.campaign import (
    DEFAULT_MIN_GAP,
    DEFAULT_REPEAT_FRACTION,
    DEFAULT_THRESHOLD_DEG,
    MAX_READERS,
    MIN_READERS,
    AdjudicationRule,
    adjudicate,
    adjudication_worklist,
    campaign_key,
    campaign_progress,
    choose_reader_read,
    close_campaign,
    create_campaign,
    get_campaign,
    members_of,
    next_case,
    reader_name,
    save_case_read,
    sign_case_read,
    worklist,
)
from kyphoangle.campaign_export import export_campaign
from kyphoangle.cli.db_common import SubParsers, add_command, add_group, login, open_db, print_table
from kyphoangle.dicom.blinded_copy import write_blinded_copy
from kyphoangle.errors import RadiographError
from kyphoangle.landmark_file import read_landmark_file
from kyphoangle.protocol import MeasurementName
from kyphoangle.storage.models import CampaignRole
from kyphoangle.storage.reads import get_read
from kyphoangle.storage.users import Permission, get_user, has_permission


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
    database = open_db(args)
    try:
        with database.transaction() as session:
            actor, _ = login(args, session)
            measurements = [MeasurementName(m) for m in args.measurement or [MeasurementName.REGIONAL_ANGLE]]
            campaign = create_campaign(
                session,
                actor=actor,
                code=args.name,
                title=args.title,
                readers=[get_user(session, name) for name in args.readers],
                adjudicator=get_user(session, args.adjudicator),
                subjects=args.subjects,
                visits=args.visits,
                sites=args.sites,
                measurements=measurements,
                rule=AdjudicationRule(measurements[0], args.threshold_deg, not args.no_level_rule),
                repeat_fraction=args.repeat_fraction,
                min_gap=args.min_gap,
                min_gap_days=args.min_gap_days,
                seed=args.seed,
            )
            print(f"campaign {campaign.code} created (seed {campaign.random_seed})")
    finally:
        database.dispose()
    return 0


def run_worklist(args: argparse.Namespace) -> int:
    """Print the user's worklist (case codes only)."""
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            campaign = get_campaign(session, args.name)
            adjudicator = members_of(session, campaign).get(CampaignRole.ADJUDICATOR)
            if adjudicator is not None and adjudicator[1].id == user.id:
                codes = adjudication_worklist(session, campaign, user)
                print_table(("case_code", "state"), ((code, "awaiting adjudication") for code in codes))
                return 0
            entries = worklist(session, campaign, user)
            print_table(
                ("position", "case_code", "done"),
                ((e.position, e.case_code, "yes" if e.done else "") for e in entries),
            )
            done = sum(e.done for e in entries)
            print(f"{done} done, {len(entries) - done} remaining")
    finally:
        database.dispose()
    return 0


def run_next(args: argparse.Namespace) -> int:
    """Print the next case (never its file's path: it may name the patient; the UID is the blinded
    copy's); `--film` writes the copy."""
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            campaign = get_campaign(session, args.name)
            case = next_case(session, campaign, user)
            if case is None:
                print("nothing left to read")
                return 0
            film = ""
            if args.film:
                try:
                    film = str(
                        write_blinded_copy(
                            case.file_path, args.film, case_code=case.case_code, key=campaign_key(campaign)
                        )
                    )
                except RadiographError as exc:
                    if exc.path == str(Path(args.film)):
                        raise
                    # The film's own path may name the patient: the message names the case only.
                    raise RadiographError(
                        None,
                        f"the film of case {case.case_code} cannot be read ({exc.reason}); please tell "
                        "the data manager, quoting the case code",
                    ) from None
            print_table(
                ("case_code", "position", "sop_instance_uid", "fractured_levels", "draft_read", "film"),
                [
                    (
                        case.case_code,
                        f"{case.position}/{case.total}",
                        case.blinded_sop_instance_uid,
                        " ".join(case.fractured_levels),
                        case.read_id,
                        film or "(add --film OUT.dcm for a blinded copy)",
                    )
                ],
            )
    finally:
        database.dispose()
    return 0


def run_read(args: argparse.Namespace) -> int:
    """Save (and sign) the user's landmarks for their current case."""
    content = read_landmark_file(args.file)
    database = open_db(args)
    try:
        with database.transaction() as session:
            user, password = login(args, session)
            campaign = get_campaign(session, args.name)
            read = save_case_read(session, campaign, user, content)
            if args.sign:
                sign_case_read(session, campaign, user, password)
            print(f"read {read.id} ({read.read_type}, {read.status}) saved")
    finally:
        database.dispose()
    return 0


def run_adjudicate(args: argparse.Namespace) -> int:
    """Record the adjudicator's decision."""
    database = open_db(args)
    try:
        with database.transaction() as session:
            user, password = login(args, session)
            campaign = get_campaign(session, args.name)
            if args.choose is not None:
                role = CampaignRole(args.choose)
                decision = choose_reader_read(
                    session, campaign, user, args.case, role=role, reason=args.reason, password=password
                )
                print(
                    f"case {args.case}: {reader_name(role)}'s read (read {decision.chosen_read_id}) is final"
                )
                return 0
            adjudicate(
                session, campaign, user, args.case, read=get_read(session, args.read), reason=args.reason
            )
            print(f"case {args.case}: read {args.read} is final")
    finally:
        database.dispose()
    return 0


def run_status(args: argparse.Namespace) -> int:
    """Print the campaign's progress."""
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            campaign = get_campaign(session, args.name)
            progress = campaign_progress(session, campaign)
            if has_permission(user, Permission.MANAGE_CAMPAIGNS):
                rows = [(r.login, r.role, r.done, r.remaining) for r in progress.readers]
            else:
                # A reader sees their own progress only.
                rows = [
                    (r.login, r.role, r.done, r.remaining) for r in progress.readers if r.login == user.login
                ]
            print_table(("reader", "role", "done", "remaining"), rows)
            print(f"campaign {progress.code} is {progress.status}, {len(progress.readers)} readers")
            print(
                f"{progress.cases} cases: {progress.reading} being read, "
                f"{progress.awaiting_adjudication} awaiting adjudication, {progress.finished} finished "
                f"({progress.adjudicated} adjudicated)"
            )
    finally:
        database.dispose()
    return 0


def run_close(args: argparse.Namespace) -> int:
    """Close the campaign."""
    database = open_db(args)
    try:
        with database.transaction() as session:
            user, _ = login(args, session)
            campaign = get_campaign(session, args.name)
            unfinished = campaign_progress(session, campaign)
            close_campaign(session, campaign, actor=user, reason=args.reason)
            left = unfinished.cases - unfinished.finished
            print(f"campaign {campaign.code} closed ({left} of {unfinished.cases} cases unfinished)")
    finally:
        database.dispose()
    return 0


def run_export(args: argparse.Namespace) -> int:
    """Write the campaign CSV (and the key)."""
    database = open_db(args)
    try:
        with database.transaction() as session:
            user, _ = login(args, session)
            summary = export_campaign(
                session, get_campaign(session, args.name), args.out, actor=user, key=args.key
            )
    finally:
        database.dispose()
    print(f"{summary.rows} rows from {summary.reads} reads written to {summary.path}")
    if summary.key_path is not None:
        print(f"case code key written to {summary.key_path} (recorded in the audit trail)")
    return 0
