"""`kyphoangle recompute [--normal-table NAME]`: recompute stored measurements from the landmarks.

Every read's own measurements are recomputed with the normal table recorded on the read; changed
values are updated and audited (old and new values). With `--normal-table`, ART values for that table
are added beside each read's own (versioned by table; a signed read's recorded values are never
overwritten). See `kyphoangle.storage.recompute`.
"""

from __future__ import annotations

import argparse

from kyphoangle.cli.db_common import SubParsers, add_command, signed_in
from kyphoangle.normal_table import available_normal_tables
from kyphoangle.workstation.exports import recompute_measurements


def register(subparsers: SubParsers) -> None:
    """Add the `recompute` command."""
    command = add_command(
        subparsers,
        "recompute",
        "recompute stored measurements from the stored landmarks (audited)",
        __doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    command.add_argument(
        "--normal-table",
        choices=available_normal_tables(),
        help="also add ART values computed with this table",
    )
    command.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Recompute and print what changed."""
    actor, _ = signed_in(args)
    try:
        summary = recompute_measurements(actor, normal_table=args.normal_table)
    finally:
        actor.close()
    print(
        f"reads checked: {summary.reads_checked}; changed: {len(summary.reads_changed)} "
        f"(values updated {summary.rows_updated}, added {summary.rows_added}, "
        f"removed {summary.rows_removed})"
    )
    for read_id, why in summary.kept:
        print(f"read {read_id}: ART kept as recorded: {why}")
    return 0
