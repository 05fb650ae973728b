"""`kyphoangle users add|list|set`: accounts and roles (only an admin adds or changes users).

On an empty database, `kyphoangle users add LOGIN --role admin` creates the first admin without
logging in. The new user's password is read from KYPHOANGLE_NEW_PASSWORD, else typed twice.
"""

from __future__ import annotations

import argparse

from kyphoangle.cli.db_common import (
    SubParsers,
    add_command,
    add_group,
    ask_new_password,
    open_db,
    print_table,
    signed_in,
)
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation.accounts import add_user, list_users, update_user, users_exist


def register(subparsers: SubParsers) -> None:
    """Add the `users` command group."""
    group = add_group(subparsers, "users", "user accounts and roles")
    add = add_command(group, "add", "create a user (the first user of a database: an admin, no login needed)")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=[r.value for r in UserRole])
    add.add_argument("--name", default="", help="full name, shown with signatures")
    add.add_argument("--site", help="site code of a site reader, who then sees only that site's subjects")
    add.set_defaults(run=run_add)
    listing = add_command(group, "list", "list the users")
    listing.set_defaults(run=run_list)
    change = add_command(group, "set", "change a user's role, name, password or active flag (admins)")
    change.add_argument("login")
    change.add_argument("--role", choices=[r.value for r in UserRole])
    change.add_argument("--name")
    change.add_argument("--active", choices=("yes", "no"))
    change.add_argument("--site", help="site code (site readers see only their site's subjects)")
    change.add_argument(
        "--password", action="store_true", help="set a new password (asked, or KYPHOANGLE_NEW_PASSWORD)"
    )
    change.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    change.set_defaults(run=run_set)


def run_add(args: argparse.Namespace) -> int:
    """Create the user."""
    database = open_db(args)
    try:
        if not users_exist(database):
            row = add_user(
                None, args.login, args.role, ask_new_password(args.login), args.name, database=database
            )
        else:
            actor, _ = signed_in(args)
            try:
                row = add_user(
                    actor, args.login, args.role, ask_new_password(args.login), args.name, site=args.site
                )
            finally:
                actor.close()
    finally:
        database.dispose()
    print(f"user {row.login} ({row.role}) created")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the users."""
    actor, _ = signed_in(args)
    try:
        rows = list_users(actor)
    finally:
        actor.close()
    print_table(
        ("login", "role", "active", "name", "site"),
        ((u.login, u.role, "yes" if u.active else "no", u.full_name, u.site) for u in rows),
    )
    return 0


def run_set(args: argparse.Namespace) -> int:
    """Change the user."""
    actor, _ = signed_in(args)
    try:
        row = update_user(
            actor,
            args.login,
            reason=args.reason,
            role=args.role,
            full_name=args.name,
            active=None if args.active is None else args.active == "yes",
            password=ask_new_password(args.login) if args.password else None,
            site=args.site,
        )
    finally:
        actor.close()
    print(f"user {row.login} updated")
    return 0
