"""`kyphoangle normal-tables list|show NAME`: the normal tables behind ART and where each value comes from."""

from __future__ import annotations

import argparse

from kyphoangle.cli.db_common import SubParsers, add_command, print_table
from kyphoangle.normal_table import DEFAULT_NORMAL_TABLE, available_normal_tables, load_normal_table


def register(subparsers: SubParsers) -> None:
    """Add the `normal-tables` command group."""
    command = add_command(
        subparsers,
        "normal-tables",
        "list the shipped normal tables or show one with the source of each value",
        "Each value of a normal table names its source (table or figure), population, posture, "
        "modality and the source's own definition of the angle; values not checked against the "
        "publication are marked unverified.",
    )
    actions = command.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="names, titles and whether every value is verified")
    listing.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    listing.set_defaults(run=run_list)
    show = actions.add_parser("show", help="one table, value by value, with its sources")
    show.add_argument("name", metavar="NAME", help=f"a table name, e.g. {DEFAULT_NORMAL_TABLE}")
    show.set_defaults(run=run_show)


def run_list(args: argparse.Namespace) -> int:
    """Print one row per shipped table: whether every value is verified, and which is the default."""
    rows = []
    for name in available_normal_tables():
        table = load_normal_table(name)
        status = "verified" if table.verified else "UNVERIFIED"
        rows.append((name, table.version, status, "yes" if name == DEFAULT_NORMAL_TABLE else "", table.title))
    print_table(("name", "version", "status", "default", "title"), rows)
    return 0


def run_show(args: argparse.Namespace) -> int:
    """Print one table with the provenance of each value (unknown names: one line, exit 2)."""
    print(load_normal_table(args.name).describe())
    return 0
