"""`kyphoangle support-bundle FILE.zip`: logs, versions and settings for support, without patient data."""

from __future__ import annotations

import argparse
import sys

from kyphoangle.cli.db_common import SubParsers


def register(subparsers: SubParsers) -> None:
    """Add the `support-bundle` command."""
    parser = subparsers.add_parser(
        "support-bundle",
        help="write a zip of logs, versions and settings for support (no patient data)",
        description="Write FILE.zip with the program's logs (file names, paths, quoted values, UIDs and "
        "dates replaced), the versions of Python, Qt, the decoders, SQLite and PostgreSQL, the database's "
        "schema revision and row counts, and the settings (passwords omitted). No film, landmark or "
        "database content is included. Needs no login.",
    )
    parser.add_argument("file", metavar="FILE.zip", help="the zip to write ('-' for standard output)")
    parser.add_argument(
        "--db", metavar="URL", help="the study database to describe (default: as every command)"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Write the bundle and say what it holds."""
    from kyphoangle.support_bundle import write_support_bundle

    entries = write_support_bundle(args.file, database_url=args.db)
    if args.file != "-":
        print(f"support bundle written to {args.file}: {', '.join(entries)}", file=sys.stderr)
    return 0
