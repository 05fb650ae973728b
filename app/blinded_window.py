"""The blinded reading window of a central reader: one case at a time, by case code only.

The shell around a blinded `app.reading_view.ReadingView`: no study browser and no Open/Import; films
are named by their case code in every message, file windows by number, and no path is written to the
settings. After a case is signed the next one opens at once: the next films of the worklist are decoded
in the background (`app.case_flow.CaseFlow`) while the reader works, and a signature confirmed in the
sign dialog is stored in the background (`BackgroundCall`: the password check is slow on purpose) while
the next film is already on screen, locked until the signature is stored; if it fails, the signed case
comes back with its landmarks.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMainWindow, QWidget

from app.case_flow import HIDDEN_ACTIONS, PREFETCH_COUNT, CaseFlow, case_label
from app.dialogs import ShortcutsDialog, SignDialog
from app.film import FilmLike
from app.read_model import ReadSnapshot
from app.reading_view import ReadingView, fit_label
from app.window_frame import WindowLayout, build_menus, place_reading_view, show_error, window_actions
from app.workers import BackgroundCall
from kyphoangle.workstation.campaign_reads import BlindedCase, CampaignReadService
from kyphoangle.workstation.records import Account


class BlindedReadingWindow(QMainWindow):
    """A central reader's worklist, case after case, with nothing that identifies the patient."""

    def __init__(
        self,
        store: CampaignReadService,
        reader: Account,
        settings: QSettings,
        *,
        recovery_dir: Path | None = None,
        prefetch_count: int = PREFETCH_COUNT,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("blindedReadingWindow")
        self.campaign_store, self.reader, self.settings = store, reader, settings
        store.use_account(reader)
        self.last_error = ""
        self.reading = ReadingView(store, reader, settings, recovery_dir=recovery_dir, blinded=True)
        self.reading.guidance_panel.no_film_text = "The case's film is loading\u2026"
        place_reading_view(self, self.reading)
        self.case_label = case_label(self)
        self.flow = CaseFlow(store, self.reading, prefetch_count=prefetch_count, parent=self)
        self.signer = BackgroundCall(self)
        self.signer.succeeded.connect(self._signed_in_background)
        self.signer.failed.connect(self._sign_failed)
        self.pending_sign: tuple[BlindedCase, FilmLike, Path, ReadSnapshot] | None = None
        """While a signature is being stored: the case, its film and path, and the landmarks signed."""

        handlers = {
            "sign": self.sign_dialog,
            "help": lambda: ShortcutsDialog(self, hidden=HIDDEN_ACTIONS).exec(),
            "quit": self.close,
        }
        self.actions_by_id = window_actions(self, self.reading, handlers)
        build_menus(self, self.actions_by_id, self.reading)
        self.reading.failed.connect(self._error)
        self.reading.refreshed.connect(self._read_refreshed)
        self.reading.draft_failed.connect(self.flow.case_closed_meanwhile)
        self.flow.case_opening.connect(self._update_title)
        self.flow.worklist_done.connect(self._show_done)
        self.window_layout = WindowLayout(self, self.reading, "blinded", str(reader.role))
        self.flow.advance()

    @property
    def case(self) -> BlindedCase | None:
        """The case on screen; None when the worklist is done."""
        return self.reading.case

    def _error(self, title: str, message: str) -> None:
        self.last_error = show_error(self, title, message)

    def _update_title(self, case: BlindedCase | None) -> None:
        where = (
            f"case {case.case_code} ({case.position} of {case.total})"
            if case is not None
            else "worklist complete"
        )
        fit_label(self.case_label, where[:1].upper() + where[1:])
        self.setWindowTitle(
            f"kyphoangle \u2014 blinded reading \u2014 {self.reader.display_name} \u2014 {where}"
        )

    def _show_done(self) -> None:
        self.reading.clear_read()
        self.reading.view.set_message("Your worklist is complete: every case is signed.\n\nThank you.")
        self.window_layout.hide_for_now(
            ("guidanceDock", "measurementDock")
        )  # nothing left to place or measure
        self.statusBar().showMessage("Worklist complete.", 10000)
        self.reading.refresh()

    def _read_refreshed(self) -> None:
        reading = self.reading
        pending = self.pending_sign is not None
        reading.guidance_panel.setEnabled(not pending and reading.case is not None)
        self.actions_by_id["sign"].setEnabled(
            reading.film is not None and not reading.model.signed and not pending
        )
        if pending:
            reading.view.overlay.banner = "Storing the signature\u2026"

    # --------------------------------------------------------------------------------------- signing
    def sign_dialog(self) -> None:
        """Ask for the password, then store the signature in the background and show the next case."""
        reading = self.reading
        if reading.film is None or reading.model.signed:
            return
        dialog = SignDialog(self.reader.login, reading.sign_summary(), self)
        if dialog.exec() == SignDialog.DialogCode.Accepted:
            self.sign_in_background(dialog.password)

    def sign_in_background(self, password: str) -> None:
        """Start storing the signature; the next case's film is shown now (locked until it is stored)."""
        reading, flow = self.reading, self.flow
        if reading.case is None or reading.film is None or reading.film_path is None or self.signer.running:
            return
        snapshot = reading.model.snapshot()
        self.pending_sign = (reading.case, reading.film, reading.film_path, snapshot)
        reading.edits_allowed = False  # the next case opens for editing once the signature is stored
        reading.autosave_timer.stop()
        store = self.campaign_store
        self.signer.start(lambda: store.sign(snapshot.to_landmark_file(), password))
        signed = reading.case.case_code
        self.statusBar().showMessage(f"Signing case {signed}\u2026")
        next_path = Path(flow.upcoming[0]) if flow.upcoming else None
        film = flow.prefetcher.take(next_path) if next_path is not None else None
        reading.undo_stack.clear()
        reading.model.replace(ReadSnapshot(sop_instance_uid="", reader=self.reader.login))
        reading.dirty = False
        if next_path is not None and film is not None:
            flow.shown_ahead = (next_path, film)  # type: ignore[assignment]
            reading.film, reading.film_path = film, next_path  # type: ignore[assignment]
            reading.view.set_film(film)  # type: ignore[arg-type]
        else:
            reading.view.set_film(None)
            reading.view.set_message(f"Signing case {signed}\u2026")
        reading.refresh()

    def _signed_in_background(self, _result: object) -> None:
        signed = self.pending_sign[0].case_code if self.pending_sign is not None else ""
        self.pending_sign = None
        self.reading.edits_allowed = True
        self.flow.advance(f"Case {signed} signed and closed.")

    def _sign_failed(self, message: str) -> None:
        if self.pending_sign is None:
            return
        case, film, path, snapshot = self.pending_sign
        self.pending_sign = None
        reading, flow = self.reading, self.flow
        reading.edits_allowed = True
        if flow.shown_ahead is not None:
            flow.prefetcher.keep(*flow.shown_ahead)
            flow.shown_ahead = None
        reading.case = case
        self._update_title(case)
        reading.film, reading.film_path = film, path
        reading.view.set_film(film)
        reading.model.replace(snapshot)
        reading.undo_stack.clear()
        reading.dirty = False
        reading.refresh()
        self._error(
            "The case was not signed", f"{message}\n\nYour landmarks of {reading.film_label(path)} are kept."
        )

    def sign(self, password: str) -> bool:
        """Sign the case now (waiting for the signature); on success the next case opens at once."""
        if not self.reading.sign(password):
            return False
        signed = self.case.case_code if self.case is not None else ""
        self.flow.advance(f"Case {signed} signed and closed.")
        return True
