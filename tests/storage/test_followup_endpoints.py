"""Follow-up endpoints in the export: loss of correction against D2-D5, further collapse, Lieberman's
height restoration, and the conventions written into the data dictionary."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from conftest import Staff
from storage_helpers import PASSWORD, add_subject_with_images, landmarks, vertebra_points

from kyphoangle.conventions import conventions_markdown
from kyphoangle.export import export_csv
from kyphoangle.protocol import MEASUREMENT_DEFINITIONS
from kyphoangle.storage import Database
from kyphoangle.storage.images import get_image
from kyphoangle.storage.models import User
from kyphoangle.storage.reads import create_read, sign_read

DOCS = Path(__file__).resolve().parents[2] / "docs"
PIXEL_MM = 0.15
WEDGES_PX = {"baseline": 60.0, "D2-D5": 15.0, "D90": 45.0}
"""How far L1's anterior superior corner sits below its level (150 px bodies): the fracture, the
kyphoplasty's restoration, then a later collapse."""


@pytest.fixture
def follow_up(database: Database, staff: Staff) -> dict[str, int]:
    """S001, treated at L1 on 2024-03-05: signed site reads at baseline (D-4), D2-D5 (D3) and D90."""
    dates = (dt.date(2024, 3, 1), dt.date(2024, 3, 8), dt.date(2024, 6, 3))
    _, uids = add_subject_with_images(database, staff.manager, study_dates=dates)
    ids: dict[str, int] = {}
    with database.transaction() as session:
        reader = session.get_one(User, staff.site_reader)
        for visit, uid in zip(WEDGES_PX, uids, strict=True):
            content = landmarks(uid, points=vertebra_points(wedge_px=WEDGES_PX[visit]))
            read = create_read(session, image=get_image(session, uid), reader=reader, content=content)
            sign_read(session, read, password=PASSWORD)
            ids[visit] = read.id
    return ids


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def test_loss_of_correction_collapse_and_height_restoration(
    database: Database, staff: Staff, follow_up: dict[str, int], tmp_path: Path
) -> None:
    with database.reading() as session:
        export_csv(session, tmp_path / "values.csv", actor=session.get_one(User, staff.manager))
    by = {(r["visit"], r["measurement"], r["level"]): r for r in _rows(tmp_path / "values.csv")}

    anterior_mm = {visit: (150.0 - wedge) * PIXEL_MM for visit, wedge in WEDGES_PX.items()}
    d90 = by[("D90", "anterior_height", "L1")]
    assert float(d90["value"]) == pytest.approx(anterior_mm["D90"])
    assert float(d90["change_from_post_op"]) == pytest.approx(anterior_mm["D90"] - anterior_mm["D2-D5"])
    assert d90["post_op_read_id"] == str(follow_up["D2-D5"])
    assert d90["further_collapse"] == "yes"  # 30 of 135 px lost: 22 % >= 20 %
    # Lieberman: 100 (H_post - H_pre) / (H_expected - H_pre), neighbours 150 px
    post = by[("D2-D5", "anterior_height", "L1")]
    assert float(post["height_restoration"]) == pytest.approx(100.0 * (135 - 90) / (150 - 90))
    assert post["further_collapse"] == "no" and float(post["change_from_post_op"]) == 0.0
    assert float(d90["height_restoration"]) == pytest.approx(100.0 * (105 - 90) / (150 - 90))
    middle = by[("D2-D5", "middle_height", "L1")]
    assert float(middle["height_restoration"]) == pytest.approx(100.0 * (142.5 - 120) / (150 - 120))
    # The posterior wall never lost height: H_expected <= H_pre, restoration undefined
    assert by[("D2-D5", "posterior_height", "L1")]["height_restoration"] == ""
    # Angles: loss of correction is the change in kyphosis since D2-D5; no collapse flag for angles
    wedge = by[("D90", "vertebral_kyphosis", "L1")]
    assert float(wedge["change_from_post_op"]) > 0 and wedge["further_collapse"] == ""
    # baseline rows carry no post-operative change; neighbours are not treated levels
    assert by[("baseline", "anterior_height", "L1")]["change_from_post_op"] == ""
    assert by[("baseline", "anterior_height", "L1")]["height_restoration"] == ""


def test_the_dictionary_states_every_convention(
    database: Database, staff: Staff, follow_up: dict[str, int], tmp_path: Path
) -> None:
    with database.reading() as session:
        export_csv(session, tmp_path / "values.csv", actor=session.get_one(User, staff.manager))
    described = {r["column"]: r for r in _rows(tmp_path / "values.dictionary.csv")}
    assert "kyphosis positive, lordosis negative" in described["convention:sign"]["description"]
    for name, definition in MEASUREMENT_DEFINITIONS.items():
        row = described[f"measurement:{name}"]
        assert row["unit"] == str(definition.unit) and definition.source in row["description"]
    assert "UNVERIFIED" in described["normal_table:farcy-1990"]["description"]
    assert "Spine 1990;15:958" in described["normal_table:farcy-1990"]["description"]
    assert "ICC(2,1)" in described["statistics:icc"]["description"]
    assert "sqrt((MSC - MSE) / n + MSE)" in described["statistics:sem"]["description"]
    assert "1.96 * sqrt(2) * SEM" in described["statistics:mdc"]["description"]
    assert "20%" in described["derived:further_collapse"]["description"]
    assert "Lieberman" in described["derived:height_restoration"]["description"]
    for source in ("pixel_spacing", "imager_pixel_spacing", "manual", "none"):
        assert f"spacing_source:{source}" in described
    for column in ("change_from_post_op", "post_op_read_id", "further_collapse", "height_restoration"):
        assert column in described


def test_the_conventions_page_is_generated_from_the_same_statements() -> None:
    assert (DOCS / "conventions.md").read_text(encoding="utf-8") == conventions_markdown() + "\n"
