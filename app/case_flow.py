"""The case flow of a blinded worklist: the current case on the reading view, the next films ahead.

Used by the central reader's and the adjudicator's windows, with the case label of their status bar.
The current case comes from the campaign service (moving on to another open campaign of the same user
when this worklist is done); its film is taken from those decoded ahead (`FilmPrefetcher`) when ready,
else decoded now in the background.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QMainWindow

from app.film import FilmLike
from app.reading_view import ReadingView
from app.workers import FilmPrefetcher
from kyphoangle.errors import KyphoangleError
from kyphoangle.workstation.campaign_reads import BlindedCase, CampaignReadService

PREFETCH_COUNT = 2
"""How many of the next cases' films are decoded ahead."""

HIDDEN_ACTIONS = ("open", "import", "import_dicomdir", "sign_next")
"""Actions a blinded worklist's window never has (left out of the help too)."""


def case_label(window: QMainWindow) -> QLabel:
    """The bold case label at the left of a blinded window's status bar."""
    label = QLabel()
    label.setObjectName("caseLabel")
    bold = label.font()
    bold.setBold(True)
    label.setFont(bold)  # a font, not a style sheet, so the label's width fits the text
    window.statusBar().insertPermanentWidget(0, label)
    return label


class CaseFlow(QObject):
    """Opens a blinded worklist's cases, one after the other, on one reading view."""

    case_opening = Signal(object)
    """A case (or None: the worklist is done) is about to be shown; the window updates its title."""
    worklist_done = Signal()
    """No case is left for this user."""

    def __init__(
        self,
        store: CampaignReadService,
        reading: ReadingView,
        *,
        prefetch_count: int = PREFETCH_COUNT,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.reading = store, reading
        self.prefetch_count = prefetch_count
        self.prefetcher = FilmPrefetcher(capacity=max(prefetch_count, 1), parent=self)
        self.upcoming: list[str] = []
        """The films of the next cases, in worklist order (decoded ahead)."""
        self.shown_ahead: tuple[Path, FilmLike] | None = None
        """The next case's film, already on screen while the signature of the last one is stored."""

    def advance(self, note: str = "") -> None:
        """Open the reader's current case (the next unsigned one), or say the worklist is done.

        `note` goes to the status bar (with word of a move to another campaign's worklist).
        """
        try:
            case = self.store.current_case()
            moved = False
            if case is None and (other := self.store.next_campaign_with_work()) is not None:
                # This worklist is done but another open campaign has work for the same user.
                self.store.campaign_code = other
                case = self.store.current_case()
                moved = True
        except KyphoangleError as exc:
            self.reading.failed.emit("The worklist cannot be loaded", str(exc))
            return
        self.open_case(case)
        if moved:
            note = f"{note} That worklist is complete; the next campaign with cases for you is open."
        if note.strip():
            self.reading.say(note.strip(), 10000)

    def open_case(self, case: BlindedCase | None) -> None:
        """Show a case: from the prefetched films when ready, else decoded now in the background."""
        reading = self.reading
        reading.case = case
        self.case_opening.emit(case)
        reading.set_snapping_allowed(case is not None and self.store.snapping_allowed())
        if case is None:
            reading.clear_read()
            self.worklist_done.emit()
            reading.refresh()
            return
        path = Path(case.file_path)
        ahead, self.shown_ahead = self.shown_ahead, None
        film = ahead[1] if ahead is not None and ahead[0] == path else self.prefetcher.take(path)
        if film is not None:
            if reading.dirty:
                reading.save_draft()
            reading.show_film(path, film, case.fractured_levels)  # type: ignore[arg-type]
        else:
            reading.open_film(path, case.fractured_levels)
        QTimer.singleShot(0, self._prefetch_next)

    def _prefetch_next(self) -> None:
        try:
            paths = self.store.upcoming_paths(self.prefetch_count)
        except KyphoangleError:
            return  # prefetching is only a speed-up; the case opens normally later
        self.upcoming = list(paths)
        self.prefetcher.prefetch(list(paths))

    def case_closed_meanwhile(self) -> bool:
        """After a draft failed: whether the case on screen is no longer the reader's (signed
        elsewhere); the next one is then opened. False when the database cannot tell."""
        try:
            current = self.store.current_case()
        except KyphoangleError:
            return False  # the database is away: keep the edits and retry with the next edit
        if current is None or current.sop_instance_uid != self.reading.model.sop_instance_uid:
            self.reading.dirty = False  # the landmarks are in the recovery folder; the case is no longer ours
            QTimer.singleShot(0, self.advance)
            return True
        return False
