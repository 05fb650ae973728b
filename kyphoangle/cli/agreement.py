"""`kyphoangle agreement --campaign NAME`: inter- and intra-reader reliability of a reading campaign.

Text (default) or CSV on stdout; `--report OUT.html` (or `.htm`) also writes an HTML report with
Bland-Altman plots, `--report OUT.pdf` a PDF report (statistics table, adjudication rates, then the
plots); either way its numbers go to `OUT.csv` next to it. Any other extension is refused before the
database is opened. Data managers and admins only. Campaigns of two to six readers: see
`kyphoangle.agreement_report` for the pair and all-readers lines.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from kyphoangle.agreement_report import (
    AgreementReport,
    text_lines,
    write_csv,
    write_html,
    write_pdf,
)
from kyphoangle.cli.db_common import SubParsers, add_command, signed_in
from kyphoangle.errors import KyphoangleError
from kyphoangle.workstation.campaigns import campaign_agreement

REPORT_WRITERS: dict[str, Callable[[AgreementReport, Path], None]] = {
    ".html": write_html,
    ".htm": write_html,
    ".pdf": write_pdf,
}
"""The report's format by the extension of `--report`."""


class ReportFormatError(KyphoangleError):
    """The report file's extension names no format the report can be written in."""


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
    command.add_argument(
        "--report",
        type=Path,
        metavar="OUT.html|OUT.pdf",
        help="also write a report, HTML or PDF by the extension (numbers in OUT.csv)",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Compute and print the statistics."""
    writer = None
    if args.report is not None:
        writer = REPORT_WRITERS.get(args.report.suffix.lower())
        if writer is None:
            raise ReportFormatError(
                f"cannot write a report named {args.report.name}: use .html (or .htm) for HTML "
                "or .pdf for PDF"
            )
    actor, _ = signed_in(args)
    try:
        report = campaign_agreement(actor, args.campaign)
    finally:
        actor.close()
    if args.format == "csv":
        write_csv(report, sys.stdout)
    else:
        print("\n".join(text_lines(report)))
    if writer is not None:
        writer(report, args.report)
        numbers = args.report.with_suffix(".csv")
        write_csv(report, numbers)
        print(f"report written to {args.report} (numbers in {numbers})", file=sys.stderr)
    return 0
