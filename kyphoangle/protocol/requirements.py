"""Which landmarks each measurement needs, read from the shipped protocol file, and resolved per film.

The file (`kyphoangle/resources/protocol/measurements.toml`) is written for a clinician: each
measurement lists its landmarks as `which vertebra . which endplate . which point` relative to the
fractured level or to the chosen global endpoints. Everything that says what a measurement needs is
made from it: the computation's "not computed" reasons, the guidance that tells a reader what to
click next, and the measurement page of the documentation (`measurements_markdown`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from kyphoangle.anatomy import EndplateRef
from kyphoangle.errors import KyphoangleError
from kyphoangle.protocol.definitions import (
    DefinitionTable,
    GlobalEndpoints,
    MeasurementDefinition,
    MeasurementName,
    NotEvaluable,
    Scope,
    Unit,
)
from kyphoangle.resources import resource_path
from kyphoangle.vocabulary import Corner, EndplateSide, Vertebra

PROTOCOL_FORMAT = "kyphoangle.protocol/1"
PROTOCOL_FILE = ("protocol", "measurements.toml")
"""Where the protocol file lives inside the shipped resources."""

_READING_ORDER = (Corner.POSTERIOR, Corner.MIDDLE, Corner.ANTERIOR)
"""Within an endplate, the way the eye follows it: posterior, middle, anterior."""


class ProtocolFileError(KyphoangleError):
    """The shipped protocol file is missing or says something the program cannot follow."""


class UnreachableNeedError(KyphoangleError):
    """A need that no landmark can meet at this level (e.g. the vertebra below S1)."""


@dataclass(frozen=True, slots=True)
class RequiredLandmark:
    """One landmark a read needs, and every measurement it serves (e.g. `regional angle L1`)."""

    key: str
    purposes: tuple[str, ...]


_CORNERS = tuple(str(c) for c in Corner)
_GLOBAL_ENDS = ("kyphosis.upper", "kyphosis.lower", "lordosis.upper", "lordosis.lower")


def _parse_need(text: str, origin: str) -> tuple[str, str, str]:
    """Split a need into (which vertebra or global end, which endplate or "", which point)."""
    parts = text.split(".")
    if len(parts) != 3:
        raise ProtocolFileError(
            f"{origin}: {text!r} is not a landmark such as 'above.superior.anterior' or"
            " 'kyphosis.upper.anterior'"
        )
    if parts[2] not in _CORNERS:
        raise ProtocolFileError(f"{origin}: {text!r}: {parts[2]!r} is not posterior, middle or anterior")
    if f"{parts[0]}.{parts[1]}" in _GLOBAL_ENDS:
        return f"{parts[0]}.{parts[1]}", "", parts[2]
    if parts[0] not in ("level", "above", "below"):
        raise ProtocolFileError(f"{origin}: {text!r}: the vertebra must be level, above or below")
    if parts[1] not in ("superior", "inferior", "caudal"):
        raise ProtocolFileError(f"{origin}: {text!r}: the endplate must be superior, inferior or caudal")
    return parts[0], parts[1], parts[2]


def parse_protocol(data: Mapping[str, object], *, origin: str) -> DefinitionTable:
    """Validate a decoded protocol document into definitions; every measurement name must be there."""
    if data.get("format") != PROTOCOL_FORMAT:
        raise ProtocolFileError(f"{origin}: not a protocol file (expected format {PROTOCOL_FORMAT!r})")
    table = data.get("measurement")
    if not isinstance(table, dict):
        raise ProtocolFileError(f"{origin}: no [measurement.NAME] sections")
    definitions: dict[MeasurementName, MeasurementDefinition] = {}
    for raw_name, entry in table.items():
        try:
            name = MeasurementName(raw_name)
        except ValueError:
            raise ProtocolFileError(
                f"{origin}: {raw_name!r} is not a measurement the program knows"
            ) from None
        if not isinstance(entry, dict):
            raise ProtocolFileError(f"{origin}: [measurement.{raw_name}] must be a section")
        try:
            unit, scope = Unit(entry["unit"]), Scope(entry["scope"])
            needs = tuple(str(n) for n in entry.get("needs", ()))
            uses = tuple(MeasurementName(u) for u in entry.get("uses", ()))
            definition = MeasurementDefinition(
                name=name,
                label=str(entry["label"]),
                unit=unit,
                per_level=scope is Scope.LEVEL,
                description=str(entry["definition"]),
                source=str(entry.get("source", "")),
                needs=needs,
                uses=uses,
            )
        except KeyError as missing:
            raise ProtocolFileError(f"{origin}: [measurement.{raw_name}] lacks {missing}") from None
        except ValueError as exc:
            raise ProtocolFileError(f"{origin}: [measurement.{raw_name}]: {exc}") from None
        for need in needs:
            where, _, _ = _parse_need(need, f"{origin}: [measurement.{raw_name}]")
            if (scope is Scope.FILM) != (where in _GLOBAL_ENDS):
                raise ProtocolFileError(
                    f"{origin}: [measurement.{raw_name}]: {need!r} does not fit a {scope} measurement"
                )
        definitions[name] = definition
    absent = [str(n) for n in MeasurementName if n not in definitions]
    if absent:
        raise ProtocolFileError(f"{origin}: no definition for {', '.join(absent)}")
    for definition in definitions.values():
        for used in definition.uses:
            if definitions[used].per_level != definition.per_level:
                raise ProtocolFileError(f"{origin}: {definition.name} uses {used} of another scope")
    return MappingProxyType(definitions)


@cache
def load_protocol() -> DefinitionTable:
    """The shipped protocol file's definitions (read once)."""
    path = resource_path(*PROTOCOL_FILE)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ProtocolFileError(f"{path.name}: cannot be read ({exc})") from None
    return parse_protocol(data, origin=path.name)


def _endplate(where: str, side: str, level: Vertebra | None, endpoints: GlobalEndpoints) -> EndplateRef:
    if where.startswith(("kyphosis.", "lordosis.")):
        pair = endpoints.kyphosis if where.startswith("kyphosis.") else endpoints.lordosis
        return pair[0] if where.endswith(".upper") else pair[1]
    assert level is not None, "a level measurement needs its level"
    vertebra = {"level": level, "above": level.above(), "below": level.below()}[where]
    if vertebra is None:
        raise UnreachableNeedError(f"no vertebra {where} {level}")
    if side == "caudal":
        return EndplateRef(
            vertebra, EndplateSide.SUPERIOR if vertebra is Vertebra.S1 else EndplateSide.INFERIOR
        )
    if vertebra is Vertebra.S1 and side == EndplateSide.INFERIOR:
        raise UnreachableNeedError("no vertebra with two endplates below S1")
    return EndplateRef(vertebra, EndplateSide(side))


def landmarks_needed(
    name: MeasurementName,
    level: str | None = None,
    endpoints: GlobalEndpoints | None = None,
    *,
    definitions: DefinitionTable | None = None,
) -> tuple[str, ...]:
    """The landmark keys a measurement needs (its own and those of the measurements it uses), in order.

    Raises UnreachableNeedError when the protocol asks for a vertebra that does not exist at this level.
    """
    definitions = definitions or load_protocol()
    endpoints = endpoints or GlobalEndpoints()
    vertebra = Vertebra(level) if level is not None else None
    keys: dict[str, None] = {}
    definition = definitions[name]
    for used in definition.uses:
        keys.update(dict.fromkeys(landmarks_needed(used, level, endpoints, definitions=definitions)))
    for need in definition.needs:
        where, side, corner = _parse_need(need, str(name))
        keys[_endplate(where, side, vertebra, endpoints).key(Corner(corner))] = None
    return tuple(keys)


def _purpose(definition: MeasurementDefinition, level: str | None) -> str:
    return f"{definition.label.lower()} {level}" if level else definition.label.lower()


def required_landmarks(
    fractured_levels: Iterable[str],
    endpoints: GlobalEndpoints | None = None,
    not_evaluable: Mapping[str, NotEvaluable] | None = None,
    *,
    definitions: DefinitionTable | None = None,
) -> tuple[RequiredLandmark, ...]:
    """Every landmark the protocol needs on a film, cranial to caudal, each once with all its purposes.

    Levels marked not evaluable need nothing of their own; needs that no vertebra can meet (below S1)
    are left out, since those measurements are reported not computed whatever the reader does.
    """
    definitions = definitions or load_protocol()
    skipped = not_evaluable or {}
    purposes: dict[str, list[str]] = {}
    film_levels: list[str | None] = [None, *(lv for lv in fractured_levels if lv not in skipped)]
    for level in film_levels:
        for definition in definitions.values():
            if definition.per_level != (level is not None):
                continue
            try:
                keys = landmarks_needed(definition.name, level, endpoints, definitions=definitions)
            except UnreachableNeedError:
                continue
            for key in keys:
                slot = purposes.setdefault(key, [])
                if (purpose := _purpose(definition, level)) not in slot:
                    slot.append(purpose)

    def order(key: str) -> tuple[int, int, int]:
        vertebra, side, corner = key.split(".")
        return (
            Vertebra(vertebra).order,
            0 if side == EndplateSide.SUPERIOR else 1,
            _READING_ORDER.index(Corner(corner)),
        )

    return tuple(RequiredLandmark(key, tuple(purposes[key])) for key in sorted(purposes, key=order))


_MEASUREMENTS_INTRODUCTION = """\
## The study these numbers serve

Balloon kyphoplasty restores the height of a fractured vertebral body with an inflated balloon and then
fills it with cement. The trial follows each patient for a year, with lateral films at the baseline
visit (the 8 days before the procedure, day 0) and at days 2-5, 15, 90, 180 and 360. Its radiological
outcomes are the change from baseline of the **traumatic regional angle** at each fractured level from
T10 to L5, of the **thoracic kyphosis** and of the **lumbar lordosis**. A typical correction of the
regional angle is 7 to 9 degrees, about the size of one reader's repeatability limits for manual angle
measurement; that is why landmarks are placed precisely, read twice by blinded central readers and
checked by an adjudicator.

## Landmarks

A landmark is one corner of one endplate, named `<vertebra>.<endplate>.<position>`:

- vertebra: `T1` to `T12`, `L1` to `L5`, `S1`;
- endplate: `superior` or `inferior` (S1 has only its superior endplate);
- position: `anterior` or `posterior` corner, or the `middle` point of the endplate.

An endplate's **line** runs from its posterior to its anterior corner; the middle points (six-point
morphometry) serve the middle heights. Examples: `T12.inferior.anterior`, `S1.superior.posterior`.
Points are kept **as placed, in image pixels**, as `(column, row)`, DICOM image-relative: the top-left
corner of the first pixel is (0, 0) and its centre (0.5, 0.5). Angles and heights are computed in
millimetres, so a film whose pixels are not square gives the right angles.

**Global endpoints.** The thoracic kyphosis may be measured from T1 or T5 instead of T4, and the lumbar
lordosis to L5 inferior when S1 is not on the film. The endpoints are part of every stored and exported
value (`endpoints`, e.g. `T4.superior-T12.inferior`), so values measured between different endplates are
never mixed.

**Not computed is not zero.** A value whose landmarks are missing is *not computed*: it lists the
landmarks it lacks and is never a number from a partial set. A level the reader marks **not evaluable**
carries its reason (`obscured`, `out_of_field`, `double_contour`, `instrumented`, `other`, with a free
note), which is exported as such and not as a blank.

**Normal tables.** The traumatic regional angle subtracts the normal regional angle of the level, read
from a versioned table file in `kyphoangle/resources/normal_tables/` chosen per study or per read; the
raw regional angle is stored too, so ART can be recomputed for another table (`kyphoangle recompute`).
A study that needs its own table writes a file of the same format into a copy of the shipped data
folder and points `KYPHOANGLE_RESOURCES` at that copy on every workstation before the study database is
created; change the `version` whenever values change.

**Reading practice.** Central readers re-read the films blinded (no identity, date, visit, site or
other reader's result; a share of cases presented again to measure repeatability), and an adjudicator
settles disagreements beyond a rule fixed in advance by choosing one read (reads are never averaged) or
making a third. Patient position changes these angles (lordosis differs by about 13 degrees between
standing and lying), so the position of each film is recorded with it.""".splitlines()
"""The measurement page's prose before the generated definitions."""


def measurements_markdown(definitions: DefinitionTable | None = None) -> str:
    """The measurement page of the documentation, made from the protocol file."""
    definitions = definitions or load_protocol()
    lines = [
        "# Measurements and the landmarks they need",
        "",
        "Generated from `kyphoangle/resources/protocol/measurements.toml` by",
        "`python -m kyphoangle.protocol.document`; do not edit by hand. The sign convention, the",
        "calibration sources, the normal tables with the provenance of each value, the follow-up",
        "endpoints and the reliability statistics are on [conventions.md](conventions.md).",
        "",
        *_MEASUREMENTS_INTRODUCTION,
        "",
        "## The measurements",
        "",
        "Angles are signed, kyphosis positive and lordosis negative. In the landmark lists, *level* is the",
        "fractured vertebra, *above* and *below* its neighbours, *caudal* the inferior endplate (the",
        "superior one for S1), and *kyphosis.upper* and the like the endplates chosen as the ends of the",
        "global curves.",
        "",
    ]
    for definition in definitions.values():
        lines += [
            f"### {definition.label} (`{definition.name}`)",
            "",
            f"- Unit: {definition.unit}; one value per {definition.scope}.",
            f"- Definition: {definition.description}",
            f"- Source: {definition.source}" if definition.source else "- Source: none stated",
        ]
        if definition.uses:
            lines.append("- Uses the landmarks of: " + ", ".join(f"`{u}`" for u in definition.uses))
        if definition.needs:
            lines.append("- Landmarks: " + ", ".join(f"`{n}`" for n in definition.needs))
        example = "L1" if definition.per_level else None
        keys = landmarks_needed(definition.name, example, definitions=definitions)
        where = " at L1" if example else " with the default endpoints"
        lines += [f"- All landmarks{where}: " + ", ".join(f"`{k}`" for k in keys), ""]
    return "\n".join(lines)
