"""Signed records: one current signed read per case, signatures bound to content, row digests, sign-in lock.

Schema: `read.campaign_case_id` and `read.read_version`; one amendment per read
(`uq_read_amends_read_id`); two partial unique indexes keeping one current signed read per image,
reader, read type and campaign case; the `signature` table; `app_user.failed_sign_ins` and
`locked_until`; `audit_event.row_digests`.

Existing data: each read gets its campaign case (from the worklists) and its version (following its
amendments); where a reader had several current signed reads of the same film, type and case, the
older ones are marked superseded by the newest, each with an audit event; every signed read gets its
signature (the reader, the signing time, the meaning of its read type) bound to its content as stored;
finally the digest of every table row is recorded in the audit trail, so `kyphoangle audit verify`
checks the records from this point on.

Revision ID: 0004_signed_records
Revises: 0003_user_site
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_signed_records"
down_revision = "0003_user_site"
branch_labels = None
depends_on = None

CURRENT_SIGNED = "status = 'signed' AND superseded_by_id IS NULL"
MEANINGS = ("site_read", "central_read", "repeat_read", "adjudication", "amendment")
MEANING_BY_TYPE = {"site": "site_read", "central": "central_read", "repeat": "repeat_read"}
REASON = "schema upgrade 0003: one current signed read per case"


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.add_column(sa.Column("failed_sign_ins", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("locked_until", sa.DateTime(timezone=False), nullable=True))
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.add_column(sa.Column("row_digests", sa.Text(), nullable=True))
    with op.batch_alter_table("read") as batch_op:
        batch_op.add_column(sa.Column("campaign_case_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("read_version", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_foreign_key(
            op.f("fk_read_campaign_case_id_campaign_case"), "campaign_case", ["campaign_case_id"], ["id"]
        )
        batch_op.create_index(op.f("ix_read_campaign_case_id"), ["campaign_case_id"], unique=False)
        batch_op.create_unique_constraint(op.f("uq_read_amends_read_id"), ["amends_read_id"])
    op.create_table(
        "signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("read_id", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.Integer(), nullable=False),
        sa.Column("signer_login", sa.String(length=64), nullable=False),
        sa.Column("signer_name", sa.String(length=200), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=False), nullable=False),
        sa.Column(
            "meaning",
            sa.Enum(*MEANINGS, name="signaturemeaning", native_enum=False, length=32),
            nullable=False,
        ),
        sa.Column("content_format", sa.String(length=40), nullable=False),
        sa.Column("content_sha256", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["read_id"], ["read.id"], name=op.f("fk_signature_read_id_read")),
        sa.ForeignKeyConstraint(["signer_id"], ["app_user.id"], name=op.f("fk_signature_signer_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signature")),
        sa.UniqueConstraint("read_id", name=op.f("uq_signature_read_id")),
    )
    connection = op.get_bind()
    _link_reads(connection)
    _supersede_duplicates(connection)
    _sign_existing(connection)
    for name, case_clause, columns in (
        ("uq_read_current_signed", "campaign_case_id IS NULL", ["image_id", "reader_id", "read_type"]),
        (
            "uq_read_current_signed_case",
            "campaign_case_id IS NOT NULL",
            ["image_id", "reader_id", "read_type", "campaign_case_id"],
        ),
    ):
        where = sa.text(f"{CURRENT_SIGNED} AND {case_clause}")
        op.create_index(name, "read", columns, unique=True, sqlite_where=where, postgresql_where=where)
    _record_baseline(connection)


def _link_reads(connection: sa.Connection) -> None:
    """Each read's campaign case (amendments inherit it) and version (1 + the version it amends)."""
    case_of: dict[int, int] = {
        int(read_id): int(case_id)
        for read_id, case_id in connection.execute(
            sa.text("SELECT read_id, case_id FROM worklist_item WHERE read_id IS NOT NULL")
        )
    }
    reads = connection.execute(sa.text("SELECT id, amends_read_id FROM read ORDER BY id")).all()
    versions: dict[int, int] = {}
    for read_id, amends in reads:
        versions[read_id] = versions.get(amends, 0) + 1 if amends is not None else 1
        if amends is not None and amends in case_of:
            case_of.setdefault(read_id, case_of[amends])
    for read_id, _ in reads:
        connection.execute(
            sa.text("UPDATE read SET read_version = :version, campaign_case_id = :case WHERE id = :id"),
            {"version": versions[read_id], "case": case_of.get(read_id), "id": read_id},
        )


def _supersede_duplicates(connection: sa.Connection) -> None:
    """Older current signed reads of the same image, reader, type and case: superseded by the newest."""
    from kyphoangle.storage.audit import append_event, canonical_json

    rows = connection.execute(
        sa.text(
            f"SELECT id, image_id, reader_id, read_type, campaign_case_id, signed_at FROM read "
            f"WHERE {CURRENT_SIGNED} ORDER BY id"
        )
    ).all()
    groups: dict[tuple[object, ...], list[tuple[object, int]]] = {}
    for read_id, image_id, reader_id, read_type, case_id, signed_at in rows:
        groups.setdefault((image_id, reader_id, read_type, case_id), []).append((str(signed_at), read_id))
    for members in groups.values():
        if len(members) < 2:
            continue
        members.sort()
        newest = members[-1][1]
        for _, older in members[:-1]:
            connection.execute(
                sa.text("UPDATE read SET superseded_by_id = :newest WHERE id = :older"),
                {"newest": newest, "older": older},
            )
            append_event(
                connection,
                actor_id=None,
                actor_login="system",
                entity="read",
                entity_id=str(older),
                action="supersede",
                old_values=canonical_json({"superseded_by_id": None}),
                new_values=canonical_json({"superseded_by_id": newest}),
                reason=f"{REASON}: read {newest} of the same film, reader and type was signed later",
            )


def _sign_existing(connection: sa.Connection) -> None:
    """A signature for every signed read: its reader, its signing time, bound to its content."""
    from kyphoangle.storage.signatures import CONTENT_FORMAT, content_sha256, read_contents

    reads = connection.execute(
        sa.text(
            "SELECT read.id, read.reader_id, read.signed_at, read.read_type, read.amends_read_id, "
            "app_user.login, app_user.full_name FROM read JOIN app_user ON app_user.id = read.reader_id "
            "WHERE read.status = 'signed' ORDER BY read.id"
        )
    ).all()
    if not reads:
        return
    digests = {
        content.read["id"]: content_sha256(content)
        for content in read_contents(connection, [row[0] for row in reads])
    }
    for read_id, reader_id, signed_at, read_type, amends, login, full_name in reads:
        meaning = "amendment" if amends is not None else MEANING_BY_TYPE.get(read_type, "adjudication")
        connection.execute(
            sa.text(
                "INSERT INTO signature (read_id, signer_id, signer_login, signer_name, signed_at, meaning, "
                "content_format, content_sha256) VALUES (:read_id, :signer_id, :login, :name, :signed_at, "
                ":meaning, :format, :digest)"
            ),
            {
                "read_id": read_id,
                "signer_id": reader_id,
                "login": login,
                "name": full_name or login,
                "signed_at": signed_at,
                "meaning": meaning,
                "format": CONTENT_FORMAT,
                "digest": digests[read_id],
            },
        )


def _record_baseline(connection: sa.Connection) -> None:
    """The digest of every row as the upgrade leaves it, in the audit trail."""
    from kyphoangle.storage.integrity import record_baseline

    record_baseline(
        connection, reason="schema upgrade 0003: digests of the rows as they are, checked by audit verify"
    )


def downgrade() -> None:
    op.drop_index("uq_read_current_signed_case", table_name="read")
    op.drop_index("uq_read_current_signed", table_name="read")
    op.drop_table("signature")
    with op.batch_alter_table("read") as batch_op:
        batch_op.drop_constraint(op.f("uq_read_amends_read_id"), type_="unique")
        batch_op.drop_index(op.f("ix_read_campaign_case_id"))
        batch_op.drop_constraint(op.f("fk_read_campaign_case_id_campaign_case"), type_="foreignkey")
        batch_op.drop_column("read_version")
        batch_op.drop_column("campaign_case_id")
    with op.batch_alter_table("audit_event") as batch_op:
        batch_op.drop_column("row_digests")
    with op.batch_alter_table("app_user") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_sign_ins")
