"""Fuzzing campaign: mutated films and landmark files through `kyphoangle measure`, `kyphoangle import` and
the workstation's open (offscreen).

Seeds are real files: pydicom's test films, pydicom-data's radiographs (when installed), phantom films in
every encoding kyphoangle writes, a small demo study, and a valid landmark file. Mutations flip and
insert bytes, truncate, rewrite header attributes with hostile values (sizes, bits, spacings,
magnification, encodings, frame counts), and build deflate bombs and decoder-abort films; landmark
files get unknown and duplicate keys, NaN, huge numbers, deep nesting, wrong types and random bytes.

Each target runs in a runner process that handles cases one by one and reports one JSON line per case;
the orchestrator restarts a runner that crashed (a crashed process) or did not answer within the time
limit (a hang). Goal: no traceback, no exit status other than 0, 2 or 4, no hang over 10 s, no crash.

    .venv/bin/python scripts/fuzz.py --films 2000 --landmarks 1000 [--seed 1] [--report fuzz.json]

Exit status 0 when the goal is met, 1 otherwise; the summary is printed as JSON.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import select
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TIME_LIMIT_S = 10.0
"""A case that takes longer is a hang."""
PASSWORD = "fuzzing password 1"
ACCEPTED_EXITS = (0, 2, 4)


# ------------------------------------------------------------------------------------------ corpus
def seed_films(folder: Path) -> list[Path]:
    """Real films to mutate: pydicom's, pydicom-data's (small ones), ours in every encoding, demo films."""
    import importlib.metadata

    import numpy as np
    import pydicom
    from pydicom import uid

    from kyphoangle.demo import FilmSize, generate_demo_films
    from kyphoangle.dicom.radiograph import PatientIdentity
    from kyphoangle.dicom.writer import WRITABLE_TRANSFER_SYNTAXES, write_radiograph

    seeds = sorted((Path(pydicom.__file__).parent / "data" / "test_files").glob("*.dcm"))
    try:
        data = Path(str(importlib.metadata.distribution("pydicom-data").locate_file("data_store/data")))
        seeds += [p for p in sorted(data.glob("*.dcm")) if p.stat().st_size < 3_000_000]
    except importlib.metadata.PackageNotFoundError:
        pass
    phantom = folder / "phantom"
    phantom.mkdir(parents=True)
    pixels = (np.add.outer(np.arange(160), np.arange(120)) * 23 % 4000).astype(np.uint16)
    for n, syntax in enumerate(WRITABLE_TRANSFER_SYNTAXES):
        film = pixels.astype(np.uint8) if syntax == uid.JPEGBaseline8Bit else pixels
        identity = PatientIdentity(patient_id=f"FZ{n:02d}", patient_name=f"Fuzz^{n}")
        seeds.append(
            write_radiograph(
                phantom / f"{n:02d}.dcm",
                film,
                transfer_syntax=syntax,
                identity=identity,
                imager_pixel_spacing_mm=(0.15, 0.15),
                ermf=1.1,
            )
        )
    demo = generate_demo_films(folder / "demo", subjects=1, film_size=FilmSize(500, 250, 2.0))
    seeds += [film.path for film in demo.films]
    return seeds


def _set(ds: Any, keyword: str, value: Any) -> None:
    with contextlib.suppress(Exception):  # a value pydicom refuses to set is simply not set
        setattr(ds, keyword, value)


HOSTILE_ATTRIBUTES: tuple[tuple[str, Any], ...] = (
    ("Rows", 0), ("Rows", 65535), ("Columns", 1), ("Columns", 30000), ("BitsAllocated", 12),
    ("BitsAllocated", 64), ("BitsStored", 40), ("HighBit", 99), ("SamplesPerPixel", 3),
    ("SamplesPerPixel", 0), ("PhotometricInterpretation", "YBR_FULL_422"), ("PhotometricInterpretation", "X"),
    ("PixelSpacing", ["1e308", "0.1"]), ("PixelSpacing", ["0", "0"]), ("ImagerPixelSpacing", ["nan", "1"]),
    ("EstimatedRadiographicMagnificationFactor", "1e-320"), ("NumberOfFrames", "1000000"),
    ("NumberOfFrames", "-3"), ("PixelRepresentation", 7), ("RescaleSlope", "0"),
    ("RescaleIntercept", "1e400"), ("WindowWidth", "-5"), ("WindowCenter", "abc"), ("PlanarConfiguration", 9),
)  # fmt: skip


def mutate_film(source: Path, target: Path, rng: random.Random) -> Path:
    """One mutated copy of a film (the mutation is drawn from `rng`)."""
    import pydicom
    from pydicom import uid

    from kyphoangle.dicom.hostile import write_decoder_abort_film, write_deflate_bomb

    kind = rng.choice(("flip", "flip", "truncate", "insert", "attribute", "attribute", "syntax", "special"))
    data = bytearray(source.read_bytes())
    if kind == "special":
        choice = rng.choice(("bomb", "abort", "empty", "random"))
        if choice == "bomb":
            return write_deflate_bomb(target, inflated_bytes=rng.choice((64 << 20, 2 << 30)))
        if choice == "abort":
            return write_decoder_abort_film(target)
        target.write_bytes(b"" if choice == "empty" else rng.randbytes(rng.randint(1, 4096)))
        return target
    if kind in ("attribute", "syntax"):
        try:
            ds = pydicom.dcmread(source, force=True)
            if kind == "attribute":
                for keyword, value in rng.sample(HOSTILE_ATTRIBUTES, rng.randint(1, 3)):
                    _set(ds, keyword, value)
            else:
                syntaxes = (
                    uid.JPEG2000,
                    uid.JPEGLSLossless,
                    uid.RLELossless,
                    uid.JPEGBaseline8Bit,
                    uid.HTJ2K,
                )
                ds.file_meta.TransferSyntaxUID = rng.choice(syntaxes)
            ds.save_as(target)
            return target
        except Exception:
            kind = "flip"  # a seed pydicom cannot rewrite is mutated at the byte level instead
    if kind == "flip" and data:
        for _ in range(rng.randint(1, 40)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == "truncate" and data:
        del data[rng.randrange(len(data)) :]
    elif data:
        at = rng.randrange(len(data))
        data[at:at] = rng.randbytes(rng.randint(1, 512))
    target.write_bytes(bytes(data))
    return target


def valid_landmarks(sop_instance_uid: str) -> dict[str, Any]:
    """A complete, valid landmark document for a 160 x 120 film."""
    return {
        "format": "kyphoangle.landmarks/1",
        "image": {"sop_instance_uid": sop_instance_uid},
        "reader": "fuzz",
        "read_type": "site",
        "fractured_levels": ["L1"],
        "points": {
            f"{v}.{side}.{pos}": [10.0 + 3 * i, 5.0 + 8 * n + (4 if side == "inferior" else 0)]
            for n, v in enumerate(("T12", "L1", "L2"))
            for side in ("superior", "inferior")
            for i, pos in enumerate(("posterior", "middle", "anterior"))
        },
        "calibration": {"row_mm": 0.15, "col_mm": 0.15},
    }


def mutate_landmarks(document: dict[str, Any], target: Path, rng: random.Random) -> Path:
    """One mutated landmark file."""
    text = json.dumps(document)
    kind = rng.choice(
        (
            "rename",
            "nan",
            "huge",
            "deep",
            "duplicate",
            "type",
            "bytes",
            "truncate",
            "outside",
            "spacing",
            "big",
        )
    )
    doc = json.loads(text)
    if kind == "rename":
        key = rng.choice(list(doc))
        doc[key[:-1] + rng.choice("sx_")] = doc.pop(key)
        text = json.dumps(doc)
    elif kind == "nan":
        text = text.replace("10.0", rng.choice(("NaN", "Infinity", "-Infinity", "1e400")), 1)
    elif kind == "huge":
        text = text.replace("10.0", "9" * rng.choice((30, 5000)), 1)
    elif kind == "deep":
        depth = rng.choice((10, 1000, 100_000))
        text = text[:-1] + ', "x": ' + "[" * depth + "]" * depth + "}"
    elif kind == "duplicate":
        text = text[:-1] + ', "points": {}}'
    elif kind == "type":
        key = rng.choice(list(doc))
        doc[key] = rng.choice((None, 7, "x", [], {}, True, [1, 2, 3]))
        text = json.dumps(doc)
    elif kind == "bytes":
        raw = bytearray(text.encode())
        for _ in range(rng.randint(1, 10)):
            raw[rng.randrange(len(raw))] = rng.randrange(256)
        target.write_bytes(bytes(raw))
        return target
    elif kind == "truncate":
        text = text[: rng.randrange(len(text))]
    elif kind == "outside":
        point = rng.choice(list(doc["points"]))
        doc["points"][point] = [rng.choice((-1.0, 1e9, 5000.0)), 3.0]
        text = json.dumps(doc)
    elif kind == "spacing":
        doc["calibration"] = {"row_mm": rng.choice((1e-320, 0.0, 11.0, -1)), "col_mm": 0.1}
        text = json.dumps(doc)
    else:
        text = text[:-1] + ', "reader": "' + "x" * (1 << 20) + '"}'
    target.write_text(text, encoding="utf-8")
    return target


# ------------------------------------------------------------------------------------------ runners
def _runner_main(target: str, database: str) -> None:
    """Handle cases read from stdin (one JSON line each); write one JSON line per case to stdout."""
    import io
    import traceback

    os.environ["KYPHOANGLE_PASSWORD"] = PASSWORD
    from kyphoangle.cli import main

    window: Any = None
    if target == "open":
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QEventLoop, QSettings, QTimer
        from PySide6.QtWidgets import QApplication

        from app.main_window import ReadingWindow
        from kyphoangle.workstation.connection import open_study
        from kyphoangle.workstation.records import Account
        from kyphoangle.workstation.study_reads import StudyReadService

        application = QApplication.instance() or QApplication(["fuzz"])
        folder = Path(tempfile.mkdtemp(prefix="fuzz-gui-"))
        settings = QSettings(str(folder / "s.ini"), QSettings.Format.IniFormat)
        store = StudyReadService(open_study(str(folder / "study.sqlite3")))
        store.use_account(Account("fuzz", "Fuzz"))
        window = ReadingWindow(store, store.account, settings)
        window.setProperty("suppress_dialogs", True)
        window.show()
        application.processEvents()
    for line in sys.stdin:
        case = json.loads(line)
        started = time.perf_counter()
        out, err = io.StringIO(), io.StringIO()
        code: int
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                if target == "measure":
                    code = main(["measure", case["film"], "--landmarks", case["landmarks"]])
                elif target == "import":
                    argv = ["import", case["film"], "--db", database, "--user", "admin", "--quiet"]
                    code = main(
                        [*argv, "--skipped-csv", str(Path(database.split("///")[1]).parent / "s.csv")]
                    )
                else:
                    loop = QEventLoop()
                    window.reading.loader.film_loaded.connect(loop.quit)
                    window.reading.loader.load_failed.connect(loop.quit)
                    QTimer.singleShot(int(TIME_LIMIT_S * 1000), loop.quit)
                    window.reading.open_film(case["film"])
                    loop.exec()
                    window.reading.loader.film_loaded.disconnect(loop.quit)
                    window.reading.loader.load_failed.disconnect(loop.quit)
                    if window.reading.film is not None:
                        window.reading.view.repaint()
                    code = 0 if not window.reading.loader.busy else 124
        except SystemExit as exc:
            code = int(exc.code or 0) if isinstance(exc.code, int) else 2
        except BaseException:
            code = 1
            err.write(traceback.format_exc())
        text = out.getvalue()[-2000:] + err.getvalue()[-2000:]
        result = {
            "case": case["id"],
            "exit": code,
            "traceback": "Traceback (most recent call last)" in text,
            "seconds": round(time.perf_counter() - started, 3),
        }
        sys.stdout.write(json.dumps(result) + "\n")
        sys.stdout.flush()


class Runner:
    """A runner process for one target, restarted when it crashes or hangs."""

    def __init__(self, target: str, database: str) -> None:
        self.target, self.database = target, database
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> None:
        """Start a fresh runner process."""
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--runner", self.target, "--database", self.database],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )

    def run(self, case: dict[str, Any]) -> dict[str, Any]:
        """Run one case; its result, or a hang or crash record (the runner is then replaced)."""
        if self.process is None or self.process.poll() is not None:
            self.start()
        assert self.process is not None and self.process.stdin and self.process.stdout
        self.process.stdin.write(json.dumps(case) + "\n")
        self.process.stdin.flush()
        # the first case of a runner also pays its start-up (imports, a window): allowed on top
        ready, _, _ = select.select([self.process.stdout], [], [], TIME_LIMIT_S + 20)
        line = self.process.stdout.readline() if ready else ""
        if line:
            return dict(json.loads(line))
        if not ready:
            self.process.kill()
            self.process.wait()
            return {"case": case["id"], "hang": True}
        code = self.process.wait()
        return {"case": case["id"], "crash": True, "exit": code}

    def stop(self) -> None:
        """Let the runner finish and exit."""
        if self.process is not None and self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(30)


def _database(folder: Path) -> str:
    from kyphoangle.storage.engine import open_database
    from kyphoangle.storage.models import UserRole
    from kyphoangle.storage.users import create_user

    url = f"sqlite:///{folder / 'fuzz.db'}"
    database = open_database(url)
    with database.transaction() as session:
        create_user(session, login="admin", role=UserRole.ADMIN, password=PASSWORD, actor=None)
    database.dispose()
    return url


def _counts(results: list[dict[str, Any]]) -> str:
    tracebacks = sum(1 for r in results if r.get("traceback"))
    hangs = sum(1 for r in results if r.get("hang"))
    crashes = sum(1 for r in results if r.get("crash"))
    bad = sum(1 for r in results if "exit" in r and r["exit"] not in ACCEPTED_EXITS and not r.get("crash"))
    films = sum(1 for r in results if str(r.get("case", "")).startswith("film"))
    return (
        f"{films} film runs, {len(results) - films} landmark runs; {tracebacks} tracebacks,"
        f" {bad} other exits,"
        f" {hangs} hangs, {crashes} crashes"
    )


def campaign(films: int, landmark_files: int, seed: int, folder: Path) -> dict[str, Any]:
    """Generate the cases, run every target, and summarise."""
    import pydicom

    rng = random.Random(seed)
    seeds = seed_films(folder / "seeds")
    good_film = next(p for p in seeds if p.parent.name == "phantom")
    good_uid = str(pydicom.dcmread(good_film, stop_before_pixels=True).SOPInstanceUID)
    good_marks = folder / "good.json"
    good_marks.write_text(json.dumps(valid_landmarks(good_uid)), encoding="utf-8")
    (folder / "films").mkdir()
    (folder / "marks").mkdir()
    cases: list[tuple[str, dict[str, Any]]] = []
    for n in range(films):
        film = mutate_film(rng.choice(seeds), folder / "films" / f"{n:05d}.dcm", rng)
        for target in ("measure", "import", "open"):
            cases.append(
                (target, {"id": f"film-{n}-{target}", "film": str(film), "landmarks": str(good_marks)})
            )
    for n in range(landmark_files):
        marks = mutate_landmarks(valid_landmarks(good_uid), folder / "marks" / f"{n:05d}.json", rng)
        cases.append(("measure", {"id": f"landmarks-{n}", "film": str(good_film), "landmarks": str(marks)}))
    rng.shuffle(cases)  # every target and kind of case is covered early (a partial run says something)
    database = _database(folder)
    runners = {target: Runner(target, database) for target in ("measure", "import", "open")}
    results: list[dict[str, Any]] = []
    started = time.perf_counter()
    for number, (target, case) in enumerate(cases, start=1):
        results.append({"target": target, **runners[target].run(case)})
        if number % 100 == 0:
            print(f"fuzz: {number}/{len(cases)} cases: {_counts(results)}", file=sys.stderr, flush=True)
    for runner in runners.values():
        runner.stop()
    bad_exit = [r for r in results if "exit" in r and r["exit"] not in ACCEPTED_EXITS and not r.get("crash")]
    return {
        "films": films,
        "landmark_files": landmark_files,
        "cases": len(results),
        "seconds": round(time.perf_counter() - started, 1),
        "tracebacks": sum(1 for r in results if r.get("traceback")),
        "bad_exits": len(bad_exit),
        "hangs": sum(1 for r in results if r.get("hang")),
        "crashes": sum(1 for r in results if r.get("crash")),
        "slowest_s": max((r.get("seconds", 0.0) for r in results), default=0.0),
        "exits": {str(code): sum(1 for r in results if r.get("exit") == code) for code in (0, 2, 4)},
        "failures": [r for r in results if r.get("traceback") or r.get("hang") or r.get("crash")][:20]
        + bad_exit[:20],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the campaign (or, internally, one runner) and print the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--films", type=int, default=2000)
    parser.add_argument("--landmarks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--report", help="write the summary as JSON here too")
    parser.add_argument("--runner", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.runner:
        _runner_main(args.runner, args.database)
        return 0
    with tempfile.TemporaryDirectory(prefix="kyphoangle-fuzz-") as folder:
        summary = campaign(args.films, args.landmarks, args.seed, Path(folder))
    text = json.dumps(summary, indent=2)
    print(text)
    if args.report:
        Path(args.report).write_text(text + "\n", encoding="utf-8")
    ok = not (summary["tracebacks"] or summary["bad_exits"] or summary["hangs"] or summary["crashes"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
