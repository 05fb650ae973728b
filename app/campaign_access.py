"""Who is offered the campaign manager: data managers and admins working on the study database."""

from __future__ import annotations

from app.read_store import ReaderAccount, ReadStore


def may_manage_campaigns(store: ReadStore, account: ReaderAccount) -> bool:
    """Whether the store is the study database and the account's role may manage campaigns."""
    # A local store has no campaigns; checking it first keeps the database modules unloaded for it.
    if getattr(store, "database", None) is None:
        return False
    from app.database_store import DatabaseReadStore
    from kyphoangle.storage.users import ROLE_PERMISSIONS, Permission
    from kyphoangle.vocabulary import UserRole

    try:
        role = UserRole(account.role)
    except ValueError:
        return False
    return isinstance(store, DatabaseReadStore) and Permission.MANAGE_CAMPAIGNS in ROLE_PERMISSIONS[role]
