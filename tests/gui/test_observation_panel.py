"""The observations panel of the reading window: grades per level and cement leakage, undoable, saved."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from test_main_window import make_window, open_film, tick

from app.sample_film import SampleFilm
from kyphoangle.vocabulary import CementLeakage, YeomType
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService


def test_grades_and_leakage_are_recorded_undone_and_saved(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    panel = window.reading.observation_panel
    assert not panel.grade_combos["L2"].isEnabled()  # no film: nothing to observe
    open_film(qtbot, window, sample_film.path)
    tick(qtbot, window, "L1")
    assert list(panel.leakage_checks) == ["L1"]  # leakage is asked only at the treated level

    panel.grade_combos["T5"].setCurrentIndex(panel.grade_combos["T5"].findData(0))
    panel.grade_combos["L2"].setCurrentIndex(panel.grade_combos["L2"].findData(1))
    assert window.reading.model.observations["L2"].genant_grade == 1
    assert window.reading.undo_stack.undoText() == "Observation at L2"
    panel.leakage_checks["L1"]["disc"].setChecked(True)
    panel.leakage_checks["L1"]["C"].setChecked(True)
    l1 = window.reading.model.observations["L1"]
    assert l1.cement_leakage == (CementLeakage.DISC,) and l1.yeom_types == (YeomType.C,)

    window.reading.undo_stack.undo()
    assert window.reading.model.observations["L1"].yeom_types == ()
    assert not panel.leakage_checks["L1"]["C"].isChecked()  # the panel follows the model
    window.reading.undo_stack.redo()

    saved = window.reading.model.snapshot().to_landmark_file().to_document()
    assert saved["observations"] == {
        "T5": {"genant_grade": 0},
        "L1": {"cement_leakage": ["disc"], "yeom_types": ["C"]},
        "L2": {"genant_grade": 1},
    }
