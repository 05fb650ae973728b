"""User accounts: the first admin, adding users, listing them and changing roles, names and passwords."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.errors import NotFoundError
from kyphoangle.storage import Database
from kyphoangle.storage import users as user_repo
from kyphoangle.storage.models import Site, User
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation.access import Action, Scope
from kyphoangle.workstation.connection import SignedIn

__all__ = ["UserRow", "add_user", "create_first_admin", "list_users", "update_user", "users_exist"]


@dataclass(frozen=True, slots=True)
class UserRow:
    """One account as listed: login, role, whether it may sign in, full name, site (site readers)."""

    login: str
    role: UserRole
    active: bool
    full_name: str
    site: str = ""


def _row(user: User) -> UserRow:
    return UserRow(
        user.login, UserRole(user.role), user.active, user.full_name, user.site.code if user.site else ""
    )


def _site(session: Session, code: str | None) -> Site | None:
    if not code:
        return None
    found = session.scalar(select(Site).where(Site.code == code))
    if found is None:
        raise NotFoundError(f"there is no site {code}")
    return found


def users_exist(database: Database) -> bool:
    """Whether the database has any account yet (the first one is created without signing in)."""
    with database.reading() as session:
        return user_repo.count_users(session) > 0


def create_first_admin(database: Database, login: str, password: str, full_name: str = "") -> UserRow:
    """The database's first account, an admin, created without anyone signed in."""
    return add_user(None, login, UserRole.ADMIN, password, full_name, database=database)


def add_user(
    actor: SignedIn | None,
    login: str,
    role: UserRole | str,
    password: str,
    full_name: str = "",
    *,
    site: str | None = None,
    database: Database | None = None,
) -> UserRow:
    """Create an account (admins; `actor` None only for the first account, which must be an admin)."""
    if actor is not None:
        actor.check(Action.MANAGE_USERS)
        database = actor.database
    if database is None:
        raise ValueError("add_user needs the signed-in admin or the database")
    with database.transaction() as session:
        acting = user_repo.get_user(session, actor.account.login) if actor is not None else None
        user = user_repo.create_user(
            session,
            login=login,
            role=role,
            password=password,
            full_name=full_name,
            actor=acting,
            site=_site(session, site),
        )
        return _row(user)


def list_users(actor: SignedIn) -> list[UserRow]:
    """The accounts the user may see: every one for admins and data managers, else their own."""
    scope = actor.check(Action.LIST_USERS)
    with actor.database.reading() as session:
        users = user_repo.list_users(session)
        return [_row(u) for u in users if scope is Scope.ALL or u.login == actor.account.login]


def update_user(
    actor: SignedIn,
    login: str,
    *,
    reason: str,
    role: UserRole | str | None = None,
    full_name: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    site: str | None = None,
) -> UserRow:
    """Change an account's role, name, active flag or password (admins; anyone their own password;
    audited with the reason)."""
    own_password_only = (
        login == actor.account.login and role is None and full_name is None and active is None and not site
    )
    if not own_password_only:
        actor.check(Action.MANAGE_USERS)
    with actor.database.transaction() as session:
        user = user_repo.get_user(session, login)
        user_repo.update_user(
            session,
            user,
            actor=user_repo.get_user(session, actor.account.login),
            reason=reason,
            role=role,
            full_name=full_name,
            active=active,
            password=password,
            site=_site(session, site),
        )
        return _row(user)
