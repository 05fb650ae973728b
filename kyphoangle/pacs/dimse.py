"""Talking to a PACS over DICOM network services (pynetdicom): C-ECHO, C-FIND, C-GET, C-MOVE, C-STORE.

Every call opens one association and closes it; failures become `PacsError` with one line a user can
act on: the node cannot be reached (nothing listens, wrong host or port), it refused the association
(usually: it does not know our AE title, or the called AE title is wrong), it did not answer in time,
or it reported a failure status. A retrieve writes the films into a fresh folder and reports how many
of how many arrived; `retrieve_complete` refuses a partial one, so the caller imports nothing half-way.

`StorageServer` is kyphoangle's own Storage SCP: it receives films (C-STORE, from a C-MOVE or pushed by
a modality) into a folder, one file per instance, each written whole or not at all.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from pydicom import Dataset
from pydicom.uid import (
    JPEG2000,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLosslessSV1,
    JPEGLSLossless,
    RLELossless,
)
from pynetdicom import AE, build_role, evt
from pynetdicom.sop_class import (  # type: ignore[attr-defined]
    ComputedRadiographyImageStorage,
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    GrayscaleSoftcopyPresentationStateStorage,
    PatientRootQueryRetrieveInformationModelFind,
    PatientRootQueryRetrieveInformationModelGet,
    PatientRootQueryRetrieveInformationModelMove,
    SecondaryCaptureImageStorage,
    StudyRootQueryRetrieveInformationModelFind,
    StudyRootQueryRetrieveInformationModelGet,
    StudyRootQueryRetrieveInformationModelMove,
    Verification,
)

from kyphoangle.errors import KyphoangleError
from kyphoangle.output_file import output_binary, private_folder

OUR_AE_TITLE = "KYPHOANGLE"
_UID = re.compile(r"^[0-9]+(\.[0-9]+)*$")
DEFAULT_TIMEOUT_S = 10.0

FILM_STORAGE_CLASSES: tuple[str, ...] = (
    DigitalXRayImageStorageForPresentation,
    DigitalXRayImageStorageForProcessing,
    ComputedRadiographyImageStorage,
    SecondaryCaptureImageStorage,
)
"""The kinds of film kyphoangle receives: digital X-ray, computed radiography, secondary capture."""

REPORT_STORAGE_CLASSES: tuple[str, ...] = (
    "1.2.840.10008.5.1.4.1.1.88.33",  # Comprehensive SR
    GrayscaleSoftcopyPresentationStateStorage,
)
"""The kinds of object kyphoangle sends: its measurement reports and presentation states."""

FILM_TRANSFER_SYNTAXES: tuple[str, ...] = (
    ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian, JPEGBaseline8Bit,
    JPEGExtended12Bit, JPEGLosslessSV1, JPEGLSLossless, JPEG2000Lossless, JPEG2000, RLELossless,
)  # fmt: skip
"""Encodings accepted for films (those kyphoangle can decode)."""


class PacsError(KyphoangleError):
    """A PACS could not be reached, refused us, did not answer, or reported a failure."""


class QueryLevel(StrEnum):
    """What a C-FIND looks for."""

    PATIENT = "PATIENT"
    STUDY = "STUDY"
    SERIES = "SERIES"
    IMAGE = "IMAGE"


@dataclass(frozen=True, slots=True)
class DicomPeer:
    """A DIMSE node as one call needs it."""

    name: str
    ae_title: str
    host: str
    port: int
    calling_ae_title: str = OUR_AE_TITLE
    timeout_s: float = DEFAULT_TIMEOUT_S

    def where(self) -> str:
        """`NAME (AE@host:port)` for messages."""
        return f"{self.name} ({self.ae_title}@{self.host}:{self.port})"


@dataclass(frozen=True, slots=True)
class QueryMatch:
    """One C-FIND answer: the identifying attributes the node returned, by keyword."""

    level: QueryLevel
    attributes: dict[str, str]

    def get(self, keyword: str) -> str:
        """The attribute's value as text ('' when absent)."""
        return self.attributes.get(keyword, "")


@dataclass(frozen=True, slots=True)
class RetrieveResult:
    """What a C-GET or C-MOVE brought."""

    folder: Path
    files: tuple[Path, ...]
    completed: int
    failed: int
    warning: int
    status: int


RETURN_KEYS: dict[QueryLevel, tuple[str, ...]] = {
    QueryLevel.PATIENT: ("PatientID", "PatientName", "PatientBirthDate"),
    QueryLevel.STUDY: ("PatientID", "PatientName", "StudyInstanceUID", "StudyDate", "StudyDescription",
                       "AccessionNumber", "ModalitiesInStudy", "NumberOfStudyRelatedInstances"),
    QueryLevel.SERIES: ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "Modality", "SeriesNumber",
                        "SeriesDescription"),
    QueryLevel.IMAGE: ("PatientID", "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                       "SOPClassUID", "InstanceNumber"),
}  # fmt: skip


def _ae(peer: DicomPeer) -> AE:
    ae = AE(ae_title=peer.calling_ae_title)
    ae.maximum_pdu_size = 0  # no limit: films arrive in few large PDUs instead of thousands of 16 KB ones
    ae.acse_timeout = peer.timeout_s
    ae.dimse_timeout = peer.timeout_s
    ae.network_timeout = peer.timeout_s
    ae.connection_timeout = peer.timeout_s
    return ae


def _reachable(peer: DicomPeer) -> None:
    """Fail early with the network's own reason (pynetdicom only logs it)."""
    try:
        with socket.create_connection((peer.host, peer.port), timeout=peer.timeout_s):
            pass
    except TimeoutError:
        raise PacsError(f"{peer.where()} did not answer within {peer.timeout_s:g} s") from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise PacsError(f"{peer.where()} cannot be reached: {reason}") from None


def _associate(ae: AE, peer: DicomPeer, **kwargs: Any) -> Any:
    _reachable(peer)
    started = time.monotonic()
    assoc = ae.associate(peer.host, peer.port, ae_title=peer.ae_title, **kwargs)
    waited_s = time.monotonic() - started
    if assoc.is_established:
        return assoc
    if assoc.is_rejected:
        raise PacsError(
            f"{peer.where()} refused the association: check that it knows our AE title "
            f"{peer.calling_ae_title!r} and that its AE title is {peer.ae_title!r}"
        )
    if assoc.is_aborted and waited_s < peer.timeout_s * 0.9:
        raise PacsError(f"{peer.where()} aborted the association")
    raise PacsError(f"{peer.where()} did not answer the association request within {peer.timeout_s:g} s")


def _check_released(assoc: Any, peer: DicomPeer, what: str) -> None:
    if assoc.is_aborted:
        raise PacsError(f"{peer.where()} aborted the association during {what}")


def echo(peer: DicomPeer) -> None:
    """C-ECHO: PacsError unless the node answers with success."""
    ae = _ae(peer)
    ae.add_requested_context(Verification)
    assoc = _associate(ae, peer)
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or status.Status != 0x0000:
        raise PacsError(f"{peer.where()} did not confirm the echo (status {_status_text(status)})")


def _status_text(status: Dataset | None) -> str:
    if not status or "Status" not in status:
        return "none: the node did not answer in time"
    return f"0x{int(status.Status):04X}"


def _identifier(level: QueryLevel, filters: dict[str, str]) -> Dataset:
    query = Dataset()
    query.QueryRetrieveLevel = level.value
    for keyword in RETURN_KEYS[level]:
        setattr(query, keyword, "")
    for keyword, value in filters.items():
        if value:
            setattr(query, keyword, value)
    return query


def find(peer: DicomPeer, level: QueryLevel | str, **filters: str) -> list[QueryMatch]:
    """C-FIND at `level` with filters by DICOM keyword (PatientID, PatientName, StudyDate, Modality...)."""
    level = QueryLevel(level)
    model = (
        PatientRootQueryRetrieveInformationModelFind
        if level is QueryLevel.PATIENT
        else StudyRootQueryRetrieveInformationModelFind
    )
    if level is not QueryLevel.PATIENT and "ModalitiesInStudy" in filters and level is not QueryLevel.STUDY:
        filters = {k: v for k, v in filters.items() if k != "ModalitiesInStudy"}
    ae = _ae(peer)
    ae.add_requested_context(model)
    assoc = _associate(ae, peer)
    matches: list[QueryMatch] = []
    try:
        for status, identifier in assoc.send_c_find(_identifier(level, filters), model):
            if not status:
                raise PacsError(f"{peer.where()} did not answer the query within {peer.timeout_s:g} s")
            code = int(status.Status)
            if code in (0xFF00, 0xFF01) and identifier is not None:
                matches.append(
                    QueryMatch(level, {e.keyword: str(e.value) for e in identifier if e.keyword and e.value})
                )
            elif code not in (0x0000, 0xFF00, 0xFF01):
                raise PacsError(f"{peer.where()} refused the query (status 0x{code:04X})")
        _check_released(assoc, peer, "the query")
    finally:
        assoc.release()
    return matches


@dataclass
class _Received:
    folder: Path
    files: list[Path] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def store(self, event: Any) -> int:
        """Write one received instance as sent (C-STORE handler): 0x0000, or 0xA700 if it cannot be written.

        The bytes are written as they came, without decoding the dataset (films are megabytes).
        """
        uid = str(event.request.AffectedSOPInstanceUID or "")
        if not _UID.match(uid):
            return 0xC000  # not a UID: refuse rather than name a file after it
        path = self.folder / f"{uid}.dcm"
        try:
            with output_binary(path) as stream:
                stream.write(event.encoded_dataset(include_meta=True))
        except (OSError, KyphoangleError):
            return 0xA700
        with self.lock:
            self.files.append(path)
        return 0x0000


def _retrieve_identifier(study_uid: str, series_uid: str | None) -> Dataset:
    identifier = Dataset()
    identifier.QueryRetrieveLevel = "SERIES" if series_uid else "STUDY"
    identifier.StudyInstanceUID = study_uid
    if series_uid:
        identifier.SeriesInstanceUID = series_uid
    return identifier


def _collect(
    responses: Iterable[tuple[Dataset | None, Dataset | None]], peer: DicomPeer, what: str
) -> tuple[int, int, int, int]:
    completed = failed = warning = 0
    final = 0x0000
    got_any = False
    for status, _ in responses:
        if not status:
            raise PacsError(f"{peer.where()} did not answer the {what} within {peer.timeout_s:g} s")
        got_any = True
        final = int(status.Status)
        completed = int(status.get("NumberOfCompletedSuboperations", completed) or completed)
        failed = int(status.get("NumberOfFailedSuboperations", failed) or failed)
        warning = int(status.get("NumberOfWarningSuboperations", warning) or warning)
    if not got_any:
        raise PacsError(f"{peer.where()} gave no answer to the {what}")
    return completed, failed, warning, final


def get(
    peer: DicomPeer,
    folder: str | Path,
    *,
    study_uid: str | Sequence[str],
    series_uid: str | None = None,
) -> RetrieveResult:
    """C-GET a study, several studies (one request each, over one association) or one series into
    `folder`; the counts add up over the requests, the status is the worst one."""
    target = private_folder(folder)
    received = _Received(target)
    ae = _ae(peer)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelGet)
    ae.add_requested_context(PatientRootQueryRetrieveInformationModelGet)
    roles = []
    for sop_class in FILM_STORAGE_CLASSES:
        # One context per encoding: the node accepts one encoding per context, and with a single context
        # it would have to convert every film into that one (Orthanc cannot, for JPEG 2000, and fails).
        for syntax in FILM_TRANSFER_SYNTAXES:
            ae.add_requested_context(sop_class, syntax)
        roles.append(build_role(sop_class, scp_role=True))
    studies = [study_uid] if isinstance(study_uid, str) else list(study_uid)
    totals = [0, 0, 0]
    worst = 0x0000
    assoc = _associate(ae, peer, ext_neg=roles, evt_handlers=[(evt.EVT_C_STORE, received.store)])
    try:
        for study in studies:
            responses = assoc.send_c_get(
                _retrieve_identifier(study, series_uid), StudyRootQueryRetrieveInformationModelGet
            )
            completed, failed, warning, final = _collect(responses, peer, "retrieve")
            totals = [totals[0] + completed, totals[1] + failed, totals[2] + warning]
            worst = final if final != 0x0000 else worst
        _check_released(assoc, peer, "the retrieve")
    finally:
        assoc.release()
    return RetrieveResult(target, tuple(received.files), totals[0], totals[1], totals[2], worst)


def move(
    peer: DicomPeer, destination_ae: str, *, study_uid: str, series_uid: str | None = None
) -> tuple[int, int, int, int]:
    """C-MOVE a study (or series) to `destination_ae` (e.g. our `StorageServer`); (completed, failed,
    warning, final status)."""
    ae = _ae(peer)
    ae.add_requested_context(StudyRootQueryRetrieveInformationModelMove)
    ae.add_requested_context(PatientRootQueryRetrieveInformationModelMove)
    assoc = _associate(ae, peer)
    try:
        responses = assoc.send_c_move(
            _retrieve_identifier(study_uid, series_uid),
            destination_ae,
            StudyRootQueryRetrieveInformationModelMove,
        )
        result = _collect(responses, peer, "move")
        _check_released(assoc, peer, "the move")
    finally:
        assoc.release()
    return result


def retrieve_complete(result: RetrieveResult, peer: DicomPeer) -> RetrieveResult:
    """The result when every instance arrived; else PacsError saying how many of how many."""
    expected = result.completed + result.failed + result.warning
    if result.failed or result.status != 0x0000 or len(result.files) < result.completed:
        raise PacsError(
            f"{peer.where()}: the retrieve is incomplete ({len(result.files)} of {expected or '?'} films "
            f"arrived, status 0x{result.status:04X}); nothing was imported"
        )
    return result


def store(peer: DicomPeer, datasets: Sequence[Dataset]) -> int:
    """C-STORE the datasets (reports, presentation states) in one association; how many were stored."""
    ae = _ae(peer)
    classes = {str(ds.SOPClassUID) for ds in datasets}
    for sop_class in sorted(classes):
        ae.add_requested_context(sop_class, [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
    assoc = _associate(ae, peer)
    stored = 0
    try:
        for ds in datasets:
            status = assoc.send_c_store(ds)
            if not status:
                raise PacsError(f"{peer.where()} did not confirm storing {ds.SOPInstanceUID} in time")
            code = int(status.Status)
            if code != 0x0000 and not 0xB000 <= code <= 0xBFFF:
                raise PacsError(f"{peer.where()} refused to store {ds.SOPInstanceUID} (status 0x{code:04X})")
            stored += 1
        _check_released(assoc, peer, "the sending")
    finally:
        assoc.release()
    return stored


class StorageServer:
    """kyphoangle's Storage SCP: receives films into a folder until `stop()`."""

    def __init__(
        self,
        folder: str | Path,
        *,
        ae_title: str = OUR_AE_TITLE,
        host: str = "127.0.0.1",
        port: int = 11112,
        on_received: Callable[[Path], None] | None = None,
    ) -> None:
        self.folder = private_folder(folder)
        self._received = _Received(self.folder)
        self._on_received = on_received
        ae = AE(ae_title=ae_title)
        ae.maximum_pdu_size = 0
        for sop_class in FILM_STORAGE_CLASSES:
            ae.add_supported_context(sop_class, list(FILM_TRANSFER_SYNTAXES))
        ae.add_supported_context(Verification)
        try:
            server = ae.start_server((host, port), block=False, evt_handlers=[(evt.EVT_C_STORE, self._store)])
        except OSError as exc:
            raise PacsError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        if server is None:
            raise PacsError(f"cannot listen on {host}:{port}")
        self._server = server
        self.address = (host, port)

    def _store(self, event: Any) -> int:
        status = self._received.store(event)
        if status == 0x0000 and self._on_received is not None:
            self._on_received(self._received.files[-1])
        return status

    @property
    def files(self) -> list[Path]:
        """The files received so far."""
        with self._received.lock:
            return list(self._received.files)

    def stop(self) -> None:
        """Stop listening (associations in progress are ended)."""
        self._server.shutdown()
