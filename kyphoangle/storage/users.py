"""Users, passwords (argon2) and roles: who may log in and what each role may do.

Roles and their permissions (`ROLE_PERMISSIONS`):

- `site_reader`: measure films as site reads; `central_reader`: central and repeat reads;
  `adjudicator`: adjudication reads (and central/repeat reads);
- `data_manager`: import images, edit subjects, assign visits, import reads for readers, export,
  recompute, read the audit trail, set up and follow central reading campaigns;
- `admin`: everything a data manager does, plus managing users. Admins and data managers do not
  author reads.

The very first user of a database may be created without anyone logged in, and only as an admin.
Every change to a user is audited; password hashes never enter the audit trail.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kyphoangle.errors import AuthenticationError, NotFoundError, PermissionDeniedError, ReasonRequiredError
from kyphoangle.storage.audit import AuditAction, AuditEntity, changes, record
from kyphoangle.storage.models import Site, User, utc_now
from kyphoangle.vocabulary import ReadType, UserRole

MIN_PASSWORD_LENGTH = 8
_LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
_hasher = PasswordHasher()


class Permission(enum.StrEnum):
    """An action guarded by role."""

    MANAGE_USERS = "manage users"
    IMPORT_IMAGES = "import images"
    EDIT_SUBJECTS = "edit subjects"
    ASSIGN_VISITS = "assign visits"
    IMPORT_READS_FOR_OTHERS = "import reads on behalf of readers"
    EXPORT = "export data"
    RECOMPUTE = "recompute measurements"
    VIEW_AUDIT = "read the audit trail"
    VIEW_IDENTITY = "see patient identity"
    MEASURE = "measure films"
    MANAGE_CAMPAIGNS = "manage central reading campaigns"


_MANAGER = frozenset(
    {
        Permission.IMPORT_IMAGES,
        Permission.EDIT_SUBJECTS,
        Permission.ASSIGN_VISITS,
        Permission.IMPORT_READS_FOR_OTHERS,
        Permission.EXPORT,
        Permission.RECOMPUTE,
        Permission.VIEW_AUDIT,
        Permission.VIEW_IDENTITY,
        Permission.MANAGE_CAMPAIGNS,
    }
)

ROLE_PERMISSIONS: Mapping[UserRole, frozenset[Permission]] = {
    UserRole.SITE_READER: frozenset({Permission.MEASURE}),
    UserRole.CENTRAL_READER: frozenset({Permission.MEASURE}),
    UserRole.ADJUDICATOR: frozenset({Permission.MEASURE}),
    UserRole.DATA_MANAGER: _MANAGER,
    UserRole.ADMIN: _MANAGER | {Permission.MANAGE_USERS},
}
"""What each role may do."""

READ_TYPES_BY_ROLE: Mapping[UserRole, frozenset[ReadType]] = {
    UserRole.SITE_READER: frozenset({ReadType.SITE}),
    UserRole.CENTRAL_READER: frozenset({ReadType.CENTRAL, ReadType.REPEAT}),
    UserRole.ADJUDICATOR: frozenset({ReadType.ADJUDICATION, ReadType.CENTRAL, ReadType.REPEAT}),
    UserRole.DATA_MANAGER: frozenset(),
    UserRole.ADMIN: frozenset(),
}
"""The kinds of read each role authors."""


def set_password_hasher(hasher: PasswordHasher) -> None:
    """Use other argon2 parameters for new hashes (tests use cheap ones; verification reads the hash)."""
    global _hasher
    _hasher = hasher


def hash_password(password: str) -> str:
    """The argon2id hash of a password, after checking it is long enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthenticationError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")
    return str(_hasher.hash(password))


def _password_matches(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def user_snapshot(user: User) -> dict[str, object]:
    """The audited fields of a user (never the password hash)."""
    snapshot: dict[str, object] = {
        "login": user.login,
        "full_name": user.full_name,
        "role": user.role,
        "active": user.active,
    }
    if user.site_id is not None:
        snapshot["site_id"] = user.site_id
    return snapshot


def has_permission(user: User, permission: Permission) -> bool:
    """Whether the user is active and their role grants `permission`."""
    return user.active and permission in ROLE_PERMISSIONS[UserRole(user.role)]


def require_permission(user: User, permission: Permission) -> None:
    """Raise PermissionDeniedError unless the user may do `permission`."""
    if not has_permission(user, permission):
        raise PermissionDeniedError(f"{user.login} ({user.role}) is not allowed to {permission}")


def count_users(session: Session) -> int:
    """How many user accounts exist (0 on a new database)."""
    return int(session.scalar(select(func.count()).select_from(User)) or 0)


def get_user(session: Session, login: str) -> User:
    """The user with that login; NotFoundError otherwise."""
    user = session.scalar(select(User).where(User.login == login))
    if user is None:
        raise NotFoundError(f"there is no user {login!r}")
    return user


def list_users(session: Session) -> list[User]:
    """Every user, by login."""
    return list(session.scalars(select(User).order_by(User.login)))


def create_user(
    session: Session,
    *,
    login: str,
    role: UserRole | str,
    password: str,
    full_name: str = "",
    actor: User | None,
    site: Site | None = None,
) -> User:
    """Create an account (a site reader perhaps of a `site`). `actor` must be an admin, or None for the
    first user, who must be an admin."""
    role = UserRole(role)
    if actor is None:
        if count_users(session) > 0:
            raise PermissionDeniedError("only an admin can add users; log in with --user")
        if role is not UserRole.ADMIN:
            raise PermissionDeniedError("the first user of a database must be an admin")
    else:
        require_permission(actor, Permission.MANAGE_USERS)
    if not _LOGIN_PATTERN.match(login):
        raise AuthenticationError(
            f"{login!r} is not a valid login (letters, digits, '.', '_', '@', '-'; up to 64 characters)"
        )
    if session.scalar(select(User.id).where(User.login == login)) is not None:
        raise PermissionDeniedError(f"the login {login!r} is taken")
    now = utc_now()
    user = User(
        login=login,
        full_name=full_name,
        role=role,
        password_hash=hash_password(password),
        active=True,
        created_at=now,
        password_changed_at=now,
        site_id=site.id if site is not None else None,
    )
    session.add(user)
    session.flush()
    record(
        session,
        actor=actor or user,
        entity=AuditEntity.USER,
        entity_id=user.id,
        action=AuditAction.CREATE,
        new=user_snapshot(user),
    )
    return user


def authenticate(session: Session, login: str, password: str) -> User:
    """The active user with that login and password; AuthenticationError otherwise.

    The same message is given for an unknown login and a wrong password, so logins cannot be guessed.
    """
    user = session.scalar(select(User).where(User.login == login))
    if user is None or not _password_matches(user.password_hash, password):
        raise AuthenticationError("wrong login or password")
    if not user.active:
        raise AuthenticationError(f"the account {login!r} is disabled")
    return user


def verify_signature(user: User, password: str) -> None:
    """Check the password of a user who signs (a signature needs the signer's own password)."""
    if not user.active:
        raise AuthenticationError(f"the account {user.login!r} is disabled and cannot sign")
    if not _password_matches(user.password_hash, password):
        raise AuthenticationError(f"wrong password for {user.login}: the read was not signed")


def update_user(
    session: Session,
    user: User,
    *,
    actor: User,
    reason: str,
    role: UserRole | str | None = None,
    full_name: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    site: Site | None = None,
) -> User:
    """Change a user's role, name, active flag, site or password (admins; users may change their own
    password)."""
    own_password_only = (
        actor.id == user.id and role is None and full_name is None and active is None and site is None
    )
    if not own_password_only:
        require_permission(actor, Permission.MANAGE_USERS)
    if not reason.strip():
        raise ReasonRequiredError("changing a user account needs a reason")
    before = user_snapshot(user)
    if role is not None:
        user.role = UserRole(role)
    if full_name is not None:
        user.full_name = full_name
    if active is not None:
        user.active = active
    if site is not None:
        user.site_id = site.id
    after = user_snapshot(user)
    old, new = changes(before, after)
    if password is not None:
        user.password_hash = hash_password(password)
        user.password_changed_at = utc_now()
        old["password"], new["password"] = "(previous)", "(changed)"
    if new:
        record(
            session,
            actor=actor,
            entity=AuditEntity.USER,
            entity_id=user.id,
            action=AuditAction.UPDATE,
            old=old,
            new=new,
            reason=reason,
        )
    return user
