"""Normal tables behind the traumatic regional angle: versioned resource files, selected by name."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from kyphoangle.errors import NormalTableError
from kyphoangle.resources import resource_path
from kyphoangle.vocabulary import FRACTURE_LEVELS

NORMAL_TABLE_FORMAT = "kyphoangle.normal_table/1"
DEFAULT_NORMAL_TABLE = "farcy-1990"


@dataclass(frozen=True, slots=True)
class NormalTable:
    """Physiological regional angle per level (degrees, kyphosis positive) with its bibliographic source."""

    name: str
    version: str
    title: str
    source: str
    values_deg: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "values_deg", MappingProxyType(dict(self.values_deg)))

    def normal_deg(self, level: str) -> float | None:
        """The normal regional angle at a level, or None when the table does not cover it."""
        return self.values_deg.get(level)


def _tables_dir() -> Path:
    return resource_path("normal_tables")


def available_normal_tables() -> list[str]:
    """Names of the normal tables shipped with the program."""
    return sorted(path.stem for path in _tables_dir().glob("*.json"))


def parse_normal_table(data: object, *, origin: str) -> NormalTable:
    """Validate a decoded normal-table document; `origin` names it in error messages."""
    if not isinstance(data, dict) or data.get("format") != NORMAL_TABLE_FORMAT:
        raise NormalTableError(f"{origin}: not a normal table (expected format {NORMAL_TABLE_FORMAT!r})")
    try:
        name, version = str(data["name"]), str(data["version"])
        source, title = str(data["source"]), str(data.get("title", name))
        raw_values = data["values_deg"]
    except KeyError as missing:
        raise NormalTableError(f"{origin}: missing field {missing}") from None
    if not isinstance(raw_values, dict) or not raw_values:
        raise NormalTableError(f"{origin}: values_deg must map levels to degrees")
    values: dict[str, float] = {}
    for level, value in raw_values.items():
        if level not in FRACTURE_LEVELS:
            raise NormalTableError(f"{origin}: {level!r} is not a level from T10 to L5")
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise NormalTableError(f"{origin}: the normal value at {level} is not a number of degrees")
        values[level] = float(value)
    return NormalTable(name=name, version=version, title=title, source=source, values_deg=values)


def load_normal_table(name: str = DEFAULT_NORMAL_TABLE) -> NormalTable:
    """Load a shipped normal table by name (see `available_normal_tables`)."""
    path = _tables_dir() / f"{name}.json"
    if not path.is_file():
        known = ", ".join(available_normal_tables())
        raise NormalTableError(f"unknown normal table {name!r}; available: {known}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NormalTableError(f"{path.name}: cannot be read ({exc})") from None
    table = parse_normal_table(data, origin=path.name)
    if table.name != name:
        raise NormalTableError(f"{path.name}: names itself {table.name!r}, not {name!r}")
    return table
