"""What the study-database commands share: `--db`, `--user`, passwords, tables on stdout.

Every database command takes `--db URL` (or a file path; default `KYPHOANGLE_DB`, else the SQLite file
in the user's data directory) and `--user LOGIN` (default `KYPHOANGLE_USER`). The password is read from
`KYPHOANGLE_PASSWORD` when set (for scripts), else asked for without echo. A command writes as that
user; the audit trail names them.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from typing import TypeAlias

from kyphoangle.errors import AuthenticationError
from kyphoangle.workstation.connection import ENV_DATABASE, Database, SignedIn, open_study, sign_in

ENV_USER = "KYPHOANGLE_USER"
ENV_PASSWORD = "KYPHOANGLE_PASSWORD"
"""The password of `--user`, for scripts (never of anyone else)."""
ENV_NEW_PASSWORD = "KYPHOANGLE_NEW_PASSWORD"
"""The password given to a user created or changed by `kyphoangle users`, for scripts."""

SubParsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

LIST_COMMANDS = ("list",)
"""Commands that get `--json` (their table as JSON Lines: one object per row)."""
TABLES_AS_JSON: ContextVar[bool] = ContextVar("kyphoangle_tables_as_json", default=False)
"""Set by `--json`: `print_table` writes JSON Lines instead of columns."""


def database_options() -> argparse.ArgumentParser:
    """A parent parser holding `--db` and `--user`, added to every database command."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(
        "--db",
        metavar="URL",
        help=f"database: an SQLite file path or a URL such as postgresql://user@host/kyphoangle "
        f"(default: ${ENV_DATABASE}, else kyphoangle.sqlite3 in your data folder)",
    )
    parent.add_argument("--user", metavar="LOGIN", help=f"who is acting (default: ${ENV_USER})")
    return parent


def add_group(subparsers: SubParsers, name: str, help_text: str) -> SubParsers:
    """A command group (`kyphoangle users ...`) whose sub-commands are added to the returned object."""
    group = subparsers.add_parser(name, help=help_text, description=help_text)
    group.set_defaults(run=lambda args: _group_help(group))
    return group.add_subparsers(dest=f"{name}_command", metavar="ACTION")


def _group_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def add_command(
    subparsers: SubParsers, name: str, help_text: str, description: str | None = None
) -> argparse.ArgumentParser:
    """A database command with `--db` and `--user` (and `--json` for a `list` command)."""
    parser = subparsers.add_parser(
        name, help=help_text, description=description or help_text, parents=[database_options()]
    )
    if name in LIST_COMMANDS:
        parser.add_argument("--json", action="store_true", help="one JSON object per line instead of a table")
    return parser


def open_db(args: argparse.Namespace) -> Database:
    """Open (and migrate) the database named by `--db`."""
    return open_study(args.db)


def login_name(args: argparse.Namespace) -> str:
    """The acting user's login: `--user`, else KYPHOANGLE_USER."""
    login = args.user or os.environ.get(ENV_USER)
    if not login:
        raise AuthenticationError(f"say who you are with --user LOGIN (or set {ENV_USER})")
    return str(login)


def ask_password(prompt: str, *, environment: str = ENV_PASSWORD) -> str:
    """A password from the environment variable, else typed without echo."""
    value = os.environ.get(environment)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise AuthenticationError(f"no terminal to ask for the password: set {environment}")
    return getpass.getpass(prompt)


def ask_new_password(login: str) -> str:
    """A new user's password: KYPHOANGLE_NEW_PASSWORD, else typed twice."""
    value = os.environ.get(ENV_NEW_PASSWORD)
    if value is not None:
        return value
    if not sys.stdin.isatty():
        raise AuthenticationError(f"no terminal to ask for {login}'s password: set {ENV_NEW_PASSWORD}")
    first = getpass.getpass(f"New password for {login}: ")
    if getpass.getpass("Again: ") != first:
        raise AuthenticationError("the two passwords differ")
    return first


def signed_in(args: argparse.Namespace) -> tuple[SignedIn, str]:
    """Open the database and sign in as `--user` (password from KYPHOANGLE_PASSWORD or a prompt).

    Returns the signed-in user and the password (signatures ask for it). Close the returned user's
    database when the command is done (`SignedIn.close`).
    """
    name = login_name(args)
    password = ask_password(f"Password for {name}: ")
    database = open_db(args)
    try:
        return sign_in(database, name, password), password
    except BaseException:
        database.dispose()
        raise


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Aligned columns on stdout (tab-separated when stdout is not a terminal, for scripts; JSON Lines
    with `--json`)."""
    if TABLES_AS_JSON.get():
        for row in rows:
            print(json.dumps(dict(zip(headers, row, strict=True)), ensure_ascii=False, default=str))
        return
    cells = [["" if value is None else str(value) for value in row] for row in rows]
    if not sys.stdout.isatty():
        print("\t".join(headers))
        for row in cells:
            print("\t".join(row))
        return
    widths = [max([len(h), *(len(row[n]) for row in cells)]) for n, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
