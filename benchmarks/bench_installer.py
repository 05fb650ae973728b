"""Size of the installer bundle (PyInstaller one-folder build) against the 300 MB goal.

Run after a build: `.venv/bin/python benchmarks/bench_installer.py [FOLDER]` (default
`build/dist/kyphoangle`, where scripts/check.sh builds it). Prints the total, the ratio to the goal
and the largest parts, to show what to leave out next.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

GOAL_MB = 300
MB = 1_000_000


def main() -> int:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "build/dist/kyphoangle")
    if not folder.is_dir():
        print(
            f"no bundle at {folder}: build it first (scripts/check.sh, or pyinstaller build_installer.spec)"
        )
        return 2
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    total = sum(p.stat().st_size for p in files)
    print(
        f"installer bundle {folder}: {total / MB:.0f} MB in {len(files)} files; goal {GOAL_MB} MB; "
        f"ratio to goal {total / MB / GOAL_MB:.2f}"
    )
    parts: Counter[str] = Counter()
    for path in files:
        relative = path.relative_to(folder).parts
        key = "/".join(relative[:3] if relative[0] == "_internal" else relative[:2])
        parts[key] += path.stat().st_size
    print("largest parts:")
    for name, size in parts.most_common(12):
        print(f"  {size / MB:7.1f} MB  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
