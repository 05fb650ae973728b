"""docs/dicom.md lists every concept kyphoangle's reports use, so the documentation cannot drift."""

from __future__ import annotations

from pathlib import Path

from kyphoangle.anatomy import Vertebra
from kyphoangle.protocol import MeasurementName
from kyphoangle.sr import coding

DOC = Path(__file__).resolve().parents[2] / "docs" / "dicom.md"


def test_every_private_code_and_measurement_concept_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    private = [
        value
        for value in vars(coding).values()
        if getattr(value, "scheme_designator", None) == coding.PRIVATE_SCHEME
    ]
    for mapping in (coding.READ_TYPE_CODES, coding.NOT_EVALUABLE_CODES, coding.SPACING_SOURCE_CODES):
        private += list(mapping.values())
    private += [
        c.concept for c in coding.MEASUREMENT_CONCEPTS.values() if c.concept.scheme_designator == "99KYPHO"
    ]
    private.append(coding.VERTEBRA_CODES[Vertebra.S1])
    assert private
    for code in private:
        assert f"| `{code.value}` | {code.meaning} |" in text, code
    assert set(coding.MEASUREMENT_CONCEPTS) == set(MeasurementName), "every measurement has a concept"
    for name, concept in coding.MEASUREMENT_CONCEPTS.items():
        assert f"| `{name}` | {concept.concept.scheme_designator} {concept.concept.value} " in text, name
