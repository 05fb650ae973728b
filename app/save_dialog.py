"""Asking where to save a file: the same non-native dialog on every platform (and in tests)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget


def ask_save_path(parent: QWidget, title: str, suggested: Path, name_filter: str) -> Path | None:
    """The path the user chose to save to (suggesting `suggested`), or None when they cancel.

    `name_filter` is a Qt filter such as "CSV files (*.csv)"; its first suffix is added to a name typed
    without one. Overwriting an existing file is confirmed by the dialog itself.
    """
    dialog = QFileDialog(parent, title, str(suggested.parent))
    dialog.setObjectName("saveFileDialog")
    dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)
    dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    dialog.setFileMode(QFileDialog.FileMode.AnyFile)
    dialog.setNameFilters([name_filter, "All files (*)"])
    dialog.setDefaultSuffix(suggested.suffix.lstrip("."))
    dialog.selectFile(suggested.name)
    if dialog.exec() != QFileDialog.DialogCode.Accepted or not dialog.selectedFiles():
        return None
    return Path(dialog.selectedFiles()[0])
