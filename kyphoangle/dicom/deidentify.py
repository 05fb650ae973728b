"""De-identification of a film to DICOM PS3.15: Basic Application Confidentiality Profile with the Clean
Descriptors, Clean Structured Content and Retain Device Identity options.

The action for each attribute comes from PS3.15 Table E.1-1 as generated from the standard by the
dicom-anonymizer package (its 2026c table: D, Z, X, U and their combinations); the option columns used
here are the table's "Retain Device Identity" (K: kept) and "Clean Structured Content" (C: the
sequence is kept and its content cleaned). Rules, applied at every depth of every sequence:

- private attributes (odd groups) are removed, at every depth; overlays and curves (groups 60xx, 50xx)
  too (they may hold burned annotations);
- X removes, Z empties, D replaces with a dummy; when the table allows several, the attribute is
  emptied if the radiograph's IOD requires it (Type 1 or 2), else removed;
- U (every UID that identifies an instance, series, study or frame of reference) is replaced by a
  keyed hash: `2.25.` and 128 bits of HMAC-SHA-256 of the original UID and the case code under the
  campaign's secret, so two copies of one case agree and no original UID can be recovered without
  the secret;
- Clean Descriptors: descriptions and free text are cleaned by removing (or emptying) them, since no
  program can prove free text clean; attributes the table does not list are kept only when they are
  coded values, numbers or what a reader needs (manufacturer and model, per Retain Device Identity);
  Rescale Type, window explanations and LUT explanations are replaced by neutral values;
- code sequence items keep their code value and scheme; the code meaning is replaced by the standard's
  own (PS3.16) or the code value;
- JPEG and JPEG-LS COM and APPn segments, and JPEG 2000 COM segments of the main header and of every
  tile-part header, are removed from every compressed frame without decoding or re-encoding;
- Patient Identity Removed is YES, Longitudinal Temporal Information Modified is REMOVED, and the
  De-identification Method (Code Sequence) names the profile and the options.

Text burned into the pixels cannot be removed here: Burned In Annotation (0028,0301) is kept, so the
data manager can see it (a documented limit).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydicom import uid
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

PROFILE_CODES: tuple[tuple[str, str], ...] = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113105", "Clean Descriptors Option"),
    ("113104", "Clean Structured Content Option"),
    ("113109", "Retain Device Identity Option"),
)
"""DCM codes (PS3.16 CID 7050) of what was applied, in the De-identification Method Code Sequence."""

DEIDENTIFICATION_METHOD = (
    "DICOM PS3.15 Basic Profile (kyphoangle)",
    "Clean Descriptors Option",
    "Clean Structured Content Option",
    "Retain Device Identity Option",
)
"""De-identification Method (0012,0063), one value (of at most 64 characters) per part."""

RETAIN_DEVICE_IDENTITY: frozenset[int] = frozenset(
    {
        0x00181007, 0x0018700A, 0x00500020, 0x3010002D, 0x00181000, 0x00181002, 0x00181008, 0x00181005,
        0x0016004F, 0x00160050, 0x00160051, 0x0016004E, 0x0018100B, 0x30100043, 0x00400241, 0x00404030,
        0x00400242, 0x00404028, 0x00181004, 0x00400011, 0x00400001, 0x00404027, 0x00400010, 0x00404025,
        0x00321020, 0x00321021, 0x300A0216, 0x30080105, 0x00081010, 0x00185011, 0x300A00B2, 0x0018100A,
        0x00181009, 0x00189371, 0x00189373, 0x00189367,
    }
)  # fmt: skip
"""Attributes marked K in the Retain Device Identity Option column of PS3.15 Table E.1-1."""

CLEAN_STRUCTURED_CONTENT: frozenset[int] = frozenset({0x00400555, 0x0040A730, 0x00400610})
"""Sequences marked C in the Clean Structured Content Option column: kept, their content cleaned."""

REQUIRED_IN_RADIOGRAPHS: frozenset[int] = frozenset(
    {
        0x00100010, 0x00100020, 0x00100030, 0x00100040, 0x00080020, 0x00080030, 0x00080090, 0x00200010,
        0x00080050, 0x00200011, 0x00200013, 0x00080070, 0x00200020, 0x00080023, 0x00080033,
    }
)  # fmt: skip
"""Type 1 and 2 attributes of the CR and DX IODs that the profile empties rather than removes."""

KEPT_TEXT: frozenset[str] = frozenset(
    {
        "Manufacturer", "ManufacturerModelName", "SoftwareVersions", "DetectorManufacturerName",
        "DetectorManufacturerModelName", "SpecificCharacterSet",
    }
)  # fmt: skip
"""Free-text attributes not in the table that a reader or the trial needs (device identity)."""

RESCALE_TYPES = frozenset({"OD", "HU", "US", "MGML", "Z_EFF", "ED", "EDW", "HU_MOD", "PCT"})
"""Defined terms of Rescale Type (PS3.3 C.11.1.1.2); anything else becomes US (unspecified)."""

_FREE_TEXT_VRS = frozenset({"LO", "LT", "SH", "ST", "UT", "UC", "PN", "AE", "UR", "OB", "UN"})
_CODE_ITEM_KEYWORDS = ("CodeValue", "CodingSchemeDesignator", "CodingSchemeVersion", "LongCodeValue")
_SAFE_CODE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
_JPEG_FAMILY = frozenset(
    {
        uid.JPEGBaseline8Bit, uid.JPEGExtended12Bit, uid.JPEGLossless, uid.JPEGLosslessSV1,
        uid.JPEGLSLossless, uid.JPEGLSNearLossless,
    }
)  # fmt: skip
_J2K_FAMILY = frozenset(
    {uid.JPEG2000Lossless, uid.JPEG2000, uid.HTJ2KLossless, uid.HTJ2KLosslessRPCL, uid.HTJ2K}
)


@functools.cache
def _table() -> tuple[dict[int, str], tuple[tuple[int, int, int, int, str], ...]]:
    """Tag -> action of PS3.15 Table E.1-1 (exact tags, then masked ranges such as 60xx,3000)."""
    from dicomanonymizer.dicom_anonymization_databases import (  # type: ignore[import-untyped]
        dicomfields_2026c as table,
    )

    exact: dict[int, str] = {}
    masked: list[tuple[int, int, int, int, str]] = []
    for name, action in (
        ("D_TAGS", "D"), ("Z_TAGS", "Z"), ("X_TAGS", "X"), ("U_TAGS", "U"), ("Z_D_TAGS", "Z/D"),
        ("X_Z_TAGS", "X/Z"), ("X_D_TAGS", "X/D"), ("X_Z_D_TAGS", "X/Z/D"), ("X_Z_U_STAR_TAGS", "X/Z/U*"),
    ):  # fmt: skip
        for entry in getattr(table, name):
            if len(entry) == 2:
                exact[(entry[0] << 16) | entry[1]] = action
            else:
                group, element, group_mask, element_mask = entry
                masked.append((group, element, group_mask, element_mask, action))
    return exact, tuple(masked)


def profile_action(tag: int) -> str | None:
    """The Basic Profile's action for an attribute (e.g. "X/Z/D"), None when the table does not list it."""
    exact, masked = _table()
    found = exact.get(tag)
    if found is not None:
        return found
    group, element = tag >> 16, tag & 0xFFFF
    for g, e, group_mask, element_mask, action in masked:
        if group & group_mask == g and element & element_mask == e:
            return action
    return None


def keyed_uid(original: str, key: bytes, case_code: str) -> str:
    """The replacement of a UID: `2.25.` + 128 bits of HMAC-SHA-256(key, UID + case code)."""
    digest = hmac.new(key, f"{original}\n{case_code}".encode(), hashlib.sha256).digest()
    return f"2.25.{int.from_bytes(digest[:16], 'big')}"


@functools.cache
def _code_meanings() -> dict[tuple[str, str], str]:
    """(scheme, value) -> meaning from pydicom's PS3.16 concept dictionary."""
    from pydicom.sr._concepts_dict import concepts

    meanings: dict[tuple[str, str], str] = {}
    table: dict[str, dict[str, dict[str, tuple[str, Any]]]] = concepts  # type: ignore[assignment]
    for scheme, names in table.items():
        for entries in names.values():
            for value, (meaning, _cids) in entries.items():
                meanings[(scheme, str(value))] = str(meaning)
    return meanings


def deidentify(ds: Dataset, *, key: bytes, case_code: str) -> None:
    """De-identify `ds` in place (see the module); file meta is left to the caller."""
    _clean(ds, key=key, case_code=case_code, top=True)
    ds.PatientName = case_code
    ds.PatientID = case_code
    ds.PatientIdentityRemoved = "YES"
    ds.LongitudinalTemporalInformationModified = "REMOVED"
    ds.DeidentificationMethod = list(DEIDENTIFICATION_METHOD)
    items = []
    for value, meaning in PROFILE_CODES:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = Sequence(items)


def _clean(ds: Dataset, *, key: bytes, case_code: str, top: bool) -> None:
    is_code_item = "CodeValue" in ds or "LongCodeValue" in ds
    for elem in list(ds):
        tag = int(elem.tag)
        if BaseTag(tag).is_private or (tag >> 16) & 0xFF00 in (0x5000, 0x6000) or tag == 0xFFFCFFFC:
            del ds[tag]
            continue
        if (tag >> 16) == 0x0002:
            continue
        if tag in RETAIN_DEVICE_IDENTITY:
            if elem.VR == "SQ":
                _clean_items(elem, key=key, case_code=case_code)
            continue
        if tag in CLEAN_STRUCTURED_CONTENT and elem.VR == "SQ":
            _clean_items(elem, key=key, case_code=case_code)
            continue
        action = profile_action(tag)
        if action is not None:
            _apply(ds, elem, action, key=key, case_code=case_code, top=top)
        elif elem.VR == "SQ":
            _clean_items(elem, key=key, case_code=case_code)
        elif is_code_item and elem.keyword in (*_CODE_ITEM_KEYWORDS, "CodeMeaning"):
            _clean_code_item_value(ds, elem)
        elif elem.VR in _FREE_TEXT_VRS and tag not in (0x7FE00010,):
            _clean_free_text(ds, elem, top=top)


def _clean_items(elem: DataElement, *, key: bytes, case_code: str) -> None:
    for item in elem.value or []:
        _clean(item, key=key, case_code=case_code, top=False)


def _apply(ds: Dataset, elem: DataElement, action: str, *, key: bytes, case_code: str, top: bool) -> None:
    tag = int(elem.tag)
    if "U" in action and elem.VR == "UI":
        values = elem.value if isinstance(elem.value, list | tuple) or _is_multi(elem.value) else [elem.value]
        replaced = [keyed_uid(str(v), key, case_code) for v in values if str(v)]
        elem.value = replaced[0] if len(replaced) == 1 else replaced
        return
    if action == "X/Z/U*" and elem.VR == "SQ":
        _clean_items(elem, key=key, case_code=case_code)
        return
    required = top and tag in REQUIRED_IN_RADIOGRAPHS
    if action in ("X", "X/D") and not required:
        del ds[tag]
    elif elem.VR == "SQ":
        if required:
            elem.value = Sequence()
        else:
            del ds[tag]
    elif action.startswith("X") and not required:
        del ds[tag]
    elif action in ("D",) and elem.VR in ("PN", "LO", "SH", "LT", "ST", "UT", "UC"):
        elem.value = "REMOVED"
    else:
        elem.value = None  # Z (or a Z/D choice): empty


def _clean_code_item_value(ds: Dataset, elem: DataElement) -> None:
    if elem.keyword == "CodeMeaning":
        scheme, value = str(ds.get("CodingSchemeDesignator", "")), str(ds.get("CodeValue", ""))
        known = _code_meanings().get((scheme, value)) or _code_meanings().get(("SRT", value))
        elem.value = known or (value if _SAFE_CODE.match(value) else "unknown")
    elif not _SAFE_CODE.match(str(elem.value or "")):
        elem.value = "unknown"


def _clean_free_text(ds: Dataset, elem: DataElement, *, top: bool) -> None:
    keyword = elem.keyword
    if keyword in KEPT_TEXT:
        return
    if keyword == "RescaleType":
        elem.value = str(elem.value) if str(elem.value) in RESCALE_TYPES else "US"
    elif keyword == "WindowCenterWidthExplanation":
        count = len(elem.value) if _is_multi(elem.value) else 1
        elem.value = [f"WINDOW {n + 1}" for n in range(count)] if count > 1 else "WINDOW 1"
    elif keyword == "LUTExplanation":
        elem.value = "VOI LUT"
    elif keyword == "TextValue":  # the value of a structured content item: its concept stays
        elem.value = "REMOVED"
    elif keyword == "PixelSpacingCalibrationDescription":
        elem.value = "calibrated"
    elif top and int(elem.tag) in REQUIRED_IN_RADIOGRAPHS:
        elem.value = None
    else:
        del ds[elem.tag]


def _is_multi(value: Any) -> bool:
    return isinstance(value, list | tuple) or type(value).__name__ == "MultiValue"


def strip_jpeg_comments(frame: bytes, transfer_syntax: str) -> bytes:
    """A compressed frame (all its fragments joined) without its comment segments, not re-encoded.

    JPEG (baseline, extended, lossless) and JPEG-LS: every COM and APPn segment, before the first scan
    and between scans (the 12-byte Adobe APP14 colour transform segment is kept). JPEG 2000 and
    High-Throughput JPEG 2000: every COM segment of the main header and of every tile-part header, with
    each shortened tile-part's length (Psot) and its entry in the tile-part lengths (TLM) corrected.
    Everything else is copied byte for byte. Where the structure cannot be followed (a damaged frame),
    the rest of the frame is copied as it is. Other encodings are returned as they are.
    """
    if transfer_syntax in _JPEG_FAMILY:
        return _strip_jpeg(frame)
    if transfer_syntax in _J2K_FAMILY:
        return _strip_j2k(frame)
    return frame


def _strip_jpeg(frame: bytes) -> bytes:
    if frame[:2] != b"\xff\xd8":
        return frame
    out = bytearray(frame[:2])
    at = 2
    size = len(frame)
    while at + 4 <= size:
        if frame[at] != 0xFF:
            return frame  # not a marker where one must be: leave the frame as it is
        marker = frame[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            out += frame[at:]
            return bytes(out)
        length = int.from_bytes(frame[at + 2 : at + 4], "big")
        end = at + 2 + length
        is_comment = marker == 0xFE or (0xE0 <= marker <= 0xEF and not _adobe(frame[at + 4 : end]))
        if not is_comment:
            out += frame[at:end]
        if marker == 0xDA:  # start of scan: copy entropy-coded data up to the next real marker
            scan_end = _entropy_end(frame, end)
            out += frame[end:scan_end]
            end = scan_end
        at = end
    out += frame[at:]
    return bytes(out)


def _adobe(payload: bytes) -> bool:
    """The 12-byte Adobe APP14 segment only says how colours were transformed: kept."""
    return payload.startswith(b"Adobe") and len(payload) == 12


def _entropy_end(frame: bytes, at: int) -> int:
    """Where the entropy-coded data of a scan ends: the next marker other than a restart marker.

    After 0xFF, 10918 data has 0x00 (stuffing) and 14495 (JPEG-LS) data a byte below 0x80, while
    markers are 0xC0 or above; restart markers (0xD0-0xD7) belong to the scan.
    """
    size = len(frame)
    while at + 1 < size:
        following = frame[at + 1]
        if frame[at] == 0xFF and following >= 0xC0 and not 0xD0 <= following <= 0xD7 and following != 0xFF:
            return at
        at += 1
    return size


_SOC, _SOT, _SOD, _EOC = b"\xff\x4f", b"\xff\x90", b"\xff\x93", b"\xff\xd9"
_J2K_COM, _TLM = b"\xff\x64", b"\xff\x55"


class _UnfollowableError(Exception):
    """The codestream's structure cannot be followed there: the rest is copied as it is."""


def _strip_j2k(frame: bytes) -> bytes:
    """A JPEG 2000 codestream without the COM segments of its main header and tile-part headers."""
    if frame[:2] != _SOC:
        return frame
    try:
        return _strip_j2k_codestream(frame)
    except _UnfollowableError:
        return frame


def _j2k_segments(frame: bytes, at: int, end: int, stop: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each marker segment from `at` up to the marker `stop` (not included)."""
    while frame[at : at + 2] != stop:
        if at + 4 > end or frame[at] != 0xFF:
            raise _UnfollowableError
        length = int.from_bytes(frame[at + 2 : at + 4], "big")
        if length < 2 or at + 2 + length > end:
            raise _UnfollowableError
        yield at, at + 2 + length
        at += 2 + length


def _strip_j2k_codestream(frame: bytes) -> bytes:
    size = len(frame)
    out = bytearray(_SOC)
    at = 2
    tlm_segments: list[int] = []  # where each TLM segment starts in `out`
    for start, end in _j2k_segments(frame, 2, size, _SOT):
        if frame[start : start + 2] == _TLM:
            tlm_segments.append(len(out))
        if frame[start : start + 2] != _J2K_COM:
            out += frame[start:end]
        at = end
    lengths: list[tuple[int, int]] = []  # (original, new) length of each tile-part, in order
    last = frame.rfind(_EOC)
    while frame[at : at + 2] == _SOT:
        try:
            part = _strip_tile_part(frame, at, last)
        except _UnfollowableError:
            break  # a damaged tile-part: it and what follows are copied as they are
        lengths.append((len(part.original), len(part.cleaned)))
        out += part.cleaned
        at += len(part.original)
    out += frame[at:]  # the end of codestream (and the padding of an odd length)
    if tlm_segments and any(old != new for old, new in lengths):
        _correct_tlm(out, tlm_segments, lengths)
    return bytes(out)


@dataclass(frozen=True, slots=True)
class _TilePart:
    original: bytes
    cleaned: bytes


def _strip_tile_part(frame: bytes, at: int, last: int) -> _TilePart:
    """The tile-part starting at `at` without the COM segments of its header, its Psot corrected."""
    if at + 12 > len(frame):
        raise _UnfollowableError
    psot = int.from_bytes(frame[at + 6 : at + 10], "big")
    end = at + psot if psot else last  # Psot 0: the last tile-part, up to the end of codestream
    if end < at + 14 or end > len(frame):
        raise _UnfollowableError
    part = bytearray(frame[at : at + 12])
    sod = at + 12
    for start, stop in _j2k_segments(frame, at + 12, end, _SOD):
        if frame[start : start + 2] != _J2K_COM:
            part += frame[start:stop]
        sod = stop
    part += frame[sod:end]
    if psot:
        part[6:10] = len(part).to_bytes(4, "big")
    return _TilePart(frame[at:end], bytes(part))


def _correct_tlm(out: bytearray, segments: list[int], lengths: list[tuple[int, int]]) -> None:
    """Rewrite the tile-part lengths (Ptlm) of the TLM segments, in tile-part order, for the new lengths.

    An entry that did not give the original length (an inconsistent TLM) is left as it is.
    """
    remaining = iter(lengths)
    for at in sorted(segments, key=lambda start: out[start + 4]):  # in Ztlm order
        end = at + 2 + int.from_bytes(out[at + 2 : at + 4], "big")
        stlm = out[at + 5]
        index_size = (stlm >> 4) & 0x3
        length_size = 4 if stlm & 0x40 else 2
        entry = at + 6
        while entry + index_size + length_size <= end:
            where = entry + index_size
            old, new = next(remaining, (-1, -1))
            if int.from_bytes(out[where : where + length_size], "big") == old:
                out[where : where + length_size] = new.to_bytes(length_size, "big")
            entry += index_size + length_size


def clean_frames(frames: Iterator[bytes], transfer_syntax: str) -> list[bytes]:
    """Every compressed frame with its comment segments removed."""
    return [strip_jpeg_comments(frame, transfer_syntax) for frame in frames]
