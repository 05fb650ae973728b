"""The data manager's "Export DICOM reports" action: every signed read as SR and GSPS, in the background.

Writing a report takes seconds (highdicom builds and checks the whole content tree), so the export runs
on the Qt thread pool and reports its end by signals; the window stays responsive.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.error_report import unexpected_error_text
from kyphoangle.errors import KyphoangleError
from kyphoangle.log import get_logger


class ReportExporter(QObject):
    """Runs `export(folder) -> number of reads written` in the background; one export at a time."""

    finished = Signal(int, str)
    """(reads written, folder) when the export is done."""
    failed = Signal(str, str)
    """(title, message) when it could not be done."""

    def __init__(self, export: Callable[[Path], int], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._export = export
        self.busy = False

    def start(self, folder: Path) -> None:
        """Export into `folder` (ignored while an export runs)."""
        if self.busy:
            return
        self.busy = True
        QThreadPool.globalInstance().start(_ExportTask(self, folder))

    def _done(self, count: int, folder: str) -> None:
        self.busy = False
        self.finished.emit(count, folder)

    def _refused(self, message: str) -> None:
        self.busy = False
        self.failed.emit("The DICOM reports were not exported", message)


class _Signals(QObject):
    done = Signal(int, str)
    refused = Signal(str)


class _ExportTask(QRunnable):
    def __init__(self, owner: ReportExporter, folder: Path) -> None:
        super().__init__()
        self.owner, self.folder = owner, folder
        self.signals = _Signals()
        self.signals.done.connect(owner._done)
        self.signals.refused.connect(owner._refused)

    def run(self) -> None:
        try:
            count = self.owner._export(self.folder)
        except KyphoangleError as exc:
            self.signals.refused.emit(str(exc))
            return
        except OSError as exc:
            self.signals.refused.emit(f"{self.folder}: {exc.strerror or exc}")
            return
        except Exception as exc:
            # An unexpected failure must reach the user (and the log), not end the thread silently and
            # leave the action busy for good.
            get_logger("app").error("DICOM report export failed", exc_info=exc)
            self.signals.refused.emit(unexpected_error_text(exc))
            return
        self.signals.done.emit(count, str(self.folder))
