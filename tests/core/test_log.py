"""The program's log: rotating file in the log folder, level from the environment and -v, no patient data."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kyphoangle.log import (
    LOG_FILE_BACKUPS,
    LOG_FILE_MAX_BYTES,
    configure_logging,
    get_logger,
    log_level,
    scrub,
)


@pytest.fixture(autouse=True)
def _log_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(tmp_path / "logs"))
    monkeypatch.delenv("KYPHOANGLE_LOG_LEVEL", raising=False)


def test_level_from_the_environment_and_verbosity(monkeypatch: pytest.MonkeyPatch) -> None:
    assert log_level() == logging.INFO
    assert log_level(1) == logging.DEBUG
    monkeypatch.setenv("KYPHOANGLE_LOG_LEVEL", "warning")
    assert log_level() == logging.WARNING
    assert log_level(1) == logging.INFO
    monkeypatch.setenv("KYPHOANGLE_LOG_LEVEL", "chatty")
    assert log_level() == logging.INFO


def test_records_go_to_the_rotating_file_in_the_log_folder(tmp_path: Path) -> None:
    path = configure_logging()
    assert path == tmp_path / "logs" / "kyphoangle.log"
    logger = get_logger("kyphoangle.test")
    logger.debug("not at INFO")
    logger.info("opened the study")
    handler = next(h for h in logging.getLogger("kyphoangle").handlers if isinstance(h, logging.FileHandler))
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    assert (handler.maxBytes, handler.backupCount) == (LOG_FILE_MAX_BYTES, LOG_FILE_BACKUPS)
    handler.flush()
    text = path.read_text()
    assert "INFO kyphoangle.test" in text and "opened the study" in text
    assert "not at INFO" not in text


def test_verbose_echoes_on_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(1)
    get_logger("kyphoangle.test").debug("detail for the curious")
    assert "detail for the curious" in capsys.readouterr().err
    configure_logging(0)
    get_logger("kyphoangle.test").info("quiet again")
    assert capsys.readouterr().err == ""


def test_an_unwritable_log_folder_leaves_the_program_running(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("KYPHOANGLE_LOG_DIR", str(blocker / "logs"))
    assert configure_logging() is None
    get_logger("kyphoangle.test").info("nowhere to go")
    assert "no log file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cannot read /home/site/DOE^JANE/IM0001: truncated", "cannot read <path>: truncated"),
        ("C:\\Films\\DOE JANE\\x.dcm refused", "<path> <file> refused"),
        ("patient 'DOE^JANE' born 19500101", "patient '<value>' born <date>"),
        ('name "Jane Doe" on 2024-03-22', "name '<value>' on <date>"),
        ("film DOE_JANE.dcm has no pixels", "film <file> has no pixels"),
        ("instance 1.2.826.0.1.3680043.8.498.1 unknown", "instance <uid> unknown"),
        ("regional_angle L1 +6.7 deg, 5/10 done", "regional_angle L1 +6.7 deg, 5/10 done"),
    ],
)
def test_scrub_replaces_what_could_identify_a_patient(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_scrub_keeps_the_program_source_lines_of_a_traceback() -> None:
    line = '  File "/opt/kyphoangle/lib/python3.11/site-packages/kyphoangle/importer.py", line 12, in run'
    assert scrub(line) == line
