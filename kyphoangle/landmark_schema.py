"""The published JSON Schema of landmark files (`kyphoangle.landmarks/1`) and the strict reading it backs.

Every landmark file is checked before use, in this order, each failure one sentence naming the file:
size (at most `MAX_FILE_BYTES`), UTF-8 JSON, no duplicate keys at any depth, no non-finite or
oversized numbers (NaN, Infinity, 1e400, integers of more than `MAX_INTEGER_DIGITS` digits), nesting
no deeper than the schema allows (`MAX_DEPTH`), then the schema itself
(`kyphoangle/resources/schemas/landmarks-1.schema.json`, shipped in the package): an unknown key is
named with the nearest known one ("did you mean ...?").
"""

from __future__ import annotations

import difflib
import functools
import json
import math
import sys
from importlib import resources
from pathlib import Path
from typing import Any

from kyphoangle.errors import LandmarkSchemaError
from kyphoangle.vocabulary import Corner, EndplateSide, Vertebra

SCHEMA_NAME = "landmarks-1.schema.json"
"""The schema's file name in `kyphoangle/resources/schemas/` (and in the documentation)."""

MAX_FILE_BYTES = 1 << 20
"""Largest landmark file read (a full spine of points is about 10 kB)."""

MAX_DEPTH = 4
"""Deepest nesting the schema allows: document > not_evaluable > level > entry (points are 3)."""

MAX_INTEGER_DIGITS = 20
"""Longest integer accepted (pixel coordinates have at most 5 digits)."""


@functools.cache
def landmark_schema() -> dict[str, Any]:
    """The JSON Schema of `kyphoangle.landmarks/1`, as shipped in the package."""
    # the format definition itself, never a study's override of the data files (KYPHOANGLE_RESOURCES)
    schema_file = resources.files("kyphoangle.resources").joinpath("schemas", SCHEMA_NAME)
    text = schema_file.read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@functools.cache
def _known_landmark_keys() -> tuple[str, ...]:
    keys = []
    for vertebra in Vertebra:
        sides = (EndplateSide.SUPERIOR,) if vertebra is Vertebra.S1 else tuple(EndplateSide)
        keys += [f"{vertebra.value}.{side.value}.{corner.value}" for side in sides for corner in Corner]
    return tuple(keys)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise LandmarkSchemaError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise LandmarkSchemaError(f"the number {text[:30]} is too large")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise LandmarkSchemaError(f"the integer {text[:12]}... is too large ({len(text)} digits)")
    return int(text)


def _no_constant(text: str) -> Any:
    raise LandmarkSchemaError(f"{text} is not a number JSON allows (coordinates must be finite)")


def _depth(value: Any) -> int:
    """Nesting depth of a decoded document (a scalar is 0), without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            stack += [(child, level + 1) for child in item.values()]
        elif isinstance(item, list):
            stack += [(child, level + 1) for child in item]
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
    return deepest


def decode_landmark_json(text: str) -> Any:
    """Decode JSON text strictly (see the module); raises LandmarkSchemaError with one sentence."""
    try:
        data = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_finite_float,
            parse_int=_bounded_int,
            parse_constant=_no_constant,
        )
    except RecursionError:
        raise LandmarkSchemaError(
            f"the JSON is nested deeper than the schema allows ({MAX_DEPTH} levels)"
        ) from None
    except ValueError as exc:
        if isinstance(exc.__cause__, LandmarkSchemaError):
            raise exc.__cause__ from None
        raise LandmarkSchemaError(f"this is not valid JSON ({_short(str(exc))})") from None
    depth = _depth(data)
    if depth > MAX_DEPTH:
        raise LandmarkSchemaError(
            f"the JSON is nested {depth} levels deep; the schema allows at most {MAX_DEPTH}"
        )
    return data


def validate_landmark_document(data: Any) -> None:
    """Check a decoded document against the schema; raises LandmarkSchemaError naming the first problem."""
    from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

    validator = Draft202012Validator(landmark_schema())
    problems = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path), str(e.absolute_path)))
    if problems:
        raise LandmarkSchemaError(_describe(problems[0]))


def _read_bounded(path: str | Path) -> bytes:
    """At most one byte more than `MAX_FILE_BYTES` of the file, or of standard input for `-`."""
    if str(path) == "-":
        binary = getattr(sys.stdin, "buffer", None)
        if binary is not None:
            return bytes(binary.read(MAX_FILE_BYTES + 1))
        return sys.stdin.read(MAX_FILE_BYTES + 1).encode("utf-8", errors="surrogateescape")
    with open(Path(path), "rb") as stream:
        return stream.read(MAX_FILE_BYTES + 1)


def read_landmark_text(path: str | Path) -> Any:
    """Read a landmark file, `-` for standard input (size, encoding, strict JSON, schema); the document."""
    raw = _read_bounded(path)
    if len(raw) > MAX_FILE_BYTES:
        raise LandmarkSchemaError(
            f"the file is larger than {MAX_FILE_BYTES // 1024} kB; a landmark file is far smaller"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LandmarkSchemaError("the file is not UTF-8 text") from None
    data = decode_landmark_json(text)
    validate_landmark_document(data)
    return data


def _where(error: Any) -> str:
    parts = [str(part) for part in error.absolute_path]
    return ".".join(parts) if parts else "the document"


def _describe(error: Any) -> str:
    """One sentence for a jsonschema error, with the nearest known key for an unknown one."""
    where = _where(error)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        unknown = [key for key in error.instance if key not in allowed]
        if unknown:
            return _unknown(unknown[0], allowed, where)
    if error.validator == "propertyNames" or (error.schema_path and "propertyNames" in error.schema_path):
        name = str(error.instance)
        known = list(_known_landmark_keys()) if where == "points" else list(error.schema.get("enum", []))
        return _unknown(name, known, where)
    if error.validator == "required":
        missing = [name for name in error.validator_value if name not in error.instance]
        name = missing[0] if missing else "a required key"
        return f"{name if where == 'the document' else where + '.' + name} is missing"
    if error.validator == "type":
        return f"{where} must be {_TYPE_WORDS.get(str(error.validator_value), error.validator_value)}"
    if error.validator in ("minItems", "maxItems", "prefixItems") or (
        len(error.absolute_path) >= 2 and error.absolute_path[0] == "points"
    ):
        return f"landmark {error.absolute_path[1]}: expected [column, row] as two numbers from 0 to 20000"
    if error.validator in ("minimum", "maximum"):
        bound = error.validator_value
        side = "at least" if error.validator == "minimum" else "at most"
        return f"{where} is {error.instance!r}; it must be {side} {bound}"
    if error.validator == "const":
        return f"{where} must be {error.validator_value!r}, found {_short(repr(error.instance))}"
    if error.validator == "enum":
        choices = ", ".join(str(choice) for choice in error.validator_value)
        return f"{where} is {_short(repr(error.instance))}; it must be one of {choices}"
    if error.validator == "pattern" and str(where).startswith("endpoints"):
        example = "'T4.superior-T12.inferior'"
        return f"{where} {_short(repr(error.instance))} is not an endpoint pair such as {example}"
    if error.validator == "uniqueItems":
        return f"{where} lists the same value twice"
    return f"{where}: {_short(error.message)}"


_TYPE_WORDS = {
    "object": "an object ({...})",
    "array": "a list ([...])",
    "string": "text",
    "number": "a number",
    "['string', 'null']": "text or null",
    "['object', 'null']": "an object or null",
}


def _unknown(name: str, known: list[str], where: str) -> str:
    nearest = difflib.get_close_matches(name, known, n=1, cutoff=0.5)
    hint = f" (did you mean {nearest[0]!r}?)" if nearest else ""
    inside = "" if where == "the document" else f" in {where}"
    return f"unknown key {_short(repr(name))}{inside}{hint}"


def _short(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= 100 else flat[:97] + "..."
