"""PACS nodes: the DICOM and DICOMweb peers of the study, stored in the database and edited by admins.

A DIMSE node needs an AE title (1 to 16 characters of DICOM's AE repertoire, no backslash), a host and a
port (1-65535); a DICOMweb node an `http://` or `https://` base URL (the QIDO/WADO/STOW root). Every
creation, change and removal is written to the audit trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from kyphoangle.errors import KyphoangleError, NotFoundError, PermissionDeniedError
from kyphoangle.storage.audit import AuditAction, AuditEntity, record
from kyphoangle.storage.models import PacsNode, Site, User, utc_now
from kyphoangle.vocabulary import PacsProtocol, UserRole

_AE_TITLE = re.compile(r"^[\x20-\x5b\x5d-\x7e]{1,16}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class PacsNodeError(KyphoangleError):
    """A PACS node setting that cannot work (bad AE title, port, URL)."""


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """What an admin enters for a node."""

    name: str
    protocol: PacsProtocol
    ae_title: str | None = None
    host: str | None = None
    port: int | None = None
    url: str | None = None
    username: str | None = None
    site_code: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "protocol", PacsProtocol(self.protocol))
        if not _NAME.match(self.name):
            raise PacsNodeError(f"{self.name!r} is not a node name (letters, digits, '.', '_', '-')")
        if self.protocol is PacsProtocol.DIMSE:
            if not self.ae_title or not _AE_TITLE.match(self.ae_title) or not self.ae_title.strip():
                raise PacsNodeError(
                    f"{self.ae_title!r} is not an AE title (1 to 16 characters, no backslash)"
                )
            if not self.host:
                raise PacsNodeError("a DICOM node needs a host name or address")
            if self.port is None or not 1 <= self.port <= 65535:
                raise PacsNodeError(f"{self.port!r} is not a port number (1 to 65535)")
        else:
            parsed = urlparse(self.url or "")
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise PacsNodeError(f"{self.url!r} is not a DICOMweb URL (http:// or https://)")


def _require_admin(actor: User) -> None:
    if actor.role != UserRole.ADMIN:
        raise PermissionDeniedError("only administrators configure PACS nodes")


def _snapshot(node: PacsNode) -> dict[str, object]:
    return {
        "name": node.name,
        "protocol": node.protocol,
        "ae_title": node.ae_title,
        "host": node.host,
        "port": node.port,
        "url": node.url,
        "username": node.username,
        "site": node.site.code if node.site is not None else None,
    }


def list_nodes(session: Session) -> list[PacsNode]:
    """Every configured node, by name."""
    return list(session.scalars(select(PacsNode).order_by(PacsNode.name)))


def get_node(session: Session, name: str) -> PacsNode:
    """The node of that name; NotFoundError naming the configured ones otherwise."""
    node = session.scalar(select(PacsNode).where(PacsNode.name == name))
    if node is None:
        known = ", ".join(n.name for n in list_nodes(session)) or "none"
        raise NotFoundError(f"there is no PACS node {name!r} (configured: {known})")
    return node


def _apply(session: Session, node: PacsNode, settings: NodeSettings) -> None:
    node.name = settings.name
    node.protocol = settings.protocol
    node.ae_title = settings.ae_title if settings.protocol is PacsProtocol.DIMSE else None
    node.host = settings.host if settings.protocol is PacsProtocol.DIMSE else None
    node.port = settings.port if settings.protocol is PacsProtocol.DIMSE else None
    node.url = settings.url if settings.protocol is PacsProtocol.DICOMWEB else None
    node.username = settings.username
    site = None
    if settings.site_code:
        site = session.scalar(select(Site).where(Site.code == settings.site_code))
        if site is None:
            raise NotFoundError(f"there is no site {settings.site_code!r}")
    node.site = site
    node.updated_at = utc_now()


def save_node(session: Session, settings: NodeSettings, *, actor: User) -> PacsNode:
    """Create the node, or change the one of the same name (admins only, audited)."""
    _require_admin(actor)
    existing = session.scalar(select(PacsNode).where(PacsNode.name == settings.name))
    if existing is None:
        node = PacsNode(created_at=utc_now())
        _apply(session, node, settings)
        session.add(node)
        session.flush()
        record(
            session,
            actor=actor,
            entity=AuditEntity.PACS_NODE,
            entity_id=node.id,
            action=AuditAction.CREATE,
            new=_snapshot(node),
        )
        return node
    before = _snapshot(existing)
    _apply(session, existing, settings)
    session.flush()
    record(
        session,
        actor=actor,
        entity=AuditEntity.PACS_NODE,
        entity_id=existing.id,
        action=AuditAction.UPDATE,
        old=before,
        new=_snapshot(existing),
    )
    return existing


def delete_node(session: Session, name: str, *, actor: User) -> None:
    """Remove a node (admins only, audited)."""
    _require_admin(actor)
    node = get_node(session, name)
    record(
        session,
        actor=actor,
        entity=AuditEntity.PACS_NODE,
        entity_id=node.id,
        action=AuditAction.DELETE,
        old=_snapshot(node),
    )
    session.delete(node)
    session.flush()
