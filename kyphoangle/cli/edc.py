"""`kyphoangle edc csv|excel`: the wide export for the trial's EDC (REDCap) and the statisticians.

`edc csv OUT.csv` writes one row per subject and visit (REDCap field names, raw coded values) and
`OUT.redcap.csv`, the REDCap data dictionary that describes every column; `edc excel OUT.xlsx` writes
the same data with the dictionary and a conventions sheet. `--reads site` (default) uses the site
reads, `--reads central` the final reads of the blinded campaigns. Derived columns `_cb` (change from
baseline) and `_cp` (change from D2-D5) are described in the conventions. Data managers and admins.
"""

from __future__ import annotations

import argparse

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, signed_in
from kyphoangle.workstation.exchange import ReadSource, write_edc_csv, write_edc_workbook


def register(subparsers: SubParsers) -> None:
    """Add the `edc` command group."""
    group = add_group(subparsers, "edc", "wide export for the EDC (REDCap) and the statisticians")
    for name, help_text, run in (
        ("csv", "one row per subject and visit, and the REDCap data dictionary", run_csv),
        ("excel", "an Excel workbook: data, dictionary, conventions", run_excel),
    ):
        command = add_command(group, name, help_text, __doc__.split("\n\n")[1] if __doc__ else None)
        command.add_argument("out", metavar="OUT")
        command.add_argument(
            "--reads", choices=[str(s) for s in ReadSource], default=str(ReadSource.SITE), help="which reads"
        )
        command.set_defaults(run=run)


def _export(args: argparse.Namespace, excel: bool) -> int:
    actor, _ = signed_in(args)
    try:
        write = write_edc_workbook if excel else write_edc_csv
        summary = write(actor, args.out, source=args.reads)
    finally:
        actor.close()
    if excel:
        print(f"{summary.rows} subject visits written to {args.out}")
    elif summary.dictionary is not None:
        print(f"{summary.rows} subject visits written to {args.out}; REDCap dictionary: {summary.dictionary}")
    return 0


def run_csv(args: argparse.Namespace) -> int:
    """Write the wide CSV and its dictionary."""
    return _export(args, excel=False)


def run_excel(args: argparse.Namespace) -> int:
    """Write the workbook."""
    return _export(args, excel=True)
