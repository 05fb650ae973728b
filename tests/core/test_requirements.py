"""The protocol file is the one statement of what each measurement needs: computation, guidance and
documentation all follow it, and following the guidance completes every measurement."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from kyphoangle.anatomy import FRACTURE_LEVELS
from kyphoangle.normal_table import load_normal_table
from kyphoangle.phantom import Fracture, SpineModel, landmarks
from kyphoangle.protocol import (
    MEASUREMENT_DEFINITIONS,
    GlobalEndpoints,
    MeasurementName,
    ProtocolFileError,
    compute_measurements,
    landmarks_needed,
    required_landmarks,
)
from kyphoangle.protocol.requirements import UnreachableNeedError, measurements_markdown, parse_protocol
from kyphoangle.spacing import PixelSpacing, SpacingSource

SPACING = PixelSpacing(0.2, 0.2, SpacingSource.PIXEL_SPACING)
DOCS = Path(__file__).resolve().parents[2] / "docs" / "measurements.md"

ENDPOINT_CHOICES = (
    GlobalEndpoints(),
    GlobalEndpoints.parse("T1.superior-T12.inferior", "L1.superior-L5.inferior"),
    GlobalEndpoints.parse("T5.superior-T12.inferior"),
)


def spine_points() -> dict[str, tuple[float, float]]:
    model = SpineModel(top="T1", fractures=(Fracture("T12", 30.0, 20.0), Fracture("L1", 45.0, 30.0)))
    return landmarks(model, rows=4500, columns=2500, spacing_mm=(0.2, 0.2))


LOSSES_AND_GRADE = (
    MeasurementName.ANTERIOR_HEIGHT_LOSS,
    MeasurementName.MIDDLE_HEIGHT_LOSS,
    MeasurementName.POSTERIOR_HEIGHT_LOSS,
    MeasurementName.GENANT_GRADE,
)


def inherently_not_computed(name: MeasurementName, level: str | None) -> bool:
    """Values no reader can produce: neighbour morphometry below L5, ART where the table has no value."""
    if level == "L5" and name in LOSSES_AND_GRADE:
        return True
    return (
        name is MeasurementName.TRAUMATIC_REGIONAL_ANGLE
        and load_normal_table().normal_deg(str(level)) is None
    )


@pytest.mark.parametrize("endpoints", ENDPOINT_CHOICES)
@pytest.mark.parametrize(
    "levels", [(), ("T10",), ("L1",), ("T12", "L1"), ("L5",), ("T11", "L2", "L4"), FRACTURE_LEVELS]
)
def test_following_the_guidance_completes_every_measurement(
    levels: tuple[str, ...], endpoints: GlobalEndpoints
) -> None:
    truth = spine_points()
    placed = {needed.key: truth[needed.key] for needed in required_landmarks(levels, endpoints)}
    result = compute_measurements(
        placed,
        spacing=SPACING,
        fractured_levels=levels,
        normal_table=load_normal_table(),
        endpoints=endpoints,
    )
    left = [
        (n.name, n.level, n.reason)
        for n in result.not_computed
        if not inherently_not_computed(n.name, n.level)
    ]
    assert left == []
    computed = {(m.name, m.level) for m in result.measurements}
    for definition in MEASUREMENT_DEFINITIONS.values():
        for level in levels if definition.per_level else (None,):
            assert (definition.name, level) in computed or inherently_not_computed(definition.name, level)


@pytest.mark.parametrize("level", FRACTURE_LEVELS)
def test_each_needed_landmark_is_really_needed_and_named_when_missing(level: str) -> None:
    truth = spine_points()
    for definition in MEASUREMENT_DEFINITIONS.values():
        where = level if definition.per_level else None
        try:
            keys = landmarks_needed(definition.name, where)
        except UnreachableNeedError:
            continue
        for key in keys:
            points = {k: truth[k] for k in keys if k != key}
            result = compute_measurements(
                points, spacing=SPACING, fractured_levels=(level,), normal_table=load_normal_table()
            )
            assert result.get(definition.name, where) is None
            entry = next(n for n in result.not_computed if (n.name, n.level) == (definition.name, where))
            if not inherently_not_computed(definition.name, where):
                assert key in entry.missing, (definition.name, where, key)


def test_recorded_landmarks_are_the_declared_ones() -> None:
    truth = spine_points()
    result = compute_measurements(
        truth, spacing=SPACING, fractured_levels=("T12", "L1"), normal_table=load_normal_table()
    )
    for m in result.measurements:
        assert set(m.landmarks) == set(landmarks_needed(m.name, m.level)), (m.name, m.level)


def test_every_key_of_the_guidance_is_used_by_some_measurement_and_ordered() -> None:
    needed = required_landmarks(("L1",))
    keys = [n.key for n in needed]
    assert len(keys) == len(set(keys))
    assert all(n.purposes for n in needed)
    # the segmental kyphosis and the Genant grade are asked for, the gaps the old guidance left
    purposes = {n.key: n.purposes for n in needed}
    assert "segmental kyphosis L1" in purposes["L1.inferior.anterior"]
    assert "genant grade L1" in purposes["T12.superior.middle"]


def test_the_measurement_page_is_generated_from_the_protocol_file() -> None:
    assert DOCS.read_text(encoding="utf-8") == measurements_markdown() + "\n"


def test_every_measurement_name_has_a_definition_in_the_file() -> None:
    assert set(MEASUREMENT_DEFINITIONS) == set(MeasurementName)
    for definition in MEASUREMENT_DEFINITIONS.values():
        assert definition.label and definition.description and definition.source


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": "other"}, "not a protocol file"),
        ({"measurement": {"bogus": {}}}, "not a measurement the program knows"),
        (
            {"measurement": {"beck_index": {"unit": "deg", "scope": "level", "label": "x"}}},
            "lacks 'definition'",
        ),
        (
            {
                "measurement": {
                    "beck_index": {
                        "unit": "deg",
                        "scope": "level",
                        "label": "x",
                        "definition": "y",
                        "needs": ["level.middle.anterior"],
                    }
                }
            },
            "superior, inferior or caudal",
        ),
        (
            {
                "measurement": {
                    "beck_index": {
                        "unit": "deg",
                        "scope": "film",
                        "label": "x",
                        "definition": "y",
                        "needs": ["level.superior.anterior"],
                    }
                }
            },
            "does not fit a film measurement",
        ),
        (
            {
                "measurement": {
                    "beck_index": {"unit": "deg", "scope": "level", "label": "x", "definition": "y"}
                }
            },
            "no definition for",
        ),
    ],
)
def test_a_bad_protocol_file_is_refused_with_a_clear_message(change: dict[str, object], message: str) -> None:
    document: dict[str, object] = {"format": "kyphoangle.protocol/1", "measurement": {}}
    document.update(change)
    with pytest.raises(ProtocolFileError, match=message):
        parse_protocol(document, origin="measurements.toml")


def test_levels_and_endpoints_combinations_never_ask_for_s1_inferior() -> None:
    for levels in itertools.combinations(FRACTURE_LEVELS, 2):
        for endpoints in ENDPOINT_CHOICES:
            assert all("S1.inferior" not in n.key for n in required_landmarks(levels, endpoints))
