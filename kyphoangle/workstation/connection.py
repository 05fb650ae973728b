"""Opening the study database for a user action, signing in, and one message when the database is gone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy.orm import Session

from kyphoangle.errors import KyphoangleError, PermissionDeniedError
from kyphoangle.storage import Database, open_database
from kyphoangle.storage import users as user_repo
from kyphoangle.storage.engine import ENV_DATABASE, default_database_path
from kyphoangle.storage.models import User
from kyphoangle.workstation.access import Action, Scope, allowed, denial_message, scope_of
from kyphoangle.workstation.records import Account

__all__ = [
    "ENV_DATABASE",
    "Database",
    "DatabaseService",
    "SignedIn",
    "StoreUnavailableError",
    "check",
    "default_database_url",
    "open_study",
    "record_denial",
    "sign_in",
]

_T = TypeVar("_T")


class StoreUnavailableError(KyphoangleError):
    """The study database cannot be reached; the landmarks being edited are kept."""


def default_database_url() -> str:
    """The study database opened by default: $KYPHOANGLE_DB, else the user's SQLite file."""
    import os

    return os.environ.get(ENV_DATABASE) or str(default_database_path())


def open_study(url: str | None = None) -> Database:
    """Open (and migrate) the study database: a URL, an SQLite path, or the default one."""
    return open_database(url)


class DatabaseService:
    """What every service over the study database shares: the connection guard and sign-in."""

    name_database_in_errors = True
    """Whether an unreachable database is named in the message (blinded services say less)."""
    kept_when_unavailable = "your landmarks are kept."
    """What the message about an unreachable database reassures the user of."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._account: Account | None = None

    @property
    def account(self) -> Account:
        """The signed-in user; refused before sign-in."""
        if self._account is None:
            raise PermissionDeniedError("Sign in first.")
        return self._account

    @property
    def login(self) -> str:
        """The signed-in user's login."""
        return self.account.login

    def use_account(self, account: Account) -> None:
        """Act for an account already authenticated (the sign-in dialog's)."""
        self._account = account

    def _guard(self, action: Callable[[], _T]) -> _T:
        try:
            return action()
        except KyphoangleError:
            raise
        except Exception as exc:  # driver errors: the database went away
            where = f" ({self.database.display_name})" if self.name_database_in_errors else ""
            raise StoreUnavailableError(
                f"The study database{where} cannot be reached ({exc.__class__.__name__}); "
                f"{self.kept_when_unavailable}"
            ) from None

    def check(self, action: Action) -> Scope:
        """The scope of an action the signed-in user may do; a refusal is audited, then raised."""
        return self._guard(lambda: check(self.database, self.account, action))

    def authenticate(self, login: str, password: str) -> Account:
        """Check a password against the users table and act for that user from now on."""

        def run() -> Account:
            with self.database.reading() as session:
                user = user_repo.authenticate(session, login, password)
                return Account(user.login, user.full_name or user.login, user.role)

        account = self._guard(run)
        self._account = account
        return account


def user_site(database: Database, login: str) -> str | None:
    """The code of the user's site, or None when none is recorded."""
    with database.reading() as session:
        user = user_repo.get_user(session, login)
        return user.site.code if user.site is not None else None


def record_denial(database: Database, login: str, action: Action) -> None:
    """Write a refused action to the audit trail in its own transaction (the refusal itself is kept)."""
    from kyphoangle.storage.audit import AuditAction, AuditEntity, record

    with database.transaction() as session:
        try:
            actor = user_repo.get_user(session, login)
        except KyphoangleError:
            return
        record(
            session,
            actor=actor,
            entity=AuditEntity.ACCESS,
            entity_id=action.name.lower(),
            action=AuditAction.DENY,
            new={"action": action.value, "role": actor.role},
        )


def check(database: Database, account: Account, action: Action) -> Scope:
    """The scope of an action the account's role allows; a refusal is audited, then raised."""
    if allowed(account.role, action):
        return scope_of(account.role, action)
    record_denial(database, account.login, action)
    raise PermissionDeniedError(denial_message(account.role, action))


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A user signed in to the study database: what every command-line action starts from."""

    database: Database
    account: Account

    def check(self, action: Action) -> Scope:
        """The scope of an action the user may do; a refusal is audited, then raised."""
        return check(self.database, self.account, action)

    @contextmanager
    def reading(self) -> Iterator[tuple[Session, User]]:
        """A read-only session and the user's row in it (one user action)."""
        with self.database.reading() as session:
            yield session, user_repo.get_user(session, self.account.login)

    @contextmanager
    def writing(self) -> Iterator[tuple[Session, User]]:
        """A write transaction and the user's row in it (committed when the block ends without error)."""
        with self.database.transaction() as session:
            yield session, user_repo.get_user(session, self.account.login)

    def site_scope(self, scope: Scope) -> str | None:
        """The site code a listing of this scope is limited to: the user's own site for `Scope.OWN_SITE`
        (when one is recorded), else None (no limit)."""
        if scope is not Scope.OWN_SITE:
            return None
        return user_site(self.database, self.account.login)

    def close(self) -> None:
        """Release the database's connections (the command is done)."""
        self.database.dispose()


def sign_in(database: Database, login: str, password: str) -> SignedIn:
    """Check the password of `login` and return the signed-in user."""
    service = DatabaseService(database)
    return SignedIn(database, service.authenticate(login, password))
