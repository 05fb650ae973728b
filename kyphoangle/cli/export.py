"""`kyphoangle export csv OUT.csv [--wide]`: measurements for the statisticians, with a data dictionary.

No patient name, DICOM patient ID or date is written; see `kyphoangle.export` for the columns, which
reads are included, and how change from baseline is computed. `OUT.dictionary.csv` describes every
column.
"""

from __future__ import annotations

import argparse
import sys

from kyphoangle.cli.db_common import SubParsers, add_command, add_group, signed_in
from kyphoangle.normal_table import available_normal_tables
from kyphoangle.workstation.exports import export_observations_csv, export_study_csv


def register(subparsers: SubParsers) -> None:
    """Add the `export` command group."""
    group = add_group(subparsers, "export", "export data for analysis")
    command = add_command(
        group,
        "csv",
        "write every measurement to a CSV file (long: one row per value; --wide: one row per read)",
        "Current reads (drafts and signed; earlier versions of amended reads only with --history). "
        "Each row has the read's version, what it amends, and its signer, signing time and meaning. "
        "OUT.dictionary.csv describes every column.",
    )
    command.add_argument("out", metavar="OUT.csv", help="the CSV to write ('-' for standard output)")
    command.add_argument("--wide", action="store_true", help="one row per subject/visit/reader read")
    command.add_argument("--signed-only", action="store_true", help="signed reads only")
    command.add_argument(
        "--history",
        "--include-superseded",
        dest="include_superseded",
        action="store_true",
        help="every version of amended reads, not only the current one",
    )
    command.add_argument(
        "--normal-table", choices=available_normal_tables(), help="ART values of this table only"
    )
    command.set_defaults(run=run)
    observations = add_command(
        group,
        "observations",
        "write the readers' observations to a CSV file (Genant grade per level, new and adjacent "
        "fractures, cement leakage)",
        "One row per observed level of each current read; new fractures against the same reader's "
        "baseline read. The data dictionary of 'export csv' describes the columns.",
    )
    observations.add_argument("out", metavar="OUT.csv", help="'-' for standard output")
    observations.add_argument("--signed-only", action="store_true", help="signed reads only")
    observations.add_argument(
        "--include-superseded", action="store_true", help="also reads replaced by amendments"
    )
    observations.set_defaults(run=run_observations)


def run_observations(args: argparse.Namespace) -> int:
    """Write the observations CSV."""
    actor, _ = signed_in(args)
    try:
        summary = export_observations_csv(
            actor, args.out, signed_only=args.signed_only, include_superseded=args.include_superseded
        )
    finally:
        actor.close()
    if summary.path != "-":
        print(f"{summary.rows} observations from {summary.reads} reads written to {summary.path}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Write the CSV and its dictionary."""
    actor, _ = signed_in(args)
    try:
        summary = export_study_csv(
            actor,
            args.out,
            wide=args.wide,
            signed_only=args.signed_only,
            include_superseded=args.include_superseded,
            normal_table=args.normal_table,
        )
    finally:
        actor.close()
    # with '-' the CSV is on standard output: the summary goes to stderr, out of its way
    report = sys.stderr if summary.dictionary_path is None else sys.stdout
    print(f"{summary.rows} rows from {summary.reads} reads written to {summary.path}", file=report)
    if summary.dictionary_path is not None:
        print(f"column descriptions: {summary.dictionary_path}")
    return 0
