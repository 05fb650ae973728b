"""The domain's vocabulary: stored values never change, every value has a label, one place spells them."""

from __future__ import annotations

import re
from pathlib import Path

from kyphoangle import vocabulary
from kyphoangle.vocabulary import (
    CampaignRole,
    NotEvaluableReason,
    ReadType,
    SignatureMeaning,
    SpacingSource,
    Term,
    UserRole,
    VisitCode,
    label_of,
)

ROOT = Path(__file__).resolve().parents[2]


def test_stored_values_are_those_of_the_database() -> None:
    assert [r.value for r in UserRole] == [
        "site_reader",
        "central_reader",
        "adjudicator",
        "data_manager",
        "admin",
    ]
    assert [t.value for t in ReadType] == ["site", "central", "repeat", "adjudication"]
    assert [r.value for r in NotEvaluableReason] == [
        "obscured",
        "out_of_field",
        "double_contour",
        "instrumented",
        "other",
    ]
    assert SpacingSource.IMAGER_PIXEL_SPACING_ERMF.value == "imager_pixel_spacing_ermf"
    assert [v.value for v in VisitCode] == ["baseline", "D2-D5", "D15", "D90", "D180", "D360"]


def test_labels_are_words_for_people() -> None:
    assert UserRole.CENTRAL_READER.label == "central reader"
    assert UserRole.CENTRAL_READER.plural == "central readers"
    assert NotEvaluableReason.DOUBLE_CONTOUR.label == "double contour / obliquity"
    assert CampaignRole.READER_2.label == "Reader 2"
    assert SignatureMeaning.for_read_type(ReadType.REPEAT) is SignatureMeaning.REPEAT_READ
    assert label_of("central_reader", UserRole) == "central reader"
    assert label_of("somebody", UserRole) == "somebody"
    assert VisitCode.sort_key("D15") < VisitCode.sort_key("D90") < VisitCode.sort_key("unscheduled")
    for name in vocabulary.__all__:
        kind = getattr(vocabulary, name)
        if isinstance(kind, type) and issubclass(kind, Term) and kind is not Term:
            for member in kind:
                assert member.label and "_" not in member.label, (kind.__name__, member)


def test_roles_are_not_spelled_as_bare_strings() -> None:
    pattern = re.compile(r"""["'](site_radiologist|site_reader|central_reader|data_manager)["']""")
    offenders = [
        str(path.relative_to(ROOT))
        for folder in ("app", "kyphoangle")
        for path in (ROOT / folder).rglob("*.py")
        if "migrations" not in path.parts
        and path.name != "vocabulary.py"
        and pattern.search(path.read_text())
    ]
    assert offenders == []
