"""A film that makes a decoder abort is reported in the workstation, which stays usable."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot
from test_main_window import make_window, open_film

from app.film import render_window
from app.sample_film import SampleFilm
from kyphoangle.dicom import VoiFunction, VoiPreset
from kyphoangle.dicom.display import render_8bit
from kyphoangle.dicom.hostile import write_decoder_abort_film
from kyphoangle.dicom.writer import write_radiograph
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService


def test_a_film_that_aborts_the_decoder_is_reported_and_the_next_one_opens(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
    sample_film: SampleFilm,
) -> None:
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    abort = write_decoder_abort_film(tmp_path / "abort.dcm")
    with qtbot.waitSignal(window.reading.loader.load_failed, timeout=20000):
        window.reading.open_film(abort)
    assert window.reading.film is None
    assert window.last_error.startswith("This film cannot be decoded:")
    assert "abort.dcm" in window.last_error
    assert "could not be opened" in window.reading.view.message
    open_film(qtbot, window, sample_film.path)
    assert window.reading.film is not None and window.reading.film.rows > 0
    assert window.reading.view.rendered_image() is not None


def test_a_voi_lut_function_from_the_file_is_applied_on_screen(
    qtbot: QtBot,
    tmp_path: Path,
    store: StudyReadService,
    settings: QSettings,
    demo_reader: Account,
) -> None:
    pixels = np.tile(np.arange(0, 4096, 16, dtype=np.uint16), (256, 1))
    sigmoid = VoiPreset(2048.0, 1024.0, "Sigmoid", VoiFunction.SIGMOID)
    path = write_radiograph(tmp_path / "sigmoid.dcm", pixels, voi_presets=[sigmoid])
    window = make_window(qtbot, store, settings, demo_reader, tmp_path)
    open_film(qtbot, window, path)
    assert window.reading.view.voi.function is VoiFunction.SIGMOID
    window.reading.view.set_window(2000.0, 900.0)  # a drag keeps the file's function
    assert window.reading.view.voi.function is VoiFunction.SIGMOID
    window.reading.apply_preset(0)
    assert (window.reading.view.voi.center, window.reading.view.voi.width) == (2048.0, 1024.0)
    expected = render_8bit(pixels, center=2048.0, width=1024.0, function=VoiFunction.SIGMOID)
    linear = render_8bit(pixels, center=2048.0, width=1024.0)
    shown = render_window(
        pixels, center=2048.0, width=1024.0, invert=False, function=window.reading.view.voi.function
    )
    assert np.array_equal(shown, expected)
    assert not np.array_equal(shown, linear)


def test_a_recovery_file_of_the_blinded_window_names_only_the_blinded_copy(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blinded_helpers import make_blinded_window, place_all_landmarks
    from campaign_study import build_campaign_study

    from kyphoangle.workstation.connection import StoreUnavailableError

    study = build_campaign_study(tmp_path, films=1)
    window = make_blinded_window(qtbot, study, "central1", tmp_path)
    case = window.case
    assert case is not None and case.blinded_sop_instance_uid.startswith("2.25.")
    place_all_landmarks(qtbot, window, study)

    def broken(snapshot: object) -> None:
        raise StoreUnavailableError("The database connection was lost.")

    monkeypatch.setattr(window.campaign_store, "save_draft", broken)
    assert window.reading.save_draft() is False
    recovered = list((tmp_path / "recovery").glob("*.json"))
    assert len(recovered) == 1
    text = recovered[0].read_text(encoding="utf-8")
    assert case.sop_instance_uid not in text and case.sop_instance_uid not in recovered[0].name
    assert case.blinded_sop_instance_uid in text
