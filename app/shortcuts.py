"""Every keyboard shortcut in one table: the window builds its actions from it, F1 lists it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Shortcut:
    """One action: stable id, menu text, keys, group in the help dialog."""

    action: str
    text: str
    keys: tuple[str, ...]
    group: str


SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("open", "Open film\u2026", ("Ctrl+O",), "Files"),
    Shortcut("import", "Import files or folder\u2026", ("Ctrl+I",), "Files"),
    Shortcut("import_dicomdir", "Import DICOMDIR\u2026", ("Ctrl+Shift+I",), "Files"),
    Shortcut("save", "Save draft now", ("Ctrl+S",), "Read"),
    Shortcut("sign", "Sign read\u2026", ("Ctrl+Shift+S",), "Read"),
    Shortcut("sign_next", "Sign and open the next film of my worklist\u2026", ("Ctrl+Shift+N",), "Read"),
    Shortcut("undo", "Undo", ("Ctrl+Z",), "Read"),
    Shortcut("redo", "Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), "Read"),
    Shortcut("next_step", "Go to the next missing landmark", ("N",), "Landmarks"),
    Shortcut("labels", "Show or hide labels", ("L",), "Landmarks"),
    Shortcut("measurements", "Show or hide the angles drawn on the film", ("M",), "Landmarks"),
    Shortcut("fit", "Fit film to window", ("F",), "View"),
    Shortcut("actual", "Actual pixels (1:1)", ("1",), "View"),
    Shortcut("zoom_in", "Zoom in", ("+", "="), "View"),
    Shortcut("zoom_out", "Zoom out", ("-",), "View"),
    Shortcut("rotate_cw", "Rotate 90\u00b0 clockwise (display only)", ("R",), "View"),
    Shortcut("rotate_ccw", "Rotate 90\u00b0 counter-clockwise (display only)", ("Shift+R",), "View"),
    Shortcut("flip", "Flip left-right (display only)", ("H",), "View"),
    Shortcut("invert", "Invert grey levels", ("I",), "View"),
    Shortcut("reset_window", "Window: first preset of the file", ("W",), "View"),
    Shortcut("save_preset", "Save current window as a preset\u2026", ("Ctrl+W",), "View"),
    Shortcut("help", "Keyboard shortcuts and mouse", ("F1",), "Help"),
    Shortcut("quit", "Quit", ("Ctrl+Q",), "Files"),
)
"""Window-level shortcuts (each is a QAction)."""

VIEW_KEYS: tuple[tuple[str, str], ...] = (
    ("Left click", "Place the next landmark (hold to see the loupe and adjust, release to place)"),
    ("Left drag on a landmark", "Move it (one undo step per drag)"),
    ("Arrow keys", "Nudge the selected landmark by one screen pixel (sub-pixel when zoomed in)"),
    ("Shift+Arrow keys", "Nudge by ten screen pixels"),
    ("] / [", "Select the next / previous landmark (cranial to caudal), to nudge it"),
    ("Delete / Backspace", "Delete the selected landmark"),
    (
        "C",
        "Show or hide the level count: the levels counted up from S1 over the bodies placed, "
        "to confirm on the film",
    ),
    ("Esc", "Cancel placing or dragging; clear the selection"),
    ("Right drag", "Window/level: left-right changes width, up-down changes level"),
    ("Middle drag, or Space + left drag", "Pan"),
    ("Mouse wheel", "Zoom about the cursor"),
    ("Ctrl+1 \u2026 Ctrl+9", "Window presets (from the file, then your own)"),
)
"""Keys and gestures handled by the film view itself."""
