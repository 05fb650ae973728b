"""`kyphoangle users add|list|set|unlock`: accounts and roles (only an admin adds or changes users).

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
    login,
    open_db,
    print_table,
)
from kyphoangle.storage.models import UserRole
from kyphoangle.storage.users import count_users, create_user, get_user, list_users, unlock_user, update_user
from kyphoangle.text_safety import terminal_safe


def register(subparsers: SubParsers) -> None:
    """Add the `users` command group."""
    group = add_group(subparsers, "users", "user accounts and roles")
    add = add_command(group, "add", "create a user (the first user of a database: an admin, no login needed)")
    add.add_argument("login")
    add.add_argument("--role", required=True, choices=[r.value for r in UserRole])
    add.add_argument("--name", default="", help="full name, shown with signatures")
    add.set_defaults(run=run_add)
    listing = add_command(group, "list", "list the users")
    listing.set_defaults(run=run_list)
    change = add_command(group, "set", "change a user's role, name, password or active flag (admins)")
    change.add_argument("login")
    change.add_argument("--role", choices=[r.value for r in UserRole])
    change.add_argument("--name")
    change.add_argument("--active", choices=("yes", "no"))
    change.add_argument(
        "--password", action="store_true", help="set a new password (asked, or KYPHOANGLE_NEW_PASSWORD)"
    )
    change.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    change.set_defaults(run=run_set)
    unlock = add_command(group, "unlock", "lift the lock of an account after failed sign-ins (admins)")
    unlock.add_argument("login")
    unlock.add_argument("--reason", required=True, help="why (recorded in the audit trail)")
    unlock.set_defaults(run=run_unlock)


def run_add(args: argparse.Namespace) -> int:
    """Create the user."""
    database = open_db(args)
    try:
        with database.reading() as session:
            first = count_users(session) == 0
        with database.transaction() as session:
            actor = None if first else login(args, session)[0]
            password = ask_new_password(args.login)
            user = create_user(
                session, login=args.login, role=args.role, password=password, full_name=args.name, actor=actor
            )
            done = f"user {terminal_safe(user.login)} ({user.role}) created"
    finally:
        database.dispose()
    print(done)
    return 0


def run_list(args: argparse.Namespace) -> int:
    """Print the users."""
    database = open_db(args)
    try:
        with database.reading() as session:
            login(args, session)
            print_table(
                ("login", "role", "active", "name"),
                (
                    (terminal_safe(u.login), u.role, "yes" if u.active else "no", terminal_safe(u.full_name))
                    for u in list_users(session)
                ),
            )
    finally:
        database.dispose()
    return 0


def run_set(args: argparse.Namespace) -> int:
    """Change the user."""
    database = open_db(args)
    try:
        with database.transaction() as session:
            actor, _ = login(args, session)
            user = get_user(session, args.login)
            update_user(
                session,
                user,
                actor=actor,
                reason=args.reason,
                role=args.role,
                full_name=args.name,
                active=None if args.active is None else args.active == "yes",
                password=ask_new_password(args.login) if args.password else None,
            )
            done = f"user {terminal_safe(user.login)} updated"
    finally:
        database.dispose()
    print(done)
    return 0


def run_unlock(args: argparse.Namespace) -> int:
    """Lift the lock of an account after failed sign-ins (admins)."""
    database = open_db(args)
    try:
        with database.transaction() as session:
            actor, _ = login(args, session)
            user = unlock_user(session, get_user(session, args.login), actor=actor, reason=args.reason)
            done = f"user {terminal_safe(user.login)} unlocked"
    finally:
        database.dispose()
    print(done)
    return 0
