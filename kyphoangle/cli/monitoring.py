"""`kyphoangle monitoring OUT.csv [--html OUT.html]`: the trial monitoring report for the data manager.

Per site, subject and visit: films and whether their dates fall in the visit window, site reads signed
or in draft, central cases being read or finished, adjudications pending, and what is overdue (see
`kyphoangle.monitoring`). Data managers and admins. `--today YYYY-MM-DD` reports as of another day.
"""

from __future__ import annotations

import argparse
import datetime as dt

from kyphoangle.cli.db_common import SubParsers, add_command, signed_in
from kyphoangle.workstation.exchange import (
    make_monitoring_report,
    write_monitoring_csv,
    write_monitoring_html,
)


def register(subparsers: SubParsers) -> None:
    """Add the `monitoring` command."""
    command = add_command(
        subparsers, "monitoring", "trial monitoring report (CSV, and HTML with --html)", __doc__
    )
    command.add_argument("out", metavar="OUT.csv", help="the CSV report ('-' for standard output)")
    command.add_argument("--html", metavar="OUT.html", help="also write the report as an HTML page")
    command.add_argument("--today", type=dt.date.fromisoformat, metavar="YYYY-MM-DD", help="report date")
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Make and write the report."""
    actor, _ = signed_in(args)
    try:
        report = make_monitoring_report(actor, today=args.today)
    finally:
        actor.close()
    write_monitoring_csv(report, args.out)
    if args.html:
        write_monitoring_html(report, args.html)
    if args.out != "-":
        print(f"{len(report.lines)} subject visits, {report.overdue_count} with overdue items: {args.out}")
    return 0
