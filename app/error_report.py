"""Unexpected errors in the workstation: logged with their traceback, shown to the user as one dialog."""

from __future__ import annotations

import sys
from types import TracebackType

from kyphoangle.exit_status import ExitStatus
from kyphoangle.log import get_logger, log_file

DIALOG_TITLE = "kyphoangle: unexpected error"


def unexpected_error_text(exc: BaseException) -> str:
    """The dialog's text: what happened in one line, where the details are, how to send them."""
    return (
        f"Something unexpected went wrong ({type(exc).__name__}). What was saved before stays saved.\n\n"
        f"The details are in the log: {log_file()}\n"
        "To send them to support: kyphoangle support-bundle FILE.zip (it holds no patient data)."
    )


def logged_unexpected_error(exc: BaseException, doing: str) -> str:
    """Log an unexpected failure of background work (`doing`, e.g. "DICOM report export") with its
    traceback; the text to show the user instead (`unexpected_error_text`)."""
    get_logger("app").error("%s failed", doing, exc_info=exc)
    return unexpected_error_text(exc)


def show_unexpected_error(exc: BaseException) -> None:
    """Log `exc` with its traceback and show one dialog (nothing is shown without a QApplication)."""
    get_logger("app").error("unexpected error in the workstation", exc_info=exc)
    from PySide6.QtWidgets import QApplication, QMessageBox

    if QApplication.instance() is None:
        print(unexpected_error_text(exc).replace("\n\n", "\n"), file=sys.stderr)
        return
    QMessageBox.critical(None, DIALOG_TITLE, unexpected_error_text(exc))


def report_unexpected_error(exc: BaseException) -> int:
    """Log and show an error that ended the workstation; the exit status (1, internal error)."""
    show_unexpected_error(exc)
    return ExitStatus.INTERNAL_ERROR


def _hook(kind: type[BaseException], exc: BaseException, traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, exc, traceback)
        return
    if exc.__traceback__ is None:
        exc = exc.with_traceback(traceback)
    show_unexpected_error(exc)


def install_exception_hook() -> None:
    """Route exceptions escaping Qt's slots and event handlers to the log and a dialog, not a traceback."""
    sys.excepthook = _hook
