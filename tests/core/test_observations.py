"""Reader observations: Genant grades per level, cement leakage and Yeom types, in the landmark file."""

from __future__ import annotations

import pytest

from kyphoangle.errors import LandmarkError
from kyphoangle.landmark_file import LandmarkFile, parse_landmark_document
from kyphoangle.observations import (
    OBSERVATION_LEVELS,
    LevelObservation,
    fracture_status,
    validate_observations,
)
from kyphoangle.vocabulary import CementLeakage, YeomType


def test_levels_run_from_t4_to_l5() -> None:
    assert OBSERVATION_LEVELS[0] == "T4" and OBSERVATION_LEVELS[-1] == "L5" and len(OBSERVATION_LEVELS) == 14


def test_an_observation_normalises_and_round_trips() -> None:
    seen = LevelObservation(2, ("venous", "disc"), ("S", "B"))  # type: ignore[arg-type]
    assert seen.cement_leakage == (CementLeakage.DISC, CementLeakage.VENOUS)
    assert seen.yeom_types == (YeomType.B, YeomType.S)
    assert LevelObservation.from_document(seen.to_document(), "L1") == seen
    assert LevelObservation(0).to_document() == {"genant_grade": 0}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"genant_grade": 4}, "0, 1, 2 or 3"),
        ({"genant_grade": True}, "0, 1, 2 or 3"),
        ({"cement_leakage": ["none", "disc"]}, "'none' and a site"),
        ({"cement_leakage": ["lung"]}, "cement leakage must be among"),
        ({"yeom_types": ["B"]}, "needs a leakage site"),
        ({"cement_leakage": ["none"], "yeom_types": ["C"]}, "needs a leakage site"),
        ({"yeom_types": ["X"], "cement_leakage": ["disc"]}, "Yeom types must be among"),
        ({"grade": 1}, "unknown field 'grade'"),
        ([1], "expected"),
    ],
)
def test_bad_observations_say_what_is_wrong(document: object, message: str) -> None:
    with pytest.raises(LandmarkError, match=message) as caught:
        LevelObservation.from_document(document, "L1")
    assert str(caught.value).startswith("observations L1")


def test_levels_outside_t4_l5_and_leakage_at_untreated_levels_are_refused() -> None:
    with pytest.raises(LandmarkError, match="T4 to L5"):
        validate_observations({"T3": LevelObservation(0)})
    with pytest.raises(LandmarkError, match="not a treated level"):
        validate_observations({"L2": LevelObservation(1, (CementLeakage.NONE,))}, treated_levels=("L1",))


@pytest.mark.parametrize(
    ("level", "grade", "baseline", "new", "adjacent"),
    [
        ("L2", 1, 0, True, True),  # new adjacent fracture below treated L1
        ("T12", 2, 0, True, True),
        ("L4", 1, 0, True, False),  # new, remote
        ("L2", 1, 1, False, True),  # already fractured at baseline
        ("L2", None, 0, None, True),
        ("L1", 3, 2, False, False),  # the treated level itself is not adjacent
    ],
)
def test_new_and_adjacent_fractures(
    level: str, grade: int | None, baseline: int, new: bool | None, adjacent: bool
) -> None:
    status = fracture_status(level, grade, baseline, ["L1"])
    assert (status.new, status.adjacent) == (new, adjacent)


def test_the_landmark_file_carries_observations() -> None:
    content = LandmarkFile(
        "1.2.3",
        {},
        observations={
            "L1": LevelObservation(2, (CementLeakage.DISC,), (YeomType.C,)),
            "T5": LevelObservation(1),
        },
    )
    document = content.to_document()
    assert list(document["observations"]) == ["T5", "L1"]  # cranial to caudal
    assert parse_landmark_document(document) == content
    document["observations"] = {"L1": {"genant_grade": 9}}
    with pytest.raises(LandmarkError, match="observations L1"):
        parse_landmark_document(document)
