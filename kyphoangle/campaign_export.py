"""CSV export of a reading campaign: blinded measurement rows, and a separate, audited key file.

The measurement file has one row per measurement per read of the campaign (central, repeat and
adjudication reads; current reads only, drafts included with their status) with the case code, the
reader and their slot (`reader_1` ... `reader_6` for however many readers the campaign has, or
`adjudicator`), the read type and whether the read is the case's final read (see
`kyphoangle.campaign`), the read's version and its signature (signer, time, meaning). Rows come by
case, then slot (adjudicator first), then presentation. It holds no subject, visit, film date, site
or film identifier, so it can go to the statisticians as it is. Both files are private (0600) and
written whole or not at all.

The key file maps each case code to its subject and visit. It is written only on request, only by a
data manager or an admin, and every writing is recorded in the audit trail.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.campaign import campaign_reads, final_reads
from kyphoangle.output_file import output_text
from kyphoangle.storage.audit import AuditAction, AuditEntity, record
from kyphoangle.storage.images import visit_label
from kyphoangle.storage.models import Campaign, CampaignCase, Image, Signature, User
from kyphoangle.storage.reads import measurements_of
from kyphoangle.storage.users import Permission, require_permission
from kyphoangle.text_safety import csv_record

CAMPAIGN_COLUMNS: tuple[str, ...] = (
    "campaign", "case_code", "reader", "reader_role", "read_type", "read_id", "read_status", "final",
    "measurement", "level", "value", "unit", "normal_table", "normal_table_version", "endpoints",
    "not_computed", "missing_landmarks", "read_version", "amends_read_id", "signed_by", "signed_at_utc",
    "signature_meaning",
)  # fmt: skip
"""Columns of the campaign CSV; nothing identifies a patient, a film, a date, a visit or a site."""

KEY_COLUMNS: tuple[str, ...] = ("campaign", "case_code", "subject", "visit")
"""Columns of the key file."""


@dataclass(frozen=True, slots=True)
class CampaignExportSummary:
    """What was written."""

    path: Path
    rows: int
    reads: int
    key_path: Path | None


def _number(value: float | None) -> str:
    return "" if value is None else repr(round(value, 6))


def campaign_rows(session: Session, campaign: Campaign) -> list[dict[str, str]]:
    """The rows of the campaign CSV, by case, reader and read."""
    finals = set(final_reads(session, campaign).values())
    reads = list(campaign_reads(session, campaign))
    signatures = {
        signature.read_id: signature
        for signature in session.scalars(
            select(Signature).where(Signature.read_id.in_([read.id for *_, read in reads]))
        )
    }
    rows: list[dict[str, str]] = []
    for case_code, role, _, read in reads:
        signature = signatures.get(read.id)
        signed = {
            "read_version": str(read.read_version),
            "amends_read_id": "" if read.amends_read_id is None else str(read.amends_read_id),
            "signed_by": signature.signer_login if signature is not None else "",
            "signed_at_utc": signature.signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            if signature is not None
            else "",
            "signature_meaning": signature.meaning.label if signature is not None else "",
        }
        for (name, level), m in sorted(
            measurements_of(read).items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
        ):
            rows.append(
                {
                    "campaign": campaign.code,
                    "case_code": case_code,
                    "reader": read.reader.login,
                    "reader_role": str(role),
                    "read_type": str(read.read_type),
                    "read_id": str(read.id),
                    "read_status": str(read.status),
                    "final": "1" if read.id in finals else "0",
                    "measurement": name,
                    "level": level or "",
                    "value": _number(m.value),
                    "unit": str(m.unit),
                    "normal_table": m.normal_table_name or "",
                    "normal_table_version": m.normal_table_version or "",
                    "endpoints": m.endpoints or "",
                    "not_computed": m.not_computed_reason or "",
                    "missing_landmarks": m.missing_landmarks,
                    **signed,
                }
            )
    return rows


def _write(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> None:
    """Private (0600), all or nothing, text cells neutralised against spreadsheet formulas."""
    with output_text(path, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(csv_record(row) for row in rows)


def export_campaign(
    session: Session, campaign: Campaign, out: str | Path, *, actor: User, key: str | Path | None = None
) -> CampaignExportSummary:
    """Write the campaign CSV (and the key file when asked; data managers and admins only, audited).

    Call in a write transaction when `key` is given: the key's audit event is part of it.
    """
    require_permission(actor, Permission.EXPORT)
    path = Path(out)
    rows = campaign_rows(session, campaign)
    _write(path, CAMPAIGN_COLUMNS, rows)
    key_path = write_key_file(session, campaign, key, actor=actor) if key is not None else None
    return CampaignExportSummary(path, len(rows), len({row["read_id"] for row in rows}), key_path)


def write_key_file(session: Session, campaign: Campaign, out: str | Path, *, actor: User) -> Path:
    """Write the case code to subject and visit key (data managers and admins); audited."""
    require_permission(actor, Permission.VIEW_IDENTITY)
    path = Path(out)
    cases = session.execute(
        select(CampaignCase.case_code, Image)
        .join(Image, Image.id == CampaignCase.image_id)
        .where(CampaignCase.campaign_id == campaign.id)
        .order_by(CampaignCase.case_code)
    ).all()
    rows = [
        {
            "campaign": campaign.code,
            "case_code": code,
            "subject": image.subject.code,
            "visit": visit_label(image),
        }
        for code, image in cases
    ]
    _write(path, KEY_COLUMNS, rows)
    record(
        session,
        actor=actor,
        entity=AuditEntity.CAMPAIGN,
        entity_id=campaign.id,
        action=AuditAction.EXPORT,
        new={"key_file": str(path.resolve()), "cases": len(rows), "campaign": campaign.code},
        reason="campaign key file written (case codes to subjects and visits)",
    )
    return path
