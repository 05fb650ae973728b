"""Talking to a PACS over DICOMweb (dicomweb-client): QIDO-RS search, WADO-RS retrieve, STOW-RS store.

Authentication: none, HTTP basic (the node's user name; the password from `KYPHOANGLE_PACS_PASSWORD`),
or a bearer token (`KYPHOANGLE_PACS_TOKEN`); secrets are never stored in the database. TLS: an
`https://` URL is verified against the system's certificates, or the bundle named by
`KYPHOANGLE_PACS_CA_BUNDLE`. Network and HTTP failures become `PacsError` with one line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from dicomweb_client import DICOMwebClient
from dicomweb_client.session_utils import create_session, create_session_from_user_pass
from pydicom import Dataset

from kyphoangle.output_file import output_binary, private_folder
from kyphoangle.pacs.dimse import PacsError, QueryLevel, QueryMatch

ENV_PASSWORD = "KYPHOANGLE_PACS_PASSWORD"
ENV_TOKEN = "KYPHOANGLE_PACS_TOKEN"
ENV_CA_BUNDLE = "KYPHOANGLE_PACS_CA_BUNDLE"
DEFAULT_TIMEOUT_S = 30.0

_T = TypeVar("_T")

_KEYWORDS = {
    "00100020": "PatientID", "00100010": "PatientName", "0020000D": "StudyInstanceUID",
    "00080020": "StudyDate", "00081030": "StudyDescription", "00080050": "AccessionNumber",
    "00080061": "ModalitiesInStudy", "0020000E": "SeriesInstanceUID", "00080060": "Modality",
    "00080018": "SOPInstanceUID", "00080016": "SOPClassUID", "00201208": "NumberOfStudyRelatedInstances",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class WebPeer:
    """A DICOMweb node as one call needs it."""

    name: str
    url: str
    username: str | None = None
    timeout_s: float = DEFAULT_TIMEOUT_S

    def where(self) -> str:
        """`NAME (URL)` for messages."""
        return f"{self.name} ({self.url})"


def _client(peer: WebPeer) -> DICOMwebClient:
    session: requests.Session
    if peer.username:
        session = create_session_from_user_pass(peer.username, os.environ.get(ENV_PASSWORD, ""))
    else:
        session = create_session()
    bundle = os.environ.get(ENV_CA_BUNDLE)
    if bundle:
        session.verify = bundle
    headers = {}
    token = os.environ.get(ENV_TOKEN)
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return DICOMwebClient(peer.url, session=session, headers=headers or None, timeout=peer.timeout_s)


def _guarded(peer: WebPeer, what: str, call: Callable[[], _T]) -> _T:
    try:
        return call()
    except requests.exceptions.SSLError:
        raise PacsError(f"{peer.where()}: the server's certificate could not be verified ({what})") from None
    except requests.exceptions.Timeout:
        raise PacsError(f"{peer.where()} did not answer within {peer.timeout_s:g} s ({what})") from None
    except requests.exceptions.ConnectionError:
        raise PacsError(f"{peer.where()} cannot be reached ({what})") from None
    except requests.exceptions.HTTPError as exc:
        code = exc.response.status_code if exc.response is not None else 0
        reason = {401: "authentication failed", 403: "not allowed", 404: "not found"}.get(code, "refused")
        raise PacsError(f"{peer.where()}: {what} {reason} (HTTP {code})") from None


def _match(level: QueryLevel, item: dict[str, Any]) -> QueryMatch:
    attributes: dict[str, str] = {}
    for tag, keyword in _KEYWORDS.items():
        element = item.get(tag)
        values = element.get("Value") if element else None
        if values:
            value = values[0]
            attributes[keyword] = str(value.get("Alphabetic", "")) if isinstance(value, dict) else str(value)
    return QueryMatch(level, attributes)


def search_studies(peer: WebPeer, **filters: str) -> list[QueryMatch]:
    """QIDO-RS study search with filters by DICOM keyword (PatientID, StudyDate, ModalitiesInStudy...)."""
    client = _client(peer)
    found = _guarded(
        peer,
        "study search",
        lambda: client.search_for_studies(search_filters={k: v for k, v in filters.items() if v}),
    )
    return [_match(QueryLevel.STUDY, item) for item in found]


def search_series(peer: WebPeer, study_uid: str) -> list[QueryMatch]:
    """QIDO-RS series of one study."""
    client = _client(peer)
    found = _guarded(peer, "series search", lambda: client.search_for_series(study_instance_uid=study_uid))
    return [_match(QueryLevel.SERIES, item) for item in found]


def retrieve_study(peer: WebPeer, folder: str | Path, study_uid: str) -> list[Path]:
    """WADO-RS: every instance of the study into `folder` (one file each, written whole)."""
    target = private_folder(folder)
    client = _client(peer)
    written: list[Path] = []

    def fetch() -> None:
        instances: Iterator[Dataset] = client.iter_study(study_uid)
        for ds in instances:
            path = target / f"{ds.SOPInstanceUID}.dcm"
            with output_binary(path) as stream:
                ds.save_as(stream, enforce_file_format=True)
            written.append(path)

    _guarded(peer, "retrieve", fetch)
    return written


def store(peer: WebPeer, datasets: Sequence[Dataset]) -> int:
    """STOW-RS the datasets; how many the server stored (PacsError naming the refused ones)."""
    client = _client(peer)
    response = _guarded(peer, "store", lambda: client.store_instances(list(datasets)))
    failed = response.get("FailedSOPSequence") if response is not None else None
    if failed:
        uids = ", ".join(str(item.get("ReferencedSOPInstanceUID", "?")) for item in failed)
        raise PacsError(f"{peer.where()} refused to store {uids}")
    stored = response.get("ReferencedSOPSequence") if response is not None else None
    return len(stored) if stored is not None else len(datasets)
