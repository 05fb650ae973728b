"""Tolerant reading of attribute values: malformed values become warnings, never exceptions."""

from __future__ import annotations

import datetime as dt
import re
import threading
import warnings as warnings_module
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydicom.datadict import keyword_for_tag
from pydicom.dataelem import DataElement, RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag, Tag

_CAPTURE_LOCK = threading.RLock()
"""`warnings.catch_warnings` is process-wide: reads that capture pydicom's warnings take turns."""


@contextmanager
def captured_warnings(warnings: list[str]) -> Iterator[None]:
    """Record pydicom's warnings about the file (malformed values it tolerated) in `warnings`.

    Other categories (e.g. DeprecationWarning) are re-issued unchanged once the capture ends.
    """
    others: list[warnings_module.WarningMessage] = []
    try:
        with _CAPTURE_LOCK, warnings_module.catch_warnings(record=True) as caught:
            warnings_module.simplefilter("always", UserWarning)
            try:
                yield
            finally:
                for item in caught:
                    if not issubclass(item.category, UserWarning):
                        others.append(item)
                        continue
                    message = " ".join(str(item.message).split())[:300]
                    if message and message not in warnings:
                        warnings.append(message)
    finally:
        for item in others:
            warnings_module.warn_explicit(item.message, item.category, item.filename, item.lineno)


def tag_label(tag: int) -> str:
    """Return "Pixel Spacing (0028,0030)" for a tag."""
    name = keyword_for_tag(tag)
    words = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name) if name else "Private attribute"
    group, element = divmod(int(tag), 0x10000)
    return f"{words} ({group:04X},{element:04X})"


def functional_group_items(ds: Dataset, frame: int) -> Iterator[Dataset]:
    """Yield the datasets that may hold a frame's attributes: the top level, then functional groups.

    Enhanced (multi-frame) objects keep spacing, rescale and windows in the Shared or Per-Frame
    Functional Groups Sequences instead of the top level; the per-frame item wins over the shared one.
    """
    yield ds
    groups_at = (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0))
    for keyword, index in groups_at:
        try:
            groups = ds.get(keyword)
            if groups and 0 <= index < len(groups):
                yield groups[index]
        except Exception:  # a damaged sequence simply holds nothing usable
            continue


def find_in_groups(ds: Dataset, frame: int, macro: str, tag: int) -> tuple[Dataset, bool] | None:
    """Find the dataset holding `tag`, at the top level or inside a functional group `macro` sequence.

    Return (dataset, nested) or None when absent.
    """
    for n, item in enumerate(functional_group_items(ds, frame)):
        if n == 0:
            if _has(item, tag):
                return item, False
            continue
        try:
            sequence = item.get(macro)
            if sequence and _has(sequence[0], tag):
                return sequence[0], True
        except Exception:
            continue
    return None


def _has(ds: Dataset, tag: int) -> bool:
    try:
        return BaseTag(tag) in ds
    except Exception:
        return False


def raw_strings(ds: Dataset, tag: int) -> list[str] | None:
    """Return the backslash-separated string values of a text element, undecoded; None when absent/empty.

    Works on the raw bytes when the element has not been converted yet, so a malformed number never
    reaches pydicom's converters.
    """
    try:
        elem = ds.get_item(Tag(tag))
    except Exception:
        return None
    if elem is None:
        return None
    value: Any = elem.value
    if value is None:
        return None
    if isinstance(elem, RawDataElement) or isinstance(value, bytes | bytearray):
        text = bytes(value).decode("latin-1").strip(" \x00")
        if not text:
            return None
        return [part.strip(" \x00") for part in text.split("\\")]
    if isinstance(elem, DataElement):
        if isinstance(value, str):
            text = value.strip(" \x00")
            return [part.strip(" \x00") for part in text.split("\\")] if text else None
        try:
            items = list(value) if _is_multi(value) else [value]
        except Exception:
            return None
        strings = [_original_string(item) for item in items]
        return strings or None
    return None


def _is_multi(value: Any) -> bool:
    return isinstance(value, list | tuple) or type(value).__name__ == "MultiValue"


def _original_string(value: Any) -> str:
    original = getattr(value, "original_string", None)
    return str(original if original is not None else value).strip()


def text(ds: Dataset, keyword: str, warnings: list[str]) -> str:
    """Return a text attribute as one string ('\\'-joined when multi-valued), '' when absent."""
    try:
        value = ds.get(keyword)
    except Exception as exc:
        warnings.append(f"{keyword} could not be read ({exc.__class__.__name__}); ignored")
        return ""
    if value is None:
        return ""
    try:
        if _is_multi(value):
            return "\\".join(str(item) for item in value).strip()
        return str(value).strip(" \x00")
    except Exception:
        warnings.append(f"{keyword} could not be read; ignored")
        return ""


def text_values(ds: Dataset, keyword: str, warnings: list[str]) -> tuple[str, ...]:
    """Return a multi-valued text attribute as a tuple of strings, () when absent."""
    joined = text(ds, keyword, warnings)
    return tuple(part.strip() for part in joined.split("\\")) if joined else ()


def integer(ds: Dataset, tag: int, warnings: list[str], *, default: int = 0) -> int:
    """Return an integer attribute (US, SS, UL or IS), `default` when absent or malformed."""
    try:
        elem = ds.get_item(Tag(tag))
    except Exception:
        elem = None
    if elem is None or elem.value is None or elem.value == b"" or elem.value == "":
        return default
    try:
        value = ds[Tag(tag)].value
        if _is_multi(value):
            value = value[0]
        return int(str(value).strip()) if isinstance(value, str | bytes) else int(value)
    except Exception:
        strings = raw_strings(ds, tag)
        if strings:
            try:
                return int(float(strings[0]))
            except ValueError:
                pass
    warnings.append(f"{tag_label(tag)} is malformed; ignored")
    return default


def decimals(ds: Dataset, tag: int) -> list[float] | str | None:
    """Return the numbers of a DS/IS/FD element; None when absent, an error text when malformed."""
    strings = raw_strings(ds, tag)
    if strings is None:
        return None
    try:
        return [float(item) for item in strings]
    except ValueError:
        joined = "\\".join(strings)
        return f"non-numeric value {joined[:40]!r}"


_DATE = re.compile(r"^(\d{4})\.?(\d{2})\.?(\d{2})$")
_TIME = re.compile(r"^(\d{2})(?::?(\d{2})(?::?(\d{2})(?:\.(\d{1,6}))?)?)?$")


def date(ds: Dataset, keyword: str, warnings: list[str]) -> dt.date | None:
    """Return a DA attribute as a date (YYYYMMDD, or ACR-NEMA YYYY.MM.DD); None when absent/malformed."""
    value = text(ds, keyword, warnings)
    if not value:
        return None
    match = _DATE.match(value)
    if match:
        try:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    warnings.append(f"{keyword} {value[:20]!r} is not a valid date; ignored")
    return None


def time(ds: Dataset, keyword: str, warnings: list[str]) -> dt.time | None:
    """Return a TM attribute as a time (HH[MM[SS[.FFFFFF]]]); None when absent/malformed."""
    value = text(ds, keyword, warnings)
    if not value:
        return None
    match = _TIME.match(value)
    if match:
        try:
            micro = int((match[4] or "0").ljust(6, "0"))
            return dt.time(int(match[1]), int(match[2] or 0), min(int(match[3] or 0), 59), micro)
        except ValueError:
            pass
    warnings.append(f"{keyword} {value[:20]!r} is not a valid time; ignored")
    return None
