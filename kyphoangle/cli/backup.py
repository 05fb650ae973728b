"""`kyphoangle backup FILE`: a consistent copy of the study database while it is in use."""

from __future__ import annotations

import argparse
import sys

from kyphoangle.cli.db_common import SubParsers


def register(subparsers: SubParsers) -> None:
    """Add the `backup` command."""
    parser = subparsers.add_parser(
        "backup",
        help="copy the study database to a backup file (SQLite) or dump (PostgreSQL)",
        description="Write a consistent copy of the study database while it is in use: an SQLite "
        "database file (SQLite's online backup API) or a pg_dump archive in custom format (PostgreSQL; "
        "pg_dump must be installed). The file is private to you (0600). Restore: docs/deployment.md.",
    )
    parser.add_argument("file", metavar="FILE", help="backup file to write ('-' for standard output)")
    parser.add_argument("--db", metavar="URL", help="the database to back up (default: as every command)")
    parser.add_argument("--user", metavar="LOGIN", help="who is backing up (data managers and admins)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Back up and report the size."""
    from kyphoangle.cli.db_common import signed_in
    from kyphoangle.workstation.maintenance import back_up

    actor, _ = signed_in(args)
    try:
        result = back_up(actor, args.file)
    finally:
        actor.close()
    if args.file != "-":
        print(
            f"{result.backend} backup written to {result.target} ({result.size_bytes} bytes)", file=sys.stderr
        )
    return 0
