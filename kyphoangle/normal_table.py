"""Normal tables behind the traumatic regional angle: versioned resource files, selected by name.

Each value is traced to its source: the publication with its table or figure, the population, the
posture, the modality and the source's own definition of the angle, and whether the value was checked
against the publication (`ValueSource.verified`). In a table file, `provenance` maps a level (or `*`
for every level) to those fields. Files of the first format carry no provenance: every value is then
unverified.
"""

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

NORMAL_TABLE_FORMAT = "kyphoangle.normal_table/2"
"""The current format: values with their provenance."""
_OLD_FORMATS = ("kyphoangle.normal_table/1",)
DEFAULT_NORMAL_TABLE = "farcy-1990"

_PROVENANCE_FIELDS = ("source", "population", "posture", "modality", "angle_definition")
_NOT_RECORDED = "not recorded"


@dataclass(frozen=True, slots=True)
class ValueSource:
    """Where one normal value comes from, and whether it was checked against the publication."""

    source: str
    """The publication, with the table or figure the value is read from."""
    population: str
    posture: str
    modality: str
    angle_definition: str
    """The source's own definition of the angle (which endplates, how many discs)."""
    verified: bool
    quoted_in: str = ""
    """Where a commonly quoted approximation is quoted from, when the primary source was not checked."""

    @classmethod
    def unrecorded(cls) -> ValueSource:
        """The provenance of a value whose file says nothing about it."""
        return cls(_NOT_RECORDED, _NOT_RECORDED, _NOT_RECORDED, _NOT_RECORDED, _NOT_RECORDED, False)


@dataclass(frozen=True, slots=True)
class NormalTable:
    """Physiological regional angle per level (degrees, kyphosis positive) with its bibliographic source."""

    name: str
    version: str
    title: str
    source: str
    values_deg: Mapping[str, float] = field(default_factory=dict)
    provenance: Mapping[str, ValueSource] = field(default_factory=dict)
    """Per level; a level without an entry is unverified and unrecorded."""
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "values_deg", MappingProxyType(dict(self.values_deg)))
        object.__setattr__(self, "provenance", MappingProxyType(dict(self.provenance)))

    def normal_deg(self, level: str) -> float | None:
        """The normal regional angle at a level, or None when the table does not cover it."""
        return self.values_deg.get(level)

    def source_of(self, level: str) -> ValueSource:
        """Where the value at a level comes from."""
        return self.provenance.get(level) or ValueSource.unrecorded()

    @property
    def unverified_levels(self) -> tuple[str, ...]:
        """Levels whose value was not checked against its publication."""
        return tuple(level for level in self.values_deg if not self.source_of(level).verified)

    @property
    def verified(self) -> bool:
        """Whether every value of the table was checked against its publication."""
        return not self.unverified_levels

    def describe(self) -> str:
        """The table as text for a reader or a statistician (`kyphoangle normal-tables show`)."""
        lines = [
            f"{self.name} version {self.version}: {self.title}",
            f"source: {self.source}",
        ]
        if self.description:
            lines.append(f"note: {self.description}")
        if not self.verified:
            lines.append(
                f"UNVERIFIED values at {', '.join(self.unverified_levels)}: not checked against the source"
            )
        for level, value in self.values_deg.items():
            origin = self.source_of(level)
            lines += [
                f"{level}: {value:+.1f} deg ({'verified' if origin.verified else 'unverified'})",
                f"  source: {origin.source}",
                *([f"  quoted in: {origin.quoted_in}"] if origin.quoted_in else []),
                f"  population: {origin.population}",
                f"  posture: {origin.posture}; modality: {origin.modality}",
                f"  angle as defined by the source: {origin.angle_definition}",
            ]
        return "\n".join(lines)


def _tables_dir() -> Path:
    return resource_path("normal_tables")


def available_normal_tables() -> list[str]:
    """Names of the normal tables shipped with the program."""
    return sorted(path.stem for path in _tables_dir().glob("*.json"))


def parse_normal_table(data: object, *, origin: str) -> NormalTable:
    """Validate a decoded normal-table document; `origin` names it in error messages."""
    if not isinstance(data, dict) or data.get("format") not in (NORMAL_TABLE_FORMAT, *_OLD_FORMATS):
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
    provenance = (
        _parse_provenance(data.get("provenance"), values, origin)
        if data["format"] == NORMAL_TABLE_FORMAT
        else {}
    )
    return NormalTable(
        name=name,
        version=version,
        title=title,
        source=source,
        values_deg=values,
        provenance=provenance,
        description=str(data.get("description", "")),
    )


def _parse_provenance(raw: object, values: Mapping[str, float], origin: str) -> dict[str, ValueSource]:
    """Per-level provenance; `*` applies to every level without its own entry."""
    if not isinstance(raw, dict) or not raw:
        raise NormalTableError(f"{origin}: provenance must say where each value comes from")
    parsed: dict[str, ValueSource] = {}
    for level, entry in raw.items():
        if level != "*" and level not in values:
            raise NormalTableError(f"{origin}: provenance for {level!r}, which has no value")
        if not isinstance(entry, dict):
            raise NormalTableError(f"{origin}: provenance of {level} must be a record")
        absent = [name for name in (*_PROVENANCE_FIELDS, "verified") if name not in entry]
        if absent:
            raise NormalTableError(f"{origin}: provenance of {level} lacks {', '.join(absent)}")
        if not isinstance(entry["verified"], bool):
            raise NormalTableError(f"{origin}: provenance of {level}: verified must be true or false")
        parsed[level] = ValueSource(
            source=str(entry["source"]),
            population=str(entry["population"]),
            posture=str(entry["posture"]),
            modality=str(entry["modality"]),
            angle_definition=str(entry["angle_definition"]),
            verified=entry["verified"],
            quoted_in=str(entry.get("quoted_in", "")),
        )
    common = parsed.pop("*", None)
    result = {level: parsed.get(level) or common for level in values}
    lacking = [level for level, source in result.items() if source is None]
    if lacking:
        raise NormalTableError(f"{origin}: no provenance for {', '.join(lacking)}")
    return {level: source for level, source in result.items() if source is not None}


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
