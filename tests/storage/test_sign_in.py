"""Sign-in: unknown logins take as long as wrong passwords, 5 failures lock for 15 minutes, all audited;
and on PostgreSQL the program's role may append to the audit trail but not change it."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.exc import ProgrammingError
from storage_helpers import PASSWORD

from kyphoangle.errors import AccountLockedError, AuthenticationError, ReasonRequiredError
from kyphoangle.storage import Database, open_database
from kyphoangle.storage.audit import AuditEntity, list_events, postgres_writer_grants
from kyphoangle.storage.integrity import verify_database
from kyphoangle.storage.models import User, UserRole, utc_now
from kyphoangle.storage.users import (
    LOCK_DURATION,
    MAX_FAILED_SIGN_INS,
    check_sign_in,
    create_user,
    get_user,
    set_password_hasher,
    sign_in,
    unlock_user,
)


def test_five_failures_lock_the_account_and_everything_is_audited(database: Database, staff: object) -> None:
    for _ in range(MAX_FAILED_SIGN_INS):
        with pytest.raises(AuthenticationError, match="wrong login or password"):
            sign_in(database, "site_reader", "not the password")
    with pytest.raises(AccountLockedError, match=r"locked until .* an admin can unlock it"):
        sign_in(database, "site_reader", PASSWORD)  # even the right password, while locked
    with pytest.raises(AuthenticationError, match="wrong login or password"):
        sign_in(database, "nobody\x1b[2J", PASSWORD)
    with database.reading() as session:
        reader = get_user(session, "site_reader")
        actions = [e.action for e in list_events(session, entity=AuditEntity.USER, entity_id=reader.id)]
        assert actions.count("sign_in_failed") == MAX_FAILED_SIGN_INS + 1 and actions.count("lock") == 1
        unknown = list_events(session, entity=AuditEntity.USER, entity_id="nobody[2J")
        assert [e.new_values["why"] for e in unknown] == ["unknown login"]
        later = utc_now() + LOCK_DURATION + dt.timedelta(seconds=1)
    with database.transaction() as session:  # 15 minutes later the lock has expired by itself
        outcome = check_sign_in(session, "site_reader", PASSWORD, now=later)
        assert outcome.error is None and outcome.user is not None
        session.rollback()
    with database.transaction() as session:
        admin = session.get_one(User, staff.admin)  # type: ignore[attr-defined]
        with pytest.raises(ReasonRequiredError):
            unlock_user(session, get_user(session, "site_reader"), actor=admin, reason="")
        unlock_user(session, get_user(session, "site_reader"), actor=admin, reason="phoned the reader")
    assert sign_in(database, "site_reader", PASSWORD) == staff.site_reader  # type: ignore[attr-defined]
    with database.reading() as session:
        reader = get_user(session, "site_reader")
        assert reader.failed_sign_ins == 0 and reader.locked_until is None
        actions = [e.action for e in list_events(session, entity=AuditEntity.USER, entity_id=reader.id)]
        assert actions[-2:] == ["unlock", "sign_in"]
        assert verify_database(session).intact


@pytest.fixture
def production_hashing() -> Iterator[None]:
    """Argon2 at its production cost, so that the time of a check dominates, as it does in use."""
    set_password_hasher(PasswordHasher())
    yield
    set_password_hasher(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_unknown_logins_answer_as_slowly_as_wrong_passwords(
    database: Database, production_hashing: None
) -> None:
    with database.transaction() as session:
        first = create_user(session, login="first", role=UserRole.ADMIN, password=PASSWORD, actor=None)
        for n in range(2):
            create_user(session, login=f"known{n}", role=UserRole.SITE_READER, password=PASSWORD, actor=first)
    known: list[float] = []
    unknown: list[float] = []
    for _ in range(4):  # 4 failures each: under the lock
        for login, times in (("first", known), ("nobody", unknown), ("known0", known), ("ghost", unknown),
                             ("known1", known), ("phantom", unknown)):  # fmt: skip
            start = time.perf_counter()
            with pytest.raises(AuthenticationError):
                sign_in(database, login, "wrong password here")
            times.append(time.perf_counter() - start)
    # The fastest of 12 tries each: the least disturbed by other programs on the machine.
    ratio = min(unknown) / min(known)
    assert 0.8 <= ratio <= 1.2, (known, unknown)


@pytest.mark.postgres
def test_the_program_role_may_append_to_the_trail_but_not_change_it(postgres_server: object) -> None:
    server = postgres_server
    name = f"writer_role_{time.monotonic_ns()}"
    server.execute(f"CREATE DATABASE {name}")  # type: ignore[attr-defined]
    owner = open_database(server.url(name))  # type: ignore[attr-defined]
    try:
        with owner.engine.begin() as connection:
            connection.exec_driver_sql("DROP ROLE IF EXISTS kyphoangle_app")
            connection.exec_driver_sql("CREATE ROLE kyphoangle_app LOGIN")
            for statement in postgres_writer_grants("kyphoangle_app"):
                connection.exec_driver_sql(statement)
        url = server.url(name).replace("postgres@", "kyphoangle_app@")  # type: ignore[attr-defined]
        app = open_database(url)
        with app.transaction() as session:
            create_user(session, login="first", role=UserRole.ADMIN, password=PASSWORD, actor=None)
        assert sign_in(app, "first", PASSWORD) > 0  # writes users and appends events
        app.dispose()
        engine = create_engine(url)
        try:
            for statement in (
                "UPDATE audit_event SET actor_login = 'mallory' WHERE sequence = 1",
                "DELETE FROM audit_event WHERE sequence = 1",
                "TRUNCATE audit_event",
            ):
                with pytest.raises(ProgrammingError, match="permission denied"), engine.begin() as connection:
                    connection.execute(text(statement))
        finally:
            engine.dispose()
        with owner.reading() as session:
            assert verify_database(session).intact
    finally:
        owner.dispose()
        server.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # type: ignore[attr-defined]
        server.execute("DROP ROLE IF EXISTS kyphoangle_app")  # type: ignore[attr-defined]
