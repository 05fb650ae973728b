"""Looking after the study database: consistent backups (data managers and admins)."""

from __future__ import annotations

from pathlib import Path

from kyphoangle.storage.backup import BackupResult, backup_database
from kyphoangle.workstation.access import Action
from kyphoangle.workstation.connection import SignedIn

__all__ = ["BackupResult", "back_up"]


def back_up(actor: SignedIn, target: str | Path) -> BackupResult:
    """Copy the signed-in user's study database to `target` (`-`: standard output) while it is in use."""
    actor.check(Action.BACK_UP)
    return backup_database(actor.database.url, target)
