"""`kyphoangle` entry point: without a command the reading workstation opens, with one the CLI runs.

The global options (`--db URL`, `--data-dir DIR`, `-v`) apply to both: `kyphoangle --db URL` opens the
workstation on that database, `kyphoangle --db URL users list` runs the command. Without a display the
workstation is not started: the program says how to get one and exits 2. `kyphoangle --self-check`
opens a demo film offscreen, asks for a snapping proposal, places its landmarks, computes a measurement,
draws an agreement report and exits 0 (used to check a frozen installer).
"""

from __future__ import annotations

import math
import os
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kyphoangle.exit_status import ExitStatus
from kyphoangle.vocabulary import UserRole

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QMainWindow

    from app.sample_film import SampleFilm
    from app.snapping import SnapAssistant
    from kyphoangle.workstation.records import Account
    from kyphoangle.workstation.study_reads import StudyReadService

DEMO_HINT = (
    "Demo study: sign in as demo, password demo-reader (site reading; site.reader / site-reader too).<br>"
    "Central reading: central1 / central-1! or central2 / central-2!; "
    "adjudication: adjudicator / adjudicate; campaigns: data.manager / data-manager."
)
"""The sign-in dialog's note on the demo study's accounts (the README lists them too)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch: the self-check, a command (anything after the global options), else the workstation."""
    import multiprocessing

    from kyphoangle.cli import apply_global_options, split_global_options
    from kyphoangle.errors import KyphoangleError

    # The installed bundle starts film decoder workers by running itself: let them be workers.
    multiprocessing.freeze_support()
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "--self-check":
        return self_check()
    try:
        options, rest = split_global_options(args)
    except KyphoangleError as exc:
        print(f"kyphoangle: error: {exc}", file=sys.stderr)
        return ExitStatus.BAD_INPUT
    if rest:
        from kyphoangle.cli import main as cli_main

        return cli_main(args)
    apply_global_options(options)
    return start_gui(options.verbosity)


def start_gui(verbosity: int = 0) -> int:
    """Open the workstation when a display is there (else say how to get one, exit 2), logging any
    unexpected error with its traceback and showing it as one dialog (exit 1)."""
    from kyphoangle.log import configure_logging, get_logger

    configure_logging(verbosity)
    problem = display_problem()
    if problem is not None:
        print(problem, file=sys.stderr)
        return ExitStatus.BAD_INPUT
    from app.error_report import install_exception_hook, report_unexpected_error

    install_exception_hook()
    get_logger("app.entry").info("workstation starting")
    try:
        return run_gui(database_url=default_database_url())
    except Exception as exc:
        return report_unexpected_error(exc)


NO_DISPLAY_MESSAGE = (
    "kyphoangle: no display for the reading workstation (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
    "Start it from a desktop session, over `ssh -X`, or under a virtual X server: `xvfb-run -a kyphoangle`.\n"
    "The commands need no display: `kyphoangle --help`."
)
"""What `kyphoangle` prints, exiting 2, when the workstation is asked for without a display."""

_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb")


def display_problem(environment: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """Why the workstation cannot show a window here, or None. Only X11/Wayland systems can lack a
    display; Windows and macOS always have one, and Qt's off-screen platforms need none."""
    env = os.environ if environment is None else environment
    system = sys.platform if platform is None else platform
    if not system.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    if env.get("QT_QPA_PLATFORM", "").split(":")[0] in _HEADLESS_PLATFORMS:
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return NO_DISPLAY_MESSAGE


def default_database_url() -> str:
    """The study database the workstation opens by default: $KYPHOANGLE_DB, else the user's SQLite file."""
    from kyphoangle.workstation.connection import default_database_url as default_url

    return default_url()


def default_data_dir() -> Path:
    """The workstation's own folder (recovery files): `workstation` in the data folder."""
    from kyphoangle.folders import data_folder

    return data_folder() / "workstation"


def recovery_folder() -> Path:
    """Where the workstation keeps landmarks it could not save: `recovery` in its data folder."""
    return default_data_dir() / "recovery"


def run_gui(*, database_url: str) -> int:
    """Open the study database, sign in, then show the signed-in role's window until it closes."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.dialogs import LoginDialog
    from kyphoangle.errors import KyphoangleError
    from kyphoangle.workstation.connection import open_study
    from kyphoangle.workstation.study_reads import StudyReadService

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QApplication.setOrganizationName("kyphoangle")
    QApplication.setApplicationName("kyphoangle")
    from kyphoangle.errors import OutputFileError
    from kyphoangle.output_file import private_folder

    try:
        private_folder(default_data_dir())  # 0700: recovery files live here
    except OutputFileError as exc:
        print(f"kyphoangle: {exc}", file=sys.stderr)
        return 2
    try:
        store = StudyReadService(open_study(database_url))
    except KyphoangleError as exc:
        QMessageBox.critical(None, "kyphoangle", f"The study database cannot be opened:\n\n{exc}")
        return 2
    settings = QSettings()
    demo = os.environ.get("KYPHOANGLE_DEMO") == "1"
    hint = DEMO_HINT if demo else ""
    signed_out = False
    while True:
        last_user = str(settings.value("login/last_user", "")) or ("demo" if demo else "")
        login = LoginDialog(store, last_user=last_user, hint=hint)
        if login.exec() != LoginDialog.DialogCode.Accepted or login.account is None:
            return 0 if signed_out else 1
        settings.setValue("login/last_user", login.account.login)
        window, why_not = window_for(store, login.account, settings, recovery_folder())
        if window is None:
            QMessageBox.information(None, "kyphoangle", why_not)
            continue  # another account may sign in
        add_sign_out(window)
        window.show()
        code = int(app.exec())
        signed_out = bool(window.property("signed_out"))
        window.deleteLater()
        if not signed_out:
            return code


SIGN_OUT_TEXT = "Sign out (switch user)"
"""The File menu's action that closes the window and shows the sign-in dialog again."""


def add_sign_out(window: QMainWindow) -> None:
    """Put "Sign out (switch user)" in the window's File menu: closes it and signs in again."""
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QMenu

    action = QAction(SIGN_OUT_TEXT, window)
    action.setObjectName("action_sign_out")

    def sign_out() -> None:
        window.setProperty("signed_out", True)
        window.close()

    action.triggered.connect(sign_out)
    for menu in window.menuBar().findChildren(QMenu):
        if menu.title().replace("&", "") == "File":
            quit_action = next((a for a in menu.actions() if a.objectName() == "action_quit"), None)
            menu.insertAction(quit_action, action)  # type: ignore[arg-type]
            return
    window.menuBar().addAction(action)


def window_for(
    store: StudyReadService, account: Account, settings: QSettings, recovery_dir: Path
) -> tuple[QMainWindow | None, str]:
    """The window of the signed-in role: blinded reading (central readers), adjudication (adjudicators),
    else the reading workstation; None with the reason when the role has nothing to do."""
    from app.main_window import ReadingWindow
    from kyphoangle.workstation.adjudication import adjudications_waiting
    from kyphoangle.workstation.campaign_reads import campaign_with_cases_left

    store.use_account(account)
    if account.role == UserRole.CENTRAL_READER:
        blinded = blinded_window_for(store, account, settings, recovery_dir)
        return blinded, "No reading campaign is open for you. Please ask the data manager."
    if account.role == UserRole.ADJUDICATOR:
        # An adjudicator may also read centrally in another campaign: with nothing waiting for their
        # decision but cases left to read, they get the blinded window.
        waiting = adjudications_waiting(store.database, account.login)
        if not waiting and campaign_with_cases_left(store.database, account.login) is not None:
            return blinded_window_for(store, account, settings, recovery_dir), ""
        adjudication = adjudication_window_for(store, account, settings, recovery_dir)
        if adjudication is None:
            blinded = blinded_window_for(store, account, settings, recovery_dir)
            if blinded is not None:
                return blinded, ""
        return adjudication, "You adjudicate no open reading campaign. Please ask the data manager."
    return ReadingWindow(store, account, settings, recovery_dir=recovery_dir), ""


def blinded_window_for(
    store: StudyReadService, account: Account, settings: QSettings, recovery_dir: Path
) -> QMainWindow | None:
    """The blinded window of a central reader's open campaign, else None."""
    from app.blinded_window import BlindedReadingWindow
    from kyphoangle.workstation.campaign_reads import CampaignReadService, open_campaign_for

    code = open_campaign_for(store.database, account.login)
    if code is None:
        return None
    campaign_store = CampaignReadService(store.database, code)
    return BlindedReadingWindow(campaign_store, account, settings, recovery_dir=recovery_dir)


def adjudication_window_for(
    store: StudyReadService, account: Account, settings: QSettings, recovery_dir: Path
) -> QMainWindow | None:
    """The adjudicator's window of their open campaign, else None."""
    from app.adjudication_window import AdjudicationWindow
    from kyphoangle.workstation.adjudication import AdjudicationService, open_adjudication_for

    code = open_adjudication_for(store.database, account.login)
    if code is None:
        return None
    return AdjudicationWindow(
        AdjudicationService(store.database, code), account, settings, recovery_dir=recovery_dir
    )


def self_check() -> int:
    """Open a demo film offscreen, snap a corner, place its landmarks, compute the angles; 0 when all is
    well."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.commands import PlaceLandmarkCommand, SetFracturedLevelsCommand
    from app.main_window import ReadingWindow
    from app.sample_film import write_sample_film
    from kyphoangle.normal_table import load_normal_table
    from kyphoangle.protocol import compute_measurements

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="kyphoangle-self-check-") as temporary:
        folder = Path(temporary)
        film = write_sample_film(folder / "demo.dcm", rows=800, columns=400, spacing_mm=(0.75, 0.75))
        store = _self_check_study(folder, film.path)
        settings = QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)
        window = ReadingWindow(store, store.account, settings)
        window.setProperty("suppress_dialogs", True)
        reading = window.reading
        loop = QEventLoop()
        reading.loader.film_loaded.connect(lambda *_: loop.quit())
        reading.loader.load_failed.connect(lambda *_: loop.quit())
        QTimer.singleShot(20000, loop.quit)
        reading.open_film(film.path)
        loop.exec()
        if reading.film is None:
            print("self-check: FAILED: the demo film did not open", file=sys.stderr)
            return 1
        if not _codec_check(folder):
            print(
                "self-check: FAILED: a 12-bit JPEG Extended film did not decode (imagecodecs)",
                file=sys.stderr,
            )
            return 1
        snap_error = _snapping_check(reading.snapping, film)
        if snap_error is None or snap_error > SELF_CHECK_SNAP_TOLERANCE_MM:
            print("self-check: FAILED: no snapping proposal on the true corner (OpenCV)", file=sys.stderr)
            return 1
        reading.undo_stack.push(SetFracturedLevelsCommand(reading.model, ("L1",)))
        for step in reading.steps:
            reading.undo_stack.push(PlaceLandmarkCommand(reading.model, step.key, film.truth[step.key]))
        window.grab()
        result = reading.result
        expected = compute_measurements(
            film.truth,
            spacing=reading.film.spacing,
            fractured_levels=("L1",),
            normal_table=load_normal_table(),
        )
        shown = result.get("thoracic_kyphosis") if result else None
        truth = expected.get("thoracic_kyphosis")
        reading.save_draft()
        window.close()
        app.processEvents()
        if shown is None or truth is None or abs(shown.value - truth.value) > 1e-9:
            print("self-check: FAILED: thoracic kyphosis not computed as expected", file=sys.stderr)
            return 1
        pdf_bytes = _report_check(folder)
        if pdf_bytes == 0:
            print(
                "self-check: FAILED: the agreement report (PDF, and its plot on screen) was not drawn",
                file=sys.stderr,
            )
            return 1
        platform = QApplication.platformName()
        print(
            f"self-check: OK (thoracic kyphosis {shown.value:+.1f} deg, snapped corner {snap_error:.2f} mm "
            f"from the truth, agreement report PDF {pdf_bytes} bytes, Qt platform {platform})"
        )
    return 0


def _codec_check(folder: Path) -> bool:
    """Write a small 12-bit JPEG Extended film and read it back (imagecodecs loads its libjpeg-turbo
    module on first use only, so a bundle can lack it and still start)."""
    import numpy as np
    from pydicom import uid

    from kyphoangle.dicom import load_radiograph
    from kyphoangle.dicom.writer import write_radiograph

    ramp = np.add.outer(np.arange(64), np.arange(64)).astype(np.uint16) * 32
    path = write_radiograph(
        folder / "jpeg-extended.dcm", ramp, transfer_syntax=uid.JPEGExtended12Bit, pixel_spacing_mm=(0.5, 0.5)
    )
    pixels = load_radiograph(path).pixels
    return pixels.shape == ramp.shape and float(np.abs(pixels.astype(float) - ramp).max()) < 64.0


SELF_CHECK_SNAP_TOLERANCE_MM = 1.0
"""A snapped corner of the demo film this close to the true corner is right (the cortex is about 1 mm)."""


def _snapping_check(snapping: SnapAssistant, film: SampleFilm) -> float | None:
    """Click a corner of the demo film 2 mm off and ask for a snapping proposal (OpenCV's image
    processing, as in the bundle); how far the proposal lies from the true corner in mm, None without one.
    """
    key = "L1.superior.anterior"
    column, row = film.truth[key]
    row_mm, column_mm = film.spacing_mm
    offset_mm = 1.5
    proposal = snapping.propose(key, (column + offset_mm / column_mm, row + offset_mm / row_mm), {})
    if proposal is None:
        return None
    end_column, end_row = proposal.moves[0].end
    return math.hypot((end_column - column) * column_mm, (end_row - row) * row_mm)


def _self_check_study(folder: Path, film: Path) -> StudyReadService:
    """A study database in `folder` with one site reader (signed in) and the film imported."""
    from kyphoangle.workstation.accounts import add_user, create_first_admin
    from kyphoangle.workstation.connection import open_study, sign_in
    from kyphoangle.workstation.study_reads import StudyReadService

    database = open_study(str(folder / "self-check.sqlite3"))
    create_first_admin(database, "admin", "self-check-admin")
    add_user(
        sign_in(database, "admin", "self-check-admin"), "demo", UserRole.SITE_READER, "self-check-reader"
    )
    admin = StudyReadService(database)
    admin.authenticate("admin", "self-check-admin")
    admin.import_paths([film], lambda *_: None, lambda: False)
    store = StudyReadService(database)
    store.authenticate("demo", "self-check-reader")
    return store


def _report_check(folder: Path) -> int:
    """Draw an agreement report (statistics and a Bland-Altman plot) as PDF, and the plot as the agreement
    panel shows it; the PDF's size, 0 when either failed.

    Checks that an installed program carries matplotlib's off-screen backends, and that Qt reads their
    PNG (the bundle carries no image format plugin: QtGui reads PNG itself).
    """
    from app.agreement_view import bland_altman_pixmap
    from kyphoangle.agreement_report import (
        PAIR_SEPARATOR,
        AgreementReport,
        AgreementScope,
        agreement_line,
        write_pdf,
    )

    rows = [(10.0 + i, 10.0 + i + (0.5 if i % 2 else -0.25)) for i in range(8)]
    line = agreement_line(
        AgreementScope.INTER, "", f"reader 1{PAIR_SEPARATOR}reader 2", "regional_angle", "L1", "deg", rows
    )
    path = folder / "agreement.pdf"
    write_pdf(AgreementReport("SELF-CHECK", (line,)), path)
    data = path.read_bytes() if path.exists() else b""
    shown = not bland_altman_pixmap(line).isNull()
    return len(data) if data.startswith(b"%PDF") and line.bias is not None and shown else 0


if __name__ == "__main__":
    sys.exit(main())
