"""Users, passwords, roles, and the hash-chained audit trail (tampering is detected)."""

from __future__ import annotations

import pytest
from conftest import Staff
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from storage_helpers import PASSWORD

from kyphoangle.errors import AuthenticationError, PermissionDeniedError, ReasonRequiredError
from kyphoangle.storage import Database
from kyphoangle.storage.audit import (
    AuditAction,
    AuditEntity,
    list_events,
    record,
    require_intact,
    verify_trail,
)
from kyphoangle.storage.models import User
from kyphoangle.storage.users import (
    Permission,
    authenticate,
    create_user,
    get_user,
    has_permission,
    list_users,
    update_user,
)
from kyphoangle.vocabulary import UserRole


def test_first_user_must_be_an_admin_and_needs_no_login(database: Database) -> None:
    with database.transaction() as session, pytest.raises(PermissionDeniedError, match="must be an admin"):
        create_user(session, login="r1", role=UserRole.SITE_READER, password=PASSWORD, actor=None)
    with database.transaction() as session:
        admin = create_user(session, login="boss", role="admin", password=PASSWORD, actor=None)
        assert admin.active and admin.role is UserRole.ADMIN
    with database.transaction() as session, pytest.raises(PermissionDeniedError, match="only an admin"):
        create_user(session, login="sneaky", role="admin", password=PASSWORD, actor=None)


def test_only_admins_add_users(database: Database, staff: Staff) -> None:
    with database.transaction() as session:
        manager = session.get_one(User, staff.manager)
        with pytest.raises(PermissionDeniedError, match="manage users"):
            create_user(session, login="x", role="site_reader", password=PASSWORD, actor=manager)
    with database.reading() as session:
        assert [u.login for u in list_users(session)] == [
            "adjudicator",
            "admin",
            "central_reader",
            "manager",
            "site_reader",
        ]


def test_login_and_password_rules(database: Database, staff: Staff) -> None:
    with database.transaction() as session:
        assert authenticate(session, "site_reader", PASSWORD).id == staff.site_reader
        with pytest.raises(AuthenticationError, match="wrong login or password"):
            authenticate(session, "site_reader", "nope nope nope")
        with pytest.raises(AuthenticationError, match="wrong login or password"):
            authenticate(session, "ghost", PASSWORD)
        admin = session.get_one(User, staff.admin)
        with pytest.raises(AuthenticationError, match="at least 8"):
            create_user(session, login="short", role="site_reader", password="abc", actor=admin)
        with pytest.raises(AuthenticationError, match="valid login"):
            create_user(session, login="bad login", role="site_reader", password=PASSWORD, actor=admin)
        stored = get_user(session, "site_reader").password_hash
        assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_disabling_a_user_is_audited_with_reason(database: Database, staff: Staff) -> None:
    with database.transaction() as session:
        admin = session.get_one(User, staff.admin)
        reader = session.get_one(User, staff.site_reader)
        with pytest.raises(ReasonRequiredError):
            update_user(session, reader, actor=admin, reason=" ", active=False)
        update_user(session, reader, actor=admin, reason="left the site", active=False)
    with database.transaction() as session:
        with pytest.raises(AuthenticationError, match="disabled"):
            authenticate(session, "site_reader", PASSWORD)
        events = list_events(session, entity=AuditEntity.USER, entity_id=staff.site_reader)
        assert [e.action for e in events] == ["create", "update"]
        assert events[-1].old_values == {"active": True}
        assert events[-1].new_values == {"active": False}
        assert events[-1].reason == "left the site"
        assert events[-1].actor_login == "admin"
        assert all("password_hash" not in str(e.new_values) for e in events)


def test_roles_and_permissions(database: Database, staff: Staff) -> None:
    with database.reading() as session:
        manager = session.get_one(User, staff.manager)
        reader = session.get_one(User, staff.site_reader)
        admin = session.get_one(User, staff.admin)
        assert has_permission(manager, Permission.IMPORT_IMAGES)
        assert has_permission(manager, Permission.EXPORT)
        assert not has_permission(manager, Permission.MANAGE_USERS)
        assert has_permission(admin, Permission.MANAGE_USERS)
        assert not has_permission(reader, Permission.EXPORT)


def test_trail_is_chained_and_verifies(database: Database, staff: Staff) -> None:
    with database.reading() as session:
        result = verify_trail(session)
        events = list_events(session)
    assert result.intact and result.events_checked == len(events) == result.head_sequence
    assert [e.sequence for e in events] == list(range(1, len(events) + 1))
    assert events[0].entity == "study" and events[0].actor_login == "system"
    assert all(e.occurred_at.tzinfo is not None for e in events)


def _drop_append_only_triggers(database: Database) -> None:
    with database.engine.begin() as connection:
        if database.is_sqlite:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_update")
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_delete")
        else:
            connection.exec_driver_sql("DROP TRIGGER audit_event_no_change ON audit_event")


def test_database_refuses_to_edit_the_trail(database: Database, staff: Staff) -> None:
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
        connection.execute(text("UPDATE audit_event SET reason = 'x' WHERE sequence = 2"))
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE sequence = 2"))


def test_edited_event_is_detected(database: Database, staff: Staff) -> None:
    _drop_append_only_triggers(database)
    with database.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_event SET new_values = :v WHERE sequence = 3"), {"v": '{"role":"admin"}'}
        )
    with database.reading() as session:
        result = verify_trail(session)
        assert not result.intact and result.first_bad_sequence == 3
        assert "event 3" in str(result.problem) and "altered" in str(result.problem)
        with pytest.raises(Exception, match="event 3"):
            require_intact(session)


def test_deleted_event_is_detected(database: Database, staff: Staff) -> None:
    _drop_append_only_triggers(database)
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_event WHERE sequence = 4"))
    with database.reading() as session:
        result = verify_trail(session)
    assert not result.intact and result.first_bad_sequence == 4
    assert "event 4 deleted" in str(result.problem)


def test_deleted_last_event_is_detected(database: Database, staff: Staff) -> None:
    _drop_append_only_triggers(database)
    with database.engine.begin() as connection:
        last = connection.execute(text("SELECT max(sequence) FROM audit_event")).scalar()
        connection.execute(text("DELETE FROM audit_event WHERE sequence = :s"), {"s": last})
    with database.reading() as session:
        result = verify_trail(session)
    assert not result.intact and result.first_bad_sequence == last
    assert "ends early" in str(result.problem)


def test_rolled_back_change_leaves_no_event(database: Database, staff: Staff) -> None:
    with database.reading() as session:
        before = verify_trail(session).head_sequence
    with pytest.raises(RuntimeError), database.transaction() as session:
        admin = session.get_one(User, staff.admin)
        record(session, actor=admin, entity=AuditEntity.USER, entity_id=1, action=AuditAction.UPDATE, new={})
        raise RuntimeError("crash before commit")
    with database.reading() as session:
        after = verify_trail(session)
    assert after.intact and after.head_sequence == before
