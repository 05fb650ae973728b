"""The conventions behind every exported number, stated once: written into each export's data
dictionary and into the documentation's conventions page (`conventions_markdown`).

A statistician who receives only the CSV and its dictionary must be able to interpret every value:
the sign convention, each measurement's definition and source, the units, where the pixel spacing
came from, the normal table behind ART, the derived follow-up endpoints, and how the reliability
statistics (ICC form, SEM, MDC) are computed.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass

from kyphoangle.agreement import MIN_CASES
from kyphoangle.normal_table import DEFAULT_NORMAL_TABLE, available_normal_tables, load_normal_table
from kyphoangle.protocol import MEASUREMENT_DEFINITIONS
from kyphoangle.resources import resource_path
from kyphoangle.spacing import SpacingSource

FURTHER_COLLAPSE_PERCENT = 20.0
"""A treated vertebra has collapsed further when a height has lost at least this share of its D2-D5 value."""

POST_OPERATIVE_VISIT = "D2-D5"
"""The visit whose read is the reference for loss of correction and height restoration."""

SIGN_CONVENTION = (
    "Angles are signed in degrees: kyphosis positive, lordosis negative, whichever way the patient faces "
    "and however the film is turned. The angle from an upper to a lower endplate is the signed angle "
    "between their posterior-to-anterior lines, positive when the lines converge anteriorly; the film's "
    "handedness (which way caudal lies from anterior) is read from its most cranial and most caudal "
    "endplates, so the value never depends on the order of the clicks."
)

COORDINATES = (
    "Landmarks are stored as clicked, in image pixels (column, row), DICOM image-relative: the top-left "
    "corner of the first pixel is (0, 0). Angles and heights are computed in millimetres: column "
    "differences times the column spacing, row differences times the row spacing. Without spacing, "
    "heights are in pixels (px), one unit being a column's width, rows scaled by the Pixel Aspect Ratio."
)

SPACING_SOURCES = {
    SpacingSource.PIXEL_SPACING: "Pixel Spacing (0028,0030): calibrated at the patient.",
    SpacingSource.IMAGER_PIXEL_SPACING: "Imager Pixel Spacing (0018,1164): at the detector, magnified by "
    "the beam geometry (heights over-estimated by the magnification, typically 10-20%).",
    SpacingSource.IMAGER_PIXEL_SPACING_ERMF: "Imager Pixel Spacing divided by the Estimated Radiographic "
    "Magnification Factor (0018,1114).",
    SpacingSource.MANUAL: "Calibrated by the reader, who clicked two points a known distance apart.",
    SpacingSource.NONE: "No spacing: heights in pixels; angles from the Pixel Aspect Ratio or square pixels.",
}

LOSS_OF_CORRECTION = (
    f"change_from_post_op = value(visit) - value({POST_OPERATIVE_VISIT}) for every angle and height, from "
    f"the latest signed, not superseded read of the same reader and read type on a film of the "
    f"{POST_OPERATIVE_VISIT} visit (same measurement, level, endpoints and normal table). Positive for an "
    "angle means more kyphosis (less lordosis) than just after the procedure."
)

CHANGE_FROM_BASELINE = (
    "change_from_baseline = value(visit) - value(baseline), the baseline read chosen in the same way on a "
    "film of the baseline visit."
)

FURTHER_COLLAPSE = (
    "further_collapse = yes when a height of a treated level has lost at least "
    f"{FURTHER_COLLAPSE_PERCENT:g}% "
    f"of its {POST_OPERATIVE_VISIT} value, i.e. 100 * (H({POST_OPERATIVE_VISIT}) - H(visit)) / "
    f"H({POST_OPERATIVE_VISIT}) >= {FURTHER_COLLAPSE_PERCENT:g}; no when below; empty for other values. "
    "The threshold is a choice of this study."
)

HEIGHT_RESTORATION = (
    "height_restoration = 100 * (H_post - H_pre) / (H_expected - H_pre) in percent, for the anterior, middle "
    f"and posterior heights (Lieberman et al., Spine 2001;26:1631): H_pre from the baseline read, H_post "
    f"from the {POST_OPERATIVE_VISIT} read, H_expected the mean of the same height of the vertebrae just "
    "above and below on the baseline read (derived from the stored height loss: H / (1 - loss / 100)). "
    "Undefined (empty) when H_expected <= H_pre. The immediate neighbours are used even when one of them "
    "is itself fractured; such levels are flagged by the reader's observations."
)

OBSERVATIONS = (
    "Reader observations (`kyphoangle export observations`): a Genant grade 0-3 per level T4 to L5 (Genant "
    "et al., J Bone Miner Res 1993;8:1137); a new fracture is grade 0 on the same reader's baseline read "
    "and 1 or more later, adjacent when immediately above or below a treated level. Cement leakage per "
    "treated level: none, disc, paravertebral, canal, venous, and Yeom type B (basivertebral vein), S "
    "(segmental vein), C (cortical defect) (Yeom et al., J Bone Joint Surg Br 2003;85:83), as seen on the "
    "lateral radiograph, which misses most leaks that CT shows."
)

ICC_FORM = (
    "ICC(2,1) (Shrout & Fleiss 1979 case 2; McGraw & Wong 1996 ICC(A,1)): two-way random effects, absolute "
    "agreement, single measures, from the two-way ANOVA of the cases x readers table: "
    "(MSR - MSE) / (MSR + (k - 1) MSE + k (MSC - MSE) / n). 95% CI of McGraw & Wong (1996, case 2A) with "
    "Satterthwaite's degrees of freedom (at MSE = 0 their limit, k - 1), as R's psych::ICC and pingouin. "
    f"Only complete rows; at least {MIN_CASES} cases, otherwise the line says 'too few cases'."
)

SEM_FORMULA = (
    "SEM = sqrt((MSC - MSE) / n + MSE) (absolute agreement, de Vet et al. 2006); a negative rater "
    "variance is set to 0."
)
MDC_FORMULA = (
    "MDC95 = 1.96 * sqrt(2) * SEM: the smallest change beyond measurement error with 95% confidence."
)
BLAND_ALTMAN = (
    "Bland-Altman (1986): bias = mean of (second - first); 95% limits of agreement = bias +/- 1.96 SD."
)


@dataclass(frozen=True, slots=True)
class DictionaryRow:
    """One row of a data dictionary: which formats, which column or convention, type, unit, meaning."""

    formats: str
    column: str
    type: str
    unit: str
    description: str

    def cells(self) -> list[str]:
        """The row as CSV cells."""
        return [self.formats, self.column, self.type, self.unit, self.description]


def convention_rows() -> Iterator[DictionaryRow]:
    """The conventions as data dictionary rows (column names `convention:...`, `measurement:...`, ...)."""
    yield DictionaryRow("long, wide", "convention:sign", "", "deg", SIGN_CONVENTION)
    yield DictionaryRow("long, wide", "convention:coordinates", "", "", COORDINATES)
    for source, text in SPACING_SOURCES.items():
        yield DictionaryRow("long, wide", f"spacing_source:{source}", "", "", text)
    for definition in MEASUREMENT_DEFINITIONS.values():
        scope = "per fractured level" if definition.per_level else "per film"
        yield DictionaryRow(
            "long, wide",
            f"measurement:{definition.name}",
            "decimal",
            str(definition.unit),
            f"{definition.label} ({scope}): {definition.description} Source: {definition.source}",
        )
    for name in available_normal_tables():
        table = load_normal_table(name)
        status = (
            "all values verified against the source"
            if table.verified
            else (f"UNVERIFIED values at {', '.join(table.unverified_levels)}")
        )
        default = " Default table." if name == DEFAULT_NORMAL_TABLE else ""
        values = ", ".join(f"{level} {value:+g}" for level, value in table.values_deg.items())
        yield DictionaryRow(
            "long, wide",
            f"normal_table:{name}",
            "",
            "deg",
            f"version {table.version}; {table.source} Values: {values}; {status}.{default} "
            + table.description,
        )
    yield DictionaryRow("long", "derived:change_from_baseline", "decimal", "see unit", CHANGE_FROM_BASELINE)
    yield DictionaryRow("long", "derived:change_from_post_op", "decimal", "see unit", LOSS_OF_CORRECTION)
    yield DictionaryRow("long", "derived:further_collapse", "text", "", FURTHER_COLLAPSE)
    yield DictionaryRow("long", "derived:height_restoration", "decimal", "percent", HEIGHT_RESTORATION)
    yield DictionaryRow("observations", "derived:observations", "", "", OBSERVATIONS)
    yield DictionaryRow("agreement", "statistics:icc", "decimal", "", ICC_FORM)
    yield DictionaryRow("agreement", "statistics:sem", "decimal", "see unit", SEM_FORMULA)
    yield DictionaryRow("agreement", "statistics:mdc", "decimal", "see unit", MDC_FORMULA)
    yield DictionaryRow("agreement", "statistics:bland_altman", "decimal", "see unit", BLAND_ALTMAN)


DICTIONARY_RESOURCE = "data_dictionary.csv"
"""The shipped dictionary of the export's columns; the conventions are appended to it."""


def data_dictionary_rows() -> Iterator[list[str]]:
    """The whole data dictionary written beside an export: header, one row per column, the conventions."""
    with open(resource_path(DICTIONARY_RESOURCE), encoding="utf-8", newline="") as stream:
        yield from csv.reader(stream)
    for row in convention_rows():
        yield row.cells()


def conventions_markdown() -> str:
    """The documentation's conventions page (`docs/conventions.md`), made from the same statements."""
    lines = [
        "# Conventions behind every number",
        "",
        "Generated by `python -m kyphoangle.conventions`; do not edit by hand. The same statements are",
        "written into the data dictionary beside every CSV export (rows `convention:`, `measurement:`,",
        "`spacing_source:`, `normal_table:`, `derived:` and `statistics:`), so a statistician holding",
        "only the export can interpret it. Each measurement's landmarks are on the measurements page.",
        "",
        "## Sign and coordinates",
        "",
        SIGN_CONVENTION,
        "",
        COORDINATES,
        "",
        "## Calibration (`spacing_source`)",
        "",
        *(f"- `{source}`: {text}" for source, text in SPACING_SOURCES.items()),
        "",
        "## Measurements",
        "",
        "| name | unit | definition | source |",
        "|---|---|---|---|",
        *(
            f"| `{d.name}` | {d.unit} | {d.description} | {d.source} |"
            for d in MEASUREMENT_DEFINITIONS.values()
        ),
        "",
        "## Normal tables behind ART",
        "",
        "ART = regional angle minus the table's value at the level; every ART value stores the table's name",
        "and version, and the raw regional angle is stored too. `kyphoangle normal-tables show NAME` prints",
        "the source, population, posture, modality and angle definition of every value.",
        "",
    ]
    for name in available_normal_tables():
        table = load_normal_table(name)
        status = "verified" if table.verified else f"**unverified** at {', '.join(table.unverified_levels)}"
        lines += [f"- `{name}` (version {table.version}, {status}): {table.source} {table.description}"]
    lines += [
        "",
        "## Follow-up endpoints derived in the export",
        "",
        f"- {CHANGE_FROM_BASELINE}",
        f"- Loss of correction: {LOSS_OF_CORRECTION}",
        f"- Further collapse: {FURTHER_COLLAPSE}",
        f"- Height restoration: {HEIGHT_RESTORATION}",
        "",
        "## Reader observations",
        "",
        OBSERVATIONS,
        "",
        "## Reliability statistics",
        "",
        f"- {ICC_FORM}",
        f"- {SEM_FORMULA}",
        f"- {MDC_FORMULA}",
        f"- {BLAND_ALTMAN}",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Print the conventions page (redirect it to `docs/conventions.md`)."""
    print(conventions_markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
