"""`kyphoangle agreement --campaign NAME`: inter- and intra-reader reliability of a reading campaign.

Text (default) or CSV on stdout; `--report OUT.html` also writes an HTML report with Bland-Altman
plots, and its numbers as `OUT.csv` next to it. Data managers and admins only.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from kyphoangle.agreement_report import agreement_report, text_lines, write_csv, write_html
from kyphoangle.campaign import get_campaign
from kyphoangle.cli.db_common import SubParsers, add_command, login, open_db


def register(subparsers: SubParsers) -> None:
    """Add the `agreement` command."""
    command = add_command(
        subparsers,
        "agreement",
        "reader agreement in a central reading campaign (ICC, Bland-Altman, SEM, MDC)",
        __doc__,
    )
    command.add_argument("--campaign", required=True, metavar="NAME")
    command.add_argument("--format", choices=("text", "csv"), default="text")
    command.add_argument("--report", type=Path, metavar="OUT.html", help="also write an HTML report")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print the statistics."""
    database = open_db(args)
    try:
        with database.reading() as session:
            user, _ = login(args, session)
            report = agreement_report(session, get_campaign(session, args.campaign), actor=user)
    finally:
        database.dispose()
    if args.format == "csv":
        write_csv(report, sys.stdout)
    else:
        print("\n".join(text_lines(report)))
    if args.report is not None:
        write_html(report, args.report)
        numbers = args.report.with_suffix(".csv")
        write_csv(report, numbers)
        print(f"report written to {args.report} (numbers in {numbers})", file=sys.stderr)
    return 0
