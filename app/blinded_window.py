"""The blinded reading window of a central reader: one case at a time, by case code only.

The reading window without its study browser and without Open/Import; films are named by their case
code in every message, file windows by number, and no path is written to the settings. After a case
is signed the next one opens at once: the next films of the worklist are decoded in the background
(`FilmPrefetcher`) while the reader works, and a signature confirmed in the sign dialog is stored in the
background (`BackgroundCall`: the password check is slow on purpose) while the next film is already on
screen, locked until the signature is stored; if it fails, the signed case comes back with its landmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QDockWidget, QLabel, QWidget

from app.dialogs import ShortcutsDialog
from app.film import FilmLike
from app.main_window import ReadingWindow
from app.read_model import ReadSnapshot
from app.workers import BackgroundCall, FilmPrefetcher
from kyphoangle.errors import KyphoangleError
from kyphoangle.workstation.campaign_reads import BlindedCase, CampaignReadService
from kyphoangle.workstation.records import Account

PREFETCH_COUNT = 2
"""How many of the next cases' films are decoded ahead."""

REMOVED_ACTIONS = ("open", "import", "import_dicomdir", "sign_next")
"""Actions a blinded reader never has."""


class BlindedReadingWindow(ReadingWindow):
    """A central reader's worklist, case after case, with nothing that identifies the patient."""

    LAYOUT_NAME = "blinded"
    OFFERS_SIGN_AND_NEXT = False

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
        super().__init__(store, reader, settings, recovery_dir=recovery_dir, parent=parent)
        self.setObjectName("blindedReadingWindow")
        self.campaign_store = store
        store.use_account(reader)
        self.guidance_panel.no_film_text = "The case's film is loading\u2026"
        self.case: BlindedCase | None = None
        self.prefetch_count = prefetch_count
        self.prefetcher = FilmPrefetcher(capacity=max(prefetch_count, 1), parent=self)
        self.signer = BackgroundCall(self)
        self.signer.succeeded.connect(self._signed_in_background)
        self.signer.failed.connect(self._sign_failed)
        self.pending_sign: tuple[BlindedCase, FilmLike, Path, ReadSnapshot] | None = None
        """While a signature is being stored: the case, its film and path, and the landmarks signed."""
        self._shown_ahead: tuple[Path, FilmLike] | None = None
        self._upcoming: list[str] = []
        self.case_label = QLabel()
        self.case_label.setObjectName("caseLabel")
        bold = self.case_label.font()
        bold.setBold(True)
        self.case_label.setFont(bold)  # a font, not a style sheet, so the label's width fits the text
        self.statusBar().insertPermanentWidget(0, self.case_label)
        browser_dock = self.findChild(QDockWidget, "browserDock")
        if browser_dock is not None:
            self.removeDockWidget(browser_dock)
            browser_dock.deleteLater()  # its View-menu toggle goes with it
        for action_id in REMOVED_ACTIONS:
            action = self.actions_by_id.pop(action_id, None)
            if action is None:
                continue
            for owner in action.associatedObjects():
                if isinstance(owner, QWidget):
                    owner.removeAction(action)
            action.deleteLater()
        self.advance()

    # -------------------------------------------------------------------------------------- cases
    def advance(self, note: str = "") -> None:
        """Open the reader's current case (the next unsigned one), or say the worklist is done.

        `note` goes to the status bar (with word of a move to another campaign's worklist).
        """
        try:
            case = self.campaign_store.current_case()
            moved = False
            if case is None and (other := self.campaign_store.next_campaign_with_work()) is not None:
                # This worklist is done but another open campaign has work for the same user.
                self.campaign_store.campaign_code = other
                case = self.campaign_store.current_case()
                moved = True
        except KyphoangleError as exc:
            self._error("The worklist cannot be loaded", str(exc))
            return
        self.open_case(case)
        if moved:
            note = f"{note} That worklist is complete; the next campaign with cases for you is open."
        if note.strip():
            self.statusBar().showMessage(note.strip(), 10000)

    def open_case(self, case: BlindedCase | None) -> None:
        """Show a case: from the prefetched films when ready, else decoded now in the background."""
        self.case = case
        self._update_title()
        self.set_snapping_allowed(case is not None and self.campaign_store.snapping_allowed())
        if case is None:
            self._show_done()
            return
        path = Path(case.file_path)
        ahead, self._shown_ahead = self._shown_ahead, None
        film = ahead[1] if ahead is not None and ahead[0] == path else self.prefetcher.take(path)
        if film is not None:
            if self._dirty:
                self.save_draft()
            self._pending_levels = case.fractured_levels
            self._film_loaded(path, film)  # type: ignore[arg-type]
        else:
            self.open_film(path, case.fractured_levels)
        QTimer.singleShot(0, self._prefetch_next)

    def _prefetch_next(self) -> None:
        try:
            paths = self.campaign_store.upcoming_paths(self.prefetch_count)
        except KyphoangleError:
            return  # prefetching is only a speed-up; the case opens normally later
        self._upcoming = list(paths)
        self.prefetcher.prefetch(list(paths))

    def _show_done(self) -> None:
        self.film, self.film_path = None, None
        self.undo_stack.clear()
        self.view.set_film(None)
        self.model.replace(ReadSnapshot(sop_instance_uid="", reader=self.reader.login))
        self.autosave_timer.stop()
        self._dirty = False
        self.view.set_message("Your worklist is complete: every case is signed.\n\nThank you.")
        self.hide_panels_for_now(("guidanceDock", "measurementDock"))  # nothing left to place or measure
        self.statusBar().showMessage("Worklist complete.", 10000)
        self._refresh()

    def _update_title(self) -> None:
        where = (
            f"case {self.case.case_code} ({self.case.position} of {self.case.total})"
            if self.case is not None
            else "worklist complete"
        )
        name = self.reader.display_name
        self._set_label(self.case_label, where[:1].upper() + where[1:])
        self.setWindowTitle(f"kyphoangle \u2014 blinded reading \u2014 {name} \u2014 {where}")

    def recovery_name(self, snapshot: ReadSnapshot) -> str:
        """Named by the case code: the message that names the file must not show the film's UID."""
        case = self.case.case_code if self.case is not None else "case"
        return f"case-{case}__{snapshot.reader}.json"

    def recovery_document(self, snapshot: ReadSnapshot) -> dict[str, Any]:
        """The landmarks under the blinded copy's UID only: a recovery file never names the film itself."""
        document = super().recovery_document(snapshot)
        blinded = getattr(self.case, "blinded_sop_instance_uid", "") if self.case is not None else ""
        document["image"] = {"sop_instance_uid": blinded or "0"}
        return document

    def film_label(self, path: Path) -> str:
        """Films are named by their case code only."""
        return f"case {self.case.case_code}" if self.case is not None else "the case"

    # ------------------------------------------------------------------------ overrides that blind
    def open_film(self, path: str | Path, fractured_levels: tuple[str, ...] = ()) -> None:
        """Decode the case's film in the background (no file name shown, no folder remembered)."""
        if self._dirty:
            self.save_draft()
        self._pending_levels = fractured_levels
        self.load_progress.show()
        # Nothing acts on the previous case's film while this one decodes (it may be the same film,
        # read again in another campaign).
        self.clear_read()
        label = self.film_label(Path(path))
        self.view.set_message(f"Loading {label}\u2026")
        self.statusBar().showMessage(f"Loading {label}\u2026")
        self.loader.load(path)

    def _film_failed(self, path: Path, message: str) -> None:
        self.load_progress.hide()
        self.clear_read()
        text = (
            f"The film of {self.film_label(path)} cannot be opened. "
            "Please tell the data manager, quoting the case code."
        )
        self.view.set_message(text)
        self._error("The film cannot be opened", text)

    def show_help(self) -> None:
        """The list of shortcuts, without the actions a blinded reader does not have."""
        ShortcutsDialog(self, hidden=REMOVED_ACTIONS).exec()

    def open_dialog(self) -> None:
        """Not offered: cases come from the worklist only."""

    def import_files(self) -> None:
        """Not offered: central readers do not import."""

    def import_dicomdir(self) -> None:
        """Not offered: central readers do not import."""

    def refresh_browser(self) -> None:
        """There is no study browser in blinded reading."""

    def _all_presets(self) -> list[tuple[str, float, float]]:
        # The file's own window names are DICOM text: shown by number only.
        presets: list[tuple[str, float, float]] = []
        if self.film is not None:
            for index, preset in enumerate(self.film.voi_presets, start=1):
                presets.append((f"File window {index}", preset.center, preset.width))
        return presets + self.user_presets()

    def _levels_edited(self, levels: tuple[str, ...]) -> None:
        self._refresh()  # the fractured levels are set by the campaign, not by the reader

    def _refresh(self) -> None:
        super()._refresh()
        for box in self.guidance_panel.level_boxes.values():
            box.setEnabled(False)
        pending = getattr(self, "pending_sign", None) is not None
        self.guidance_panel.setEnabled(not pending and getattr(self, "case", None) is not None)
        if pending:
            self.view.tool.enabled = False  # the next case opens for editing once the signature is stored
            self.view.overlay.banner = "Storing the signature\u2026"
            self.view.overlay.target = None
            self.actions_by_id["sign"].setEnabled(False)

    def save_draft(self) -> bool:
        """Save the draft; when the case was closed meanwhile (signed elsewhere), move on to the next one."""
        if super().save_draft():
            return True
        try:
            current = self.campaign_store.current_case()
        except KyphoangleError:
            return False  # the database is away: keep the edits and retry with the next edit
        if current is None or current.sop_instance_uid != self.model.sop_instance_uid:
            self._dirty = False  # the landmarks are in the recovery folder; the case is no longer ours
            QTimer.singleShot(0, self.advance)
        return False

    def sign_confirmed(self, password: str) -> None:
        """Store the signature in the background and show the next film meanwhile."""
        self.sign_in_background(password)

    def sign_in_background(self, password: str) -> None:
        """Start storing the signature; the next case's film is shown now (locked until it is stored)."""
        if self.case is None or self.film is None or self.film_path is None or self.signer.running:
            return
        snapshot = self.model.snapshot()
        self.pending_sign = (self.case, self.film, self.film_path, snapshot)
        self.autosave_timer.stop()
        self._dirty = False
        store = self.campaign_store
        self.signer.start(lambda: store.sign(snapshot.to_landmark_file(), password))
        signed = self.case.case_code
        self.statusBar().showMessage(f"Signing case {signed}\u2026")
        next_path = Path(self._upcoming[0]) if self._upcoming else None
        film = self.prefetcher.take(next_path) if next_path is not None else None
        self.undo_stack.clear()
        self.model.replace(ReadSnapshot(sop_instance_uid="", reader=self.reader.login))
        self._dirty = False
        if next_path is not None and film is not None:
            self._shown_ahead = (next_path, film)  # type: ignore[assignment]
            self.film, self.film_path = film, next_path  # type: ignore[assignment]
            self.view.set_film(film)  # type: ignore[arg-type]
        else:
            self.view.set_film(None)
            self.view.set_message(f"Signing case {signed}\u2026")
        self._refresh()

    def _signed_in_background(self, _result: object) -> None:
        signed = self.pending_sign[0].case_code if self.pending_sign is not None else ""
        self.pending_sign = None
        self.advance(f"Case {signed} signed and closed.")

    def _sign_failed(self, message: str) -> None:
        if self.pending_sign is None:
            return
        case, film, path, snapshot = self.pending_sign
        self.pending_sign = None
        if self._shown_ahead is not None:
            self.prefetcher.keep(*self._shown_ahead)
            self._shown_ahead = None
        self.case = case
        self._update_title()
        self.film, self.film_path = film, path
        self.view.set_film(film)
        self.model.replace(snapshot)
        self.undo_stack.clear()
        self._dirty = False
        self._refresh()
        self._error(
            "The case was not signed", f"{message}\n\nYour landmarks of {self.film_label(path)} are kept."
        )

    def sign(self, password: str) -> bool:
        """Sign the case now (waiting for the signature); on success the next case opens at once."""
        if not super().sign(password):
            return False
        signed = self.case.case_code if self.case is not None else ""
        self.advance(f"Case {signed} signed and closed.")
        return True
