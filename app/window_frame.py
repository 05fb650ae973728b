"""The frame every role's window puts around its reading view: docks, menus, status bar, saved layout.

Functions and one small keeper of the layout, called by each window (the windows share these parts by
using them, not by deriving from one another).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from PySide6.QtCore import QByteArray, QEvent, QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFrame,
    QMainWindow,
    QMenu,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from app.reading_view import ReadingView, shortcut_action
from app.shortcuts import SHORTCUTS

TOOLBAR_TEXT = {
    "open": "Open",
    "import": "Import",
    "save": "Save",
    "sign": "Sign\u2026",
    "sign_next": "Sign and next\u2026",
    "fit": "Fit",
    "actual": "1:1",
    "rotate_cw": "Rotate",
    "flip": "Flip",
    "invert": "Invert",
    "help": "Help (F1)",
}
"""Short toolbar captions (menus keep the full text)."""

ON_TOOLBAR = frozenset(
    {"open", "import", "undo", "redo", "fit", "actual", "rotate_cw", "flip", "invert", "save", "sign"}
    | {"sign_next", "help"}
)
"""The actions also on the toolbar."""

MENU_OF = {"Files": "&File", "Read": "&Read", "Landmarks": "&Landmarks", "View": "&View", "Help": "&Help"}
"""The menu of each group of `app.shortcuts`."""


def scrolling(panel: QWidget) -> QScrollArea:
    """A panel in a frameless scroll area: a small screen scrolls the panel instead of squeezing the film."""
    area = QScrollArea()
    area.setObjectName(f"{panel.objectName()}Scroll")
    area.setWidget(panel)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setMinimumHeight(160)
    area.setMinimumWidth(panel.minimumSizeHint().width())
    return area


def add_dock(
    window: QMainWindow, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea
) -> QDockWidget:
    """A movable, floatable, not closable dock holding `widget`."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setFeatures(
        QDockWidget.DockWidgetFeature.DockWidgetMovable | QDockWidget.DockWidgetFeature.DockWidgetFloatable
    )
    dock.setWidget(widget)
    window.addDockWidget(area, dock)
    return dock


def place_reading_view(window: QMainWindow, reading: ReadingView) -> None:
    """The film in the middle, guidance and measurements (observations in a tab) on the right, the
    reading view's labels in the status bar and its messages there too."""
    window.setCentralWidget(reading)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    add_dock(window, "Guidance", "guidanceDock", scrolling(reading.guidance_panel), right)
    measurements = add_dock(window, "Measurements", "measurementDock", reading.measurement_panel, right)
    observations = add_dock(window, "Observations", "observationDock", reading.observation_panel, right)
    window.tabifyDockWidget(measurements, observations)
    measurements.raise_()
    bar = window.statusBar()
    for widget in reading.status_widgets():
        bar.addPermanentWidget(widget)
    reading.message.connect(bar.showMessage)


def window_actions(
    window: QMainWindow, reading: ReadingView, handlers: Mapping[str, Callable[[], object]]
) -> dict[str, QAction]:
    """The reading view's actions and the window's own (`app.shortcuts` ids with their handlers)."""
    actions = dict(reading.view_actions)
    for action_id, handler in handlers.items():
        actions[action_id] = shortcut_action(action_id, window)
        actions[action_id].triggered.connect(handler)
    return actions


def build_menus(
    window: QMainWindow, actions: Mapping[str, QAction], reading: ReadingView
) -> dict[str, QMenu]:
    """File, Read, Landmarks, View and Help menus and the toolbar, in the order of `app.shortcuts`,
    with the actions the window has (an action it lacks is simply not there)."""
    menus = {name: window.menuBar().addMenu(name) for name in MENU_OF.values()}
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("mainToolBar")
    for shortcut in SHORTCUTS:
        action = actions.get(shortcut.action)
        if action is None:
            continue
        menus[MENU_OF[shortcut.group]].addAction(action)
        window.addAction(action)
        if shortcut.action in ON_TOOLBAR:
            action.setIconText(TOOLBAR_TEXT.get(shortcut.action, shortcut.text.rstrip("\u2026")))
            toolbar.addAction(action)
    menus["&View"].addMenu(reading.preset_menu)
    menus["&Landmarks"].addSeparator()
    menus["&Landmarks"].addAction(reading.view_actions["snapping"])
    menus["&Landmarks"].addAction(reading.view_actions["follow"])
    menus["&View"].addSeparator()
    for dock in window.findChildren(QDockWidget):
        menus["&View"].addAction(dock.toggleViewAction())
    return menus


def show_error(window: QMainWindow, title: str, message: str) -> str:
    """Say what went wrong in the status bar and in a dialog (none off screen when the window asks
    for none, as in tests); returns the message, which the window keeps as its last error."""
    window.statusBar().showMessage(message.splitlines()[0], 10000)
    if not (QApplication.platformName() == "offscreen" and window.property("suppress_dialogs")):
        QMessageBox.warning(window, title, message)
    return message


def default_size(window: QMainWindow) -> None:
    """1500 x 950, or most of a smaller screen."""
    screen = QApplication.primaryScreen()
    available = screen.availableGeometry() if screen is not None else None
    if available is None or available.width() <= 0:
        window.resize(1500, 950)
        return
    window.resize(min(1500, int(available.width() * 0.95)), min(950, int(available.height() * 0.92)))


class WindowLayout(QObject):
    """A window's geometry and panels, kept in the settings per kind of window and per role (an
    adjudicator's hidden panels must not hide a reader's); restored now, sized when the window is first
    shown, saved with the read's last edits when it closes."""

    def __init__(self, window: QMainWindow, reading: ReadingView, name: str, role: str) -> None:
        super().__init__(window)
        self.window, self.reading, self.settings = window, reading, reading.settings
        self.name, self.role = name, role
        self.kept: QByteArray | None = None
        """The panels as the reader arranged them, when the program hid some (e.g. a finished worklist)."""
        self.first_use = self.settings.value(self.key("state")) is None
        """No layout saved yet: the side panels are sized to the window when it is first shown."""
        self.restore()
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        """Shown: size the panels on first use; closing: save the draft and the layout."""
        if watched is self.window and event.type() == QEvent.Type.Show:
            self.shown()
        elif watched is self.window and event.type() == QEvent.Type.Close:
            self.reading.save_before_closing()
            self.save()
        return False

    def key(self, what: str) -> str:
        """The settings key of the window's `geometry` or `state`."""
        return f"window/{self.name}/{self.role}/{what}"

    def restore(self) -> None:
        """The saved geometry and panels, else the default size."""
        geometry = self.settings.value(self.key("geometry"))
        if isinstance(geometry, QByteArray):
            self.window.restoreGeometry(geometry)
        else:
            default_size(self.window)
        state = self.settings.value(self.key("state"))
        if isinstance(state, QByteArray):
            self.window.restoreState(state)

    def hide_for_now(self, names: tuple[str, ...]) -> None:
        """Hide panels the program has no use for now, keeping the reader's layout for the next session."""
        if self.kept is None:
            self.kept = self.window.saveState()
        for dock in self.window.findChildren(QDockWidget):
            if dock.objectName() in names:
                dock.hide()

    def shown(self) -> None:
        """On first use, side panels in proportion to the window: the film keeps about half of it."""
        if not self.first_use:
            return
        self.first_use = False
        window = self.window
        docks = {dock.objectName(): dock for dock in window.findChildren(QDockWidget)}
        guidance, measurements = docks.get("guidanceDock"), docks.get("measurementDock")
        if guidance is not None and measurements is not None:
            window.resizeDocks([guidance, measurements], [540, 420], Qt.Orientation.Vertical)
        wide = window.width() >= 1400
        sides = [d for d in (guidance, docks.get("browserDock")) if d is not None]
        window.resizeDocks(
            sides, ([470, 340] if wide else [380, 230])[: len(sides)], Qt.Orientation.Horizontal
        )

    def save(self) -> None:
        """Keep the geometry and the panels (as the reader left them) for the next session."""
        self.settings.setValue(self.key("geometry"), self.window.saveGeometry())
        self.settings.setValue(
            self.key("state"), self.kept if self.kept is not None else self.window.saveState()
        )
        self.settings.sync()
