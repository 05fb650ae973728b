"""The data manager's "Export DICOM reports" action: every signed read as SR and GSPS, in the background.

Writing a report takes seconds (highdicom builds and checks the whole content tree), so the export runs
on the Qt thread pool (`app.workers.BackgroundCall`) and reports its end by signals; the window stays
responsive.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from app.workers import BackgroundCall
from kyphoangle.errors import KyphoangleError

FAILED_TITLE = "The DICOM reports were not exported"


class ReportExporter(QObject):
    """Runs `export(folder) -> number of reads written` in the background; one export at a time."""

    finished = Signal(int, str)
    """(reads written, folder) when the export is done."""
    failed = Signal(str, str)
    """(title, message) when it could not be done."""

    def __init__(self, export: Callable[[Path], int], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._export = export
        self._folder = ""
        self._call = BackgroundCall(self, doing="DICOM report export")
        self._call.succeeded.connect(lambda count: self.finished.emit(count, self._folder))
        self._call.failed.connect(lambda message: self.failed.emit(FAILED_TITLE, message))

    @property
    def busy(self) -> bool:
        """Whether an export is running."""
        return self._call.running

    def start(self, folder: Path) -> None:
        """Export into `folder` (ignored while an export runs)."""
        if self.busy:
            return
        self._folder = str(folder)
        self._call.start(lambda: self._write(folder))

    def _write(self, folder: Path) -> int:
        try:
            return self._export(folder)
        except OSError as exc:
            raise KyphoangleError(f"{folder}: {exc.strerror or exc}") from exc
