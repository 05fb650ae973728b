"""A slice of the fuzzing campaign (`scripts/fuzz.py`): 200 cases of mutated films and landmark files
through `kyphoangle measure`, `kyphoangle import` and the workstation's open, with no traceback, no exit
status other than 0, 2 or 4, no hang and no crashed process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_200_case_slice_of_the_fuzzing_campaign(tmp_path: Path) -> None:
    report = tmp_path / "fuzz.json"
    script = str(ROOT / "scripts" / "fuzz.py")
    run = subprocess.run(
        [
            sys.executable,
            script,
            "--films",
            "50",
            "--landmarks",
            "50",
            "--seed",
            "7",
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        check=False,
    )
    summary = json.loads(report.read_text(encoding="utf-8"))
    assert summary["cases"] == 50 * 3 + 50
    assert summary["failures"] == [], summary["failures"]
    assert (summary["tracebacks"], summary["bad_exits"], summary["hangs"], summary["crashes"]) == (0, 0, 0, 0)
    assert sum(summary["exits"].values()) == summary["cases"]
    assert run.returncode == 0, run.stderr[-2000:]
