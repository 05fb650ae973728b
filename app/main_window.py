"""The site reader's window: the study browser and the reading view; every edit is undoable.

The shell around `app.reading_view.ReadingView` for site reading: open or import films, pick one in the
study browser, sign and open the next film of the reader's worklist (decoded ahead), and, for data
managers, the campaign manager.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressDialog,
    QWidget,
)

from app.browser_panel import StudyBrowserPanel
from app.dialogs import ShortcutsDialog, SignDialog
from app.pacs_dialog import PacsDialog, pacs_action, pacs_dialog_for
from app.reading_view import ReadingView
from app.window_frame import (
    WindowLayout,
    add_dock,
    build_menus,
    place_reading_view,
    show_error,
    window_actions,
)
from app.workers import FilmPrefetcher, ImportRunner
from kyphoangle.errors import KyphoangleError
from kyphoangle.workstation import access
from kyphoangle.workstation.records import Account, ImageEntry, ImportReport, ReadService


class ReadingWindow(QMainWindow):
    """The main window of the reading workstation."""

    def __init__(
        self,
        store: ReadService,
        reader: Account,
        settings: QSettings,
        *,
        recovery_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("readingWindow")
        self.store, self.reader, self.settings = store, reader, settings
        self.setWindowTitle(f"kyphoangle \u2014 {reader.display_name}")
        self.last_error = ""
        self.campaign_manager: QMainWindow | None = None
        self.reading = ReadingView(store, reader, settings, recovery_dir=recovery_dir)
        place_reading_view(self, self.reading)
        self.browser = StudyBrowserPanel()
        add_dock(self, "Study browser", "browserDock", self.browser, Qt.DockWidgetArea.LeftDockWidgetArea)

        self.next_prefetcher = FilmPrefetcher(capacity=1, parent=self)
        """Decodes the next film of the worklist while the reader reads this one."""
        self._next_entry: ImageEntry | None = None
        self.importer = ImportRunner(store, self)
        self.import_progress: QProgressDialog | None = None
        self.importer.progressed.connect(self._import_progressed)
        self.importer.import_finished.connect(self._import_finished)
        self.importer.import_failed.connect(self._import_failed)

        handlers = {
            "open": self.open_dialog,
            "import": self.import_files,
            "import_dicomdir": self.import_dicomdir,
            "sign": self.sign_dialog,
            "sign_next": self.sign_and_next_dialog,
            "help": lambda: ShortcutsDialog(self).exec(),
            "quit": self.close,
        }
        self.actions_by_id = window_actions(self, self.reading, handlers)
        menus = build_menus(self, self.actions_by_id, self.reading)
        self._build_campaign_menu(before=menus["&Help"])
        self.pacs_dialog: PacsDialog | None = None
        if (pacs := pacs_action(self, reader.role)) is not None:
            menus["&File"].insertAction(self.actions_by_id["import_dicomdir"], pacs)
            pacs.triggered.connect(self.open_pacs_dialog)
            self.actions_by_id["pacs"] = pacs

        self.reading.failed.connect(self._error)
        self.reading.refreshed.connect(self._read_refreshed)
        self.reading.film_opened.connect(self._film_opened)
        self.browser.image_activated.connect(
            lambda entry: self.reading.open_film(entry.path, entry.fractured_levels)
        )
        self.browser.import_requested.connect(self.import_files)
        self.window_layout = WindowLayout(self, self.reading, "reading", str(reader.role))
        self.refresh_browser()
        self.reading.refresh()

    def _build_campaign_menu(self, *, before: QMenu) -> None:
        """The Campaigns menu, only for data managers and admins on the study database."""
        if not access.allowed(self.reader.role, access.Action.MANAGE_CAMPAIGNS):
            return
        menu = QMenu("&Campaigns", self)
        menu.setObjectName("campaignsMenu")
        self.menuBar().insertMenu(before.menuAction(), menu)
        action = QAction("Campaign manager\u2026", self)
        action.setObjectName("action_campaign_manager")
        action.setToolTip("Create, follow, close and export central reading campaigns")
        action.triggered.connect(self.open_campaign_manager)
        menu.addAction(action)
        self.actions_by_id["campaign_manager"] = action

    def open_campaign_manager(self) -> None:
        """Show the campaign manager window (raised when it is open already)."""
        if self.campaign_manager is None:
            from app.campaign_manager import campaign_manager_for

            QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
            try:
                self.campaign_manager = campaign_manager_for(self.store, self.reader, self)
            except KyphoangleError as exc:
                self._error("The campaign manager cannot be opened", str(exc))
                return
            finally:
                QApplication.restoreOverrideCursor()
        self.campaign_manager.show()
        self.campaign_manager.raise_()
        self.campaign_manager.activateWindow()

    def open_pacs_dialog(self) -> None:
        """Show the query and retrieve dialog (raised when it is open already); the study browser is
        reloaded after each retrieve."""
        if self.pacs_dialog is None:
            try:
                dialog = pacs_dialog_for(self.store, self.reader, self)
            except KyphoangleError as exc:
                self._error("PACS query and retrieve cannot be opened", str(exc))
                return
            dialog.retrieve_finished.connect(lambda _result: self.refresh_browser())
            self.pacs_dialog = dialog
        self.pacs_dialog.show()
        self.pacs_dialog.raise_()
        self.pacs_dialog.activateWindow()

    def _error(self, title: str, message: str) -> None:
        self.last_error = show_error(self, title, message)

    def _read_refreshed(self) -> None:
        can_sign = self.reading.film is not None and not self.reading.model.signed
        self.actions_by_id["sign"].setEnabled(can_sign)
        self.actions_by_id["sign_next"].setEnabled(can_sign)

    def _film_opened(self) -> None:
        self.refresh_browser()
        QTimer.singleShot(0, self._prefetch_next_film)

    # ------------------------------------------------------------------------------------- opening
    def open_dialog(self) -> None:
        """Ask for a film file and open it."""
        folder = str(self.settings.value("files/last_folder", str(Path.home())))
        path, _filter = QFileDialog.getOpenFileName(
            self, "Open film", folder, "DICOM files (*.dcm *.DCM *);;All files (*)"
        )
        if path:
            self.reading.open_film(path)

    def import_files(self) -> None:
        """Import DICOM files or a whole folder into the study catalogue."""
        folder = str(self.settings.value("files/last_import", str(Path.home())))
        choice = QMessageBox.question(
            self,
            "Import",
            "Import a whole folder (Yes) or chosen files (No)?",
            QMessageBox.StandardButton.Yes
            | QMessageBox.StandardButton.No
            | QMessageBox.StandardButton.Cancel,
        )
        if choice == QMessageBox.StandardButton.Cancel:
            return
        if choice == QMessageBox.StandardButton.Yes:
            chosen = QFileDialog.getExistingDirectory(self, "Import folder", folder)
            paths = [chosen] if chosen else []
        else:
            paths, _filter = QFileDialog.getOpenFileNames(self, "Import files", folder)
        if paths:
            self.settings.setValue("files/last_import", str(Path(paths[0]).parent))
            self.start_import(paths)

    def import_dicomdir(self) -> None:
        """Import the films a DICOMDIR references."""
        folder = str(self.settings.value("files/last_import", str(Path.home())))
        path, _filter = QFileDialog.getOpenFileName(
            self, "Import DICOMDIR", folder, "DICOMDIR (DICOMDIR);;All files (*)"
        )
        if path:
            self.start_import([path])

    def start_import(self, paths: list[str]) -> None:
        """Import in the background with a cancellable progress dialog."""
        progress = QProgressDialog("Importing\u2026", "Cancel", 0, 0, self)
        progress.setWindowTitle("Import")
        progress.setWindowModality(Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.canceled.connect(self.importer.cancel)
        self.import_progress = progress
        progress.show()
        self.importer.start(paths)

    def _import_progressed(self, done: int, total: int, name: str) -> None:
        dialog = self.import_progress  # setValue may run the event loop and finish the import
        if dialog is not None:
            dialog.setLabelText(f"Importing {done} of {total}: {name}")
            dialog.setMaximum(max(total, 1))
            dialog.setValue(min(done, max(total - 1, 0)))

    def _import_finished(self, report: ImportReport) -> None:
        if self.import_progress is not None:
            self.import_progress.close()
            self.import_progress = None
        text = f"Imported {report.added} image(s); {report.skipped} already known"
        if report.canceled:
            text += " \u2014 canceled (what was imported is kept)"
        if report.errors:
            text += f"; {len(report.errors)} file(s) skipped"
            QMessageBox.information(self, "Import", text + ":\n\n" + "\n".join(report.errors[:15]))
        self.statusBar().showMessage(text, 8000)
        self.refresh_browser()

    def _import_failed(self, message: str) -> None:
        if self.import_progress is not None:
            self.import_progress.close()
            self.import_progress = None
        self._error("Import failed", message)

    def refresh_browser(self) -> None:
        """Reload the catalogue into the browser."""
        try:
            images = self.store.images()
        except KyphoangleError as exc:
            self.statusBar().showMessage(f"Study list unavailable: {exc}", 8000)
            return
        self.browser.show_images(images, self.reader.login, self.reading.model.sop_instance_uid or None)

    # ---------------------------------------------------------------------------------- sign and next
    def sign_dialog(self) -> None:
        """Ask for the password, then sign and lock the read."""
        password = self._ask_password()
        if password is not None:
            self.sign(password)

    def _ask_password(self) -> str | None:
        reading = self.reading
        if reading.film is None or reading.model.signed:
            return None
        dialog = SignDialog(self.reader.login, reading.sign_summary(), self)
        return dialog.password if dialog.exec() == SignDialog.DialogCode.Accepted else None

    def sign(self, password: str) -> bool:
        """Sign with a password (the dialog's, or a test's). Returns success."""
        if not self.reading.sign(password):
            return False
        self.refresh_browser()
        return True

    def worklist(self) -> list[ImageEntry]:
        """The films still waiting for this reader's signed read, by subject and visit."""
        try:
            images = self.store.images()
        except KyphoangleError:
            return []
        waiting = [e for e in images if e.statuses.get(self.reader.login) != "signed"]
        return sorted(waiting, key=lambda e: (e.subject, e.visit_code, e.path))

    def next_in_worklist(self) -> ImageEntry | None:
        """The film to read after the one on screen, or None when it was the last."""
        current = self.reading.model.sop_instance_uid
        return next((e for e in self.worklist() if e.sop_instance_uid != current), None)

    def _prefetch_next_film(self) -> None:
        if self.reading.film is None:
            return
        following = self.next_in_worklist()
        self._next_entry = following
        self.next_prefetcher.prefetch([following.path] if following is not None else [])

    def sign_and_next_dialog(self) -> None:
        """Ask for the password, sign, and open the next film of the worklist at once."""
        password = self._ask_password()
        if password is not None:
            self.sign_and_next(password)

    def sign_and_next(self, password: str) -> bool:
        """Sign (the dialog's password, or a test's), then show the next film: decoded ahead when it
        is ready, else decoded now. Returns whether the read was signed."""
        following = self._next_entry
        if not self.sign(password):
            return False
        if following is None or following.sop_instance_uid == self.reading.model.sop_instance_uid:
            following = self.next_in_worklist()
        if following is None:
            self.statusBar().showMessage("Read signed. No film is left waiting for your read.", 10000)
            return True
        film = self.next_prefetcher.take(following.path)
        if film is not None:
            self.reading.show_film(Path(following.path), film, following.fractured_levels)  # type: ignore[arg-type]
        else:
            self.reading.open_film(following.path, following.fractured_levels)
        return True
