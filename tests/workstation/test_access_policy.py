"""The access policy: its documentation is generated from it, and its words are the refusals users read."""

from __future__ import annotations

from pathlib import Path

import pytest

from kyphoangle.errors import PermissionDeniedError
from kyphoangle.vocabulary import UserRole
from kyphoangle.workstation.access import (
    POLICY,
    Action,
    Field,
    Scope,
    access_document,
    require,
    visible_fields,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "access.md"


def test_the_documented_matrix_is_the_policy() -> None:
    assert DOCS.read_text(encoding="utf-8") == access_document(), (
        "docs/access.md is out of date: run `python -m kyphoangle.workstation.access docs/access.md`"
    )


def test_every_role_has_a_word_for_every_action() -> None:
    for role in UserRole:
        assert set(POLICY[role]) == set(Action), role


def test_a_refusal_names_the_role_and_the_action() -> None:
    with pytest.raises(PermissionDeniedError, match=r"^central readers cannot list image paths$"):
        require(UserRole.CENTRAL_READER, Action.LIST_IMAGE_PATHS)
    assert require(UserRole.DATA_MANAGER, Action.LIST_IMAGE_PATHS) is Scope.ALL


def test_blinded_roles_see_no_identity() -> None:
    identifying = {Field.SUBJECT_CODE, Field.PATIENT_IDENTITY, Field.SITE, Field.VISIT, Field.DATES}
    identifying |= {Field.ORIGINAL_UID, Field.FILE_PATH, Field.READER}
    for role in (UserRole.CENTRAL_READER, UserRole.ADJUDICATOR):
        assert not visible_fields(role) & identifying, role
        for action in Action:
            assert (
                POLICY[role][action] in (Scope.NONE, Scope.ASSIGNED, Scope.OWN)
                or action is Action.VERIFY_AUDIT
            )


def test_readers_manage_nothing_and_managers_sign_nothing() -> None:
    for role in (UserRole.SITE_READER, UserRole.CENTRAL_READER, UserRole.ADJUDICATOR):
        for action in (
            Action.MANAGE_USERS,
            Action.MANAGE_CAMPAIGNS,
            Action.IMPORT_IMAGES,
            Action.EXPORT_STUDY,
        ):
            assert POLICY[role][action] is Scope.NONE
    for role in (UserRole.DATA_MANAGER, UserRole.ADMIN):
        for action in (Action.SIGN, Action.AMEND, Action.ADJUDICATE, Action.READ_CASES):
            assert POLICY[role][action] is Scope.NONE


def test_exchange_is_for_data_managers_and_admins_and_pacs_nodes_for_admins() -> None:
    exchange = (
        Action.EXPORT_DICOM_REPORTS,
        Action.IMPORT_DICOM_REPORTS,
        Action.EXPORT_EDC,
        Action.MONITOR,
        Action.LIST_PACS_NODES,
        Action.QUERY_PACS,
        Action.RETRIEVE_FROM_PACS,
        Action.SEND_TO_PACS,
    )
    for role in UserRole:
        managing = role in (UserRole.DATA_MANAGER, UserRole.ADMIN)
        for action in exchange:
            assert (POLICY[role][action] is Scope.ALL) is managing, (role, action)
        assert (POLICY[role][Action.MANAGE_PACS_NODES] is Scope.ALL) is (role is UserRole.ADMIN), role
