"""GUI benchmarks: cold start, film open to first paint versus the decode floor, window/level drag step.

Run: `QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_gui.py` (or under xvfb-run).
Goals: cold start <= 1.5 s; first paint (decoded in a worker process) <= decode floor (decoded in this
process) + 100 ms; W/L step <= 16 ms at any zoom.
Results are printed and written to benchmarks/results/bench_gui.json.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLD_START = r"""
import time, sys, tempfile
t0 = time.perf_counter()
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from app.main_window import ReadingWindow
from kyphoangle.workstation.connection import open_study
from kyphoangle.workstation.records import Account
from kyphoangle.workstation.study_reads import StudyReadService
d = tempfile.mkdtemp()
settings = QSettings(d + "/s.ini", QSettings.Format.IniFormat)
store = StudyReadService(open_study(d + "/study.sqlite3"))
store.use_account(Account("demo", "Demo"))
w = ReadingWindow(store, store.account, settings)
w.resize(1600, 1000)
w.show()
w.repaint()
app.processEvents()
print(time.perf_counter() - t0)
"""


def cold_start() -> tuple[float, float]:
    """(in-process seconds to a painted window, wall seconds including the interpreter start)."""
    inner, wall = [], []
    for _ in range(3):
        start = time.perf_counter()
        out = subprocess.run(
            [sys.executable, "-c", COLD_START], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        wall.append(time.perf_counter() - start)
        inner.append(float(out.strip().splitlines()[-1]))
    return statistics.median(inner), statistics.median(wall)


def main() -> int:
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.main_window import ReadingWindow
    from app.sample_film import write_sample_film
    from kyphoangle.dicom import load_radiograph
    from kyphoangle.workstation.connection import open_study
    from kyphoangle.workstation.records import Account
    from kyphoangle.workstation.study_reads import StudyReadService

    results: dict[str, object] = {}
    inner, wall = cold_start()
    results["cold_start_s"] = round(inner, 3)
    results["cold_start_with_interpreter_s"] = round(wall, 3)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = Path(tempfile.mkdtemp(prefix="bench-gui-"))
    film = write_sample_film(folder / "big.dcm", rows=4000, columns=2000, spacing_mm=(0.1, 0.1))
    decode = []  # the floor: decoding in this process, as if no worker process were used
    for _ in range(3):
        start = time.perf_counter()
        load_radiograph(film.path)
        decode.append(time.perf_counter() - start)
    results["decode_floor_s"] = round(min(decode), 3)

    store = StudyReadService(open_study(str(folder / "study.sqlite3")))
    store.use_account(Account("demo", "Demo"))
    window = ReadingWindow(
        store,
        store.account,
        QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat),
    )
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    first_paint = []
    for _ in range(3):
        loop = QEventLoop()
        window.reading.loader.film_loaded.connect(loop.quit)
        QTimer.singleShot(30000, loop.quit)
        start = time.perf_counter()
        window.reading.open_film(film.path)
        loop.exec()
        window.reading.loader.film_loaded.disconnect(loop.quit)
        window.reading.view.repaint()
        first_paint.append(time.perf_counter() - start)
    results["open_to_first_paint_s"] = round(min(first_paint), 3)
    results["first_paint_over_floor_ms"] = round(1000 * (min(first_paint) - min(decode)), 1)

    view = window.reading.view
    view.fit()
    steps: dict[str, float] = {}
    for name, zoom in (("fit", view.view_geometry.zoom), ("1:1", 1.0), ("8x", 8.0)):
        view.set_geometry(replace(view.view_geometry, zoom=zoom, center=(1000.0, 2000.0)))
        view.repaint()
        view._drag_voi = view.voi
        times = []
        for i in range(40):
            start = time.perf_counter()
            view.apply_window_drag(3.0 * i, 2.0 * i)
            view.repaint()
            times.append(time.perf_counter() - start)
        steps[name] = round(1000 * statistics.median(times), 2)
        start = time.perf_counter()
        view.set_geometry(view.view_geometry.panned(37.0, 23.0))
        view.repaint()
        steps[f"pan_{name}"] = round(1000 * (time.perf_counter() - start), 2)
    results["window_level_step_ms"] = steps
    window.close()

    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_gui.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
