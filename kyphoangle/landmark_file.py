"""The landmark interchange file `kyphoangle.landmarks/1`: one reader's points on one film, as JSON.

```json
{"format": "kyphoangle.landmarks/1",
 "image": {"sop_instance_uid": "1.2.3"},
 "reader": "r.smith", "read_type": "site",
 "fractured_levels": ["L1"],
 "points": {"T12.superior.posterior": [812.5, 1930.0]},
 "not_evaluable": {"L2": {"reason": "obscured", "note": "bowel gas"}},
 "normal_table": "farcy-1990",
 "endpoints": {"kyphosis": "T4.superior-T12.inferior", "lordosis": "L1.superior-S1.superior"},
 "calibration": {"row_mm": 0.15, "col_mm": 0.15},
 "provenance": {"T12.superior.posterior": {"proposed": true, "accepted": true, "click": [814.0, 1927.5]}}}
```
Points are `[column, row]` in DICOM image-relative pixels (top-left corner of the first pixel is
(0, 0)). Only `format`, `image.sop_instance_uid` and `points` are required; `calibration` is a manual
calibration stored with the read (source `manual`). `provenance` says, for the points it names, whether
snapping proposed a position, whether the reader accepted it (the point is then the proposal) and where
the reader had clicked; points it does not name were placed by hand, with no record kept.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kyphoangle.errors import KyphoangleError, LandmarkError, LandmarkFileError
from kyphoangle.output_file import write_text
from kyphoangle.protocol import GlobalEndpoints, NotEvaluable, validate_levels, validate_points
from kyphoangle.spacing import PixelSpacing
from kyphoangle.vocabulary import ReadType, SpacingSource

LANDMARK_FORMAT = "kyphoangle.landmarks/1"


@dataclass(frozen=True, slots=True)
class PointProvenance:
    """How one landmark came to be where it is: a proposal shown or not, accepted or not, the click."""

    proposed: bool
    """Snapping proposed a position for this point."""
    accepted: bool
    """The reader accepted the proposal: the stored point is the proposal, not the click."""
    click: tuple[float, float] | None = None
    """Where the reader clicked, `(column, row)` image pixels."""

    def __post_init__(self) -> None:
        if self.accepted and not self.proposed:
            raise LandmarkError("a point cannot have accepted a proposal that was never made")
        if self.click is not None:
            column, row = self.click
            if not all(_finite_number(v) for v in (column, row)):
                raise LandmarkError("a click must be two finite numbers [column, row]")
            object.__setattr__(self, "click", (float(column), float(row)))

    def to_document(self) -> dict[str, Any]:
        """JSON-ready form: `{"proposed", "accepted", "click"}` (click omitted when unknown)."""
        document: dict[str, Any] = {"proposed": self.proposed, "accepted": self.accepted}
        if self.click is not None:
            document["click"] = [self.click[0], self.click[1]]
        return document


def _finite_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@dataclass(frozen=True, slots=True)
class LandmarkFile:
    """One reader's landmarks on one image, as exchanged in `kyphoangle.landmarks/1` files."""

    sop_instance_uid: str
    points: Mapping[str, tuple[float, float]]
    reader: str | None = None
    read_type: ReadType = ReadType.SITE
    fractured_levels: tuple[str, ...] = ()
    not_evaluable: Mapping[str, NotEvaluable] = field(default_factory=dict)
    normal_table: str | None = None
    endpoints: GlobalEndpoints | None = None
    calibration: PixelSpacing | None = None
    provenance: Mapping[str, PointProvenance] = field(default_factory=dict)
    """How the points it names were placed (snapping proposals and the reader's clicks)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "read_type", ReadType(self.read_type))
        object.__setattr__(self, "points", MappingProxyType(dict(self.points)))
        object.__setattr__(self, "not_evaluable", MappingProxyType(dict(self.not_evaluable)))
        # A point removed since (e.g. by `dataclasses.replace`) takes its provenance with it.
        kept = {key: item for key, item in self.provenance.items() if key in self.points}
        object.__setattr__(self, "provenance", MappingProxyType(kept))

    def to_document(self) -> dict[str, Any]:
        """The JSON-ready document, keys in a stable order."""
        document: dict[str, Any] = {
            "format": LANDMARK_FORMAT,
            "image": {"sop_instance_uid": self.sop_instance_uid},
            "reader": self.reader,
            "read_type": str(self.read_type),
            "fractured_levels": list(self.fractured_levels),
            "points": {key: [column, row] for key, (column, row) in self.points.items()},
        }
        if self.not_evaluable:
            document["not_evaluable"] = {
                level: {"reason": str(item.reason), "note": item.note}
                for level, item in self.not_evaluable.items()
            }
        if self.normal_table is not None:
            document["normal_table"] = self.normal_table
        if self.endpoints is not None:
            document["endpoints"] = {
                "kyphosis": GlobalEndpoints.label(self.endpoints.kyphosis),
                "lordosis": GlobalEndpoints.label(self.endpoints.lordosis),
            }
        if self.calibration is not None:
            document["calibration"] = {"row_mm": self.calibration.row_mm, "col_mm": self.calibration.col_mm}
        if self.provenance:
            document["provenance"] = {key: item.to_document() for key, item in self.provenance.items()}
        return document


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise LandmarkError(message)


def parse_landmark_document(data: object) -> LandmarkFile:
    """Validate a decoded landmark document; raises LandmarkError saying what is wrong."""
    _require(isinstance(data, dict), "the file does not hold a JSON object")
    assert isinstance(data, dict)
    _require(
        data.get("format") == LANDMARK_FORMAT,
        f"format must be {LANDMARK_FORMAT!r}, found {data.get('format')!r}",
    )
    image = data.get("image")
    _require(
        isinstance(image, dict) and isinstance(image.get("sop_instance_uid"), str),
        "image.sop_instance_uid is missing",
    )
    assert isinstance(image, dict)
    raw_points = data.get("points")
    _require(isinstance(raw_points, dict), "points must be an object mapping landmark keys to [column, row]")
    assert isinstance(raw_points, dict)
    for key, value in raw_points.items():
        _require(isinstance(value, list), f"landmark {key}: expected [column, row]")
    points = {key: (point.column, point.row) for key, point in validate_points(raw_points).items()}
    reader = data.get("reader")
    _require(reader is None or isinstance(reader, str), "reader must be a login name")
    try:
        read_type = ReadType(data.get("read_type", "site"))
    except ValueError:
        raise LandmarkError(f"read_type must be one of {', '.join(ReadType)}") from None
    levels = data.get("fractured_levels", [])
    _require(
        isinstance(levels, list) and all(isinstance(x, str) for x in levels),
        "fractured_levels must be a list",
    )
    raw_skipped = data.get("not_evaluable", {})
    _require(isinstance(raw_skipped, dict), "not_evaluable must map levels to {reason, note}")
    not_evaluable: dict[str, NotEvaluable] = {}
    for level, entry in raw_skipped.items():
        _require(
            isinstance(entry, dict) and "reason" in entry, f"not_evaluable {level}: a reason is required"
        )
        not_evaluable[level] = NotEvaluable(entry["reason"], str(entry.get("note", "")))
    validate_levels(not_evaluable)
    table = data.get("normal_table")
    _require(table is None or isinstance(table, str), "normal_table must be a table name")
    raw_endpoints = data.get("endpoints")
    endpoints = None
    if raw_endpoints is not None:
        _require(isinstance(raw_endpoints, dict), "endpoints must be {kyphosis, lordosis}")
        endpoints = GlobalEndpoints.parse(raw_endpoints.get("kyphosis"), raw_endpoints.get("lordosis"))
    calibration = None
    raw_calibration = data.get("calibration")
    if raw_calibration is not None:
        _require(isinstance(raw_calibration, dict), "calibration must be {row_mm, col_mm}")
        row_mm, col_mm = raw_calibration.get("row_mm"), raw_calibration.get("col_mm")
        _require(
            all(
                isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and v > 0
                for v in (row_mm, col_mm)
            ),
            "calibration row_mm and col_mm must be positive numbers",
        )
        calibration = PixelSpacing(float(row_mm), float(col_mm), SpacingSource.MANUAL)
    provenance = _parse_provenance(data.get("provenance", {}))
    unknown = sorted(set(provenance) - set(points))
    _require(not unknown, f"provenance names points that are not placed: {', '.join(unknown)}")
    return LandmarkFile(
        provenance=provenance,
        sop_instance_uid=image["sop_instance_uid"],
        points=points,
        reader=reader,
        read_type=read_type,
        fractured_levels=validate_levels(levels),
        not_evaluable=not_evaluable,
        normal_table=table,
        endpoints=endpoints,
        calibration=calibration,
    )


def _parse_provenance(raw: object) -> dict[str, PointProvenance]:
    _require(isinstance(raw, dict), "provenance must map landmark keys to {proposed, accepted, click}")
    assert isinstance(raw, dict)
    result = {}
    for key, entry in raw.items():
        _require(isinstance(entry, dict), f"provenance of {key}: expected {{proposed, accepted, click}}")
        proposed, accepted, click = entry.get("proposed"), entry.get("accepted"), entry.get("click")
        _require(
            isinstance(proposed, bool) and isinstance(accepted, bool),
            f"provenance of {key}: proposed and accepted must be true or false",
        )
        _require(
            click is None or (isinstance(click, list) and len(click) == 2),
            f"provenance of {key}: click must be [column, row]",
        )
        try:
            result[key] = PointProvenance(proposed, accepted, None if click is None else (click[0], click[1]))
        except LandmarkError as exc:
            raise LandmarkError(f"provenance of {key}: {exc}") from None
    return result


def read_landmark_file(path: str | Path) -> LandmarkFile:
    """Read and validate a landmark file (`-`: standard input); raises LandmarkFileError naming the file
    and the problem."""
    try:
        text = sys.stdin.read() if str(path) == "-" else Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LandmarkFileError(path, f"cannot be read ({exc.__class__.__name__}: {exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LandmarkFileError(path, f"is not valid JSON ({exc})") from None
    try:
        return parse_landmark_document(data)
    except KyphoangleError as exc:
        raise LandmarkFileError(path, str(exc)) from None


def write_landmark_file(path: str | Path, landmarks: LandmarkFile) -> None:
    """Write a landmark file privately and atomically (a temporary file renamed over the target)."""
    write_text(path, json.dumps(landmarks.to_document(), indent=2) + "\n")
