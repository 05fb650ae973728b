#!/usr/bin/env python3
"""Measure the tool's own error and write the documentation's validation page.

    .venv/bin/python scripts/validate.py                 # full run: writes docs/validation.md
    .venv/bin/python scripts/validate.py --small --out -  # a quick run (as in the test suite)

Exits 0 when every angle of the phantom truth is within 0.01 deg through every encoding, 1 otherwise.
See `kyphoangle.validation` for what is measured and how.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from kyphoangle.demo import FilmSize
from kyphoangle.output_file import write_text
from kyphoangle.validation import report_markdown, run_validation

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    """Run the validation and write its report."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--small", action="store_true", help="two subjects, small films, 50 repetitions")
    parser.add_argument(
        "--repeats", type=int, help="click-noise repetitions per spine and sigma (default 2000)"
    )
    parser.add_argument(
        "--out", default=str(ROOT / "docs" / "validation.md"), help="report path, '-' for stdout"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.small:
        report = run_validation(subjects=2, film_size=FilmSize(600, 300, 0.8), repeats=args.repeats or 50)
        command = "scripts/validate.py --small"
    else:
        report = run_validation(repeats=args.repeats or 2000)
        command = "scripts/validate.py"
    text = report_markdown(report, command=command)
    write_text(args.out, text)
    print(
        f"largest angle error {report.max_angle_error_deg:.2e} deg "
        f"({'passed' if report.passed else 'FAILED'}; goal 0.01 deg) in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )
    return 0 if report.passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
