"""Guidance: which landmarks a protocol needs, in which order (pure Python)."""

from __future__ import annotations

from app.guidance import describe_key, next_step, progress, required_steps, short_label
from kyphoangle.protocol import NotEvaluable
from kyphoangle.vocabulary import NotEvaluableReason


def test_globals_only() -> None:
    keys = [s.key for s in required_steps(())]
    assert keys == [
        "T4.superior.posterior", "T4.superior.anterior",
        "T12.inferior.posterior", "T12.inferior.anterior",
        "L1.superior.posterior", "L1.superior.anterior",
        "S1.superior.posterior", "S1.superior.anterior",
    ]  # fmt: skip


def test_fractured_l1_adds_regional_endplates_and_six_points() -> None:
    steps = required_steps(("L1",))
    keys = [s.key for s in steps]
    assert len(keys) == len(set(keys))
    for key in (
        "T12.superior.posterior", "T12.superior.anterior",  # regional: above L1
        "L2.inferior.posterior", "L2.inferior.anterior",  # regional: below L1
        "L1.superior.middle", "L1.inferior.posterior", "L1.inferior.middle", "L1.inferior.anterior",
    ):  # fmt: skip
        assert key in keys
    assert (
        keys.index("T12.superior.posterior")
        < keys.index("T12.inferior.posterior")
        < keys.index("L1.superior.posterior")
    )
    l1_sup = [s for s in steps if s.key.startswith("L1.superior")]
    assert [s.corner.value for s in l1_sup] == ["posterior", "middle", "anterior"]
    assert {"lumbar lordosis", "vertebral kyphosis L1", "posterior height L1"} <= set(l1_sup[0].purposes)
    assert "S1.superior.anterior" in keys


def test_neighbours_endplates_are_asked_for_the_height_loss_and_genant_grade() -> None:
    steps = {s.key: s.purposes for s in required_steps(("L1",))}
    for key in ("T12.inferior.middle", "L2.superior.middle", "T12.superior.middle", "L2.inferior.middle"):
        assert "genant grade L1" in steps[key]
    assert "anterior height loss L1" in steps["L2.superior.anterior"]


def test_l5_uses_s1_below_and_not_evaluable_drops_a_level() -> None:
    keys = [s.key for s in required_steps(("L5",))]
    assert "S1.superior.posterior" in keys and "L4.superior.posterior" in keys
    skipped = required_steps(("L3",), not_evaluable={"L3": NotEvaluable(NotEvaluableReason.OBSCURED)})
    assert [s.key for s in skipped] == [s.key for s in required_steps(())]


def test_next_step_and_progress() -> None:
    steps = required_steps(())
    placed = {"T4.superior.posterior": (1.0, 2.0)}
    step = next_step(steps, placed)
    assert step is not None and step.key == "T4.superior.anterior"
    assert progress(steps, placed) == (1, 8)
    assert next_step(steps, {s.key: (0.0, 0.0) for s in steps}) is None


def test_labels() -> None:
    assert describe_key("L1.superior.middle") == "L1 superior endplate, middle point"
    assert describe_key("T12.inferior.anterior") == "T12 inferior endplate, anterior corner"
    assert short_label("T12.inferior.anterior") == "T12 inf A"


def test_the_measurement_panel_warns_when_the_table_is_unverified(qtbot: object) -> None:
    from app.measurement_panel import MeasurementPanel
    from kyphoangle.normal_table import load_normal_table

    panel = MeasurementPanel()
    qtbot.addWidget(panel)  # type: ignore[attr-defined]
    panel.show_measurements(None, spacing=None, table=load_normal_table("shi-2020"))
    assert "Caution: shi-2020 values unverified" in panel.spacing_label.text()
    assert "Values at T12, L1, L2, L3 were not checked" in panel.spacing_label.toolTip()
    panel.show_measurements(None, spacing=None, table=load_normal_table("kwon-2019"))
    assert "unverified" not in panel.spacing_label.text()


def test_the_guidance_asks_for_what_the_height_loss_and_genant_grade_need() -> None:
    """Every landmark of every measurement of the level, the neighbours' six points included."""
    from kyphoangle.protocol import MEASUREMENT_DEFINITIONS, landmarks_needed

    keys = {s.key for s in required_steps(("L1",))}
    for name, definition in MEASUREMENT_DEFINITIONS.items():
        assert set(landmarks_needed(name, "L1" if definition.per_level else None, None)) <= keys, name
    for vertebra in ("T12", "L2"):
        for side in ("superior", "inferior"):
            for corner in ("posterior", "middle", "anterior"):
                assert f"{vertebra}.{side}.{corner}" in keys
    without = {s.key for s in required_steps(("L1",), neighbours=False)}
    assert len(without) == 16 and without < keys
    assert "L4.superior.middle" not in {s.key for s in required_steps(("L5",))}  # S1 below: no grade
