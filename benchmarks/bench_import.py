"""Import throughput with the per-file checks: 1,000 films, header sanity and a decode probe each.

Run: `.venv/bin/python benchmarks/bench_import.py [COUNT]`. Goal: 1,000 films imported in <= 10 s
(SQLite database, films 1024 x 768 at 16 bits in JPEG-LS lossless, two decoder workers).
Results are printed and written to benchmarks/results/bench_import.json.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_S = 10.0


def main() -> int:
    from pydicom import uid

    from kyphoangle.dicom.decoder_pool import shared_pool
    from kyphoangle.dicom.radiograph import PatientIdentity
    from kyphoangle.dicom.writer import write_radiograph
    from kyphoangle.importer import import_radiographs
    from kyphoangle.storage.engine import open_database
    from kyphoangle.storage.models import UserRole
    from kyphoangle.storage.users import create_user

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    folder = Path(tempfile.mkdtemp(prefix="bench-import-"))
    rng = np.random.default_rng(7)
    base = (rng.normal(2000, 300, (768, 1024))).clip(0, 4095).astype(np.uint16)
    (folder / "films").mkdir()
    for n in range(count):
        identity = PatientIdentity(patient_id=f"P{n % 60:03d}", patient_name=f"Bench^{n % 60}")
        write_radiograph(
            folder / "films" / f"{n:05d}.dcm",
            np.roll(base, n, axis=1),
            transfer_syntax=uid.JPEGLSLossless,
            identity=identity,
            pixel_spacing_mm=(0.15, 0.15),
        )
    database = open_database(f"sqlite:///{folder / 'study.db'}")
    with database.transaction() as session:
        admin = create_user(
            session, login="admin", role=UserRole.ADMIN, password="a long password 1", actor=None
        )
        session.flush()
        session.expunge(admin)
    shared_pool().warm_up()
    start = time.perf_counter()
    summary = import_radiographs(database, folder / "films", actor=admin)
    elapsed = time.perf_counter() - start
    assert len(summary.new) == count, summary.lines()[:5]
    start = time.perf_counter()
    again = import_radiographs(database, folder / "films", actor=admin)
    rerun = time.perf_counter() - start
    assert len(again.already_known) == count
    results = {
        "films": count,
        "import_with_probe_s": round(elapsed, 2),
        "films_per_s": round(count / elapsed, 1),
        "goal_s_for_1000": GOAL_S,
        "ratio_to_goal": round(elapsed * 1000 / count / GOAL_S, 2),
        "reimport_s": round(rerun, 2),
    }
    out = ROOT / "benchmarks" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_import.json").write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
