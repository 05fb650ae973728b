#!/usr/bin/env bash
# Set up and run every test and check: ruff, mypy (strict), the import contracts, pytest, the wheel in a
# fresh environment, the screenshots, the installer bundle and its self-check.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy (strict)"
.venv/bin/mypy
echo "== import contracts"
.venv/bin/lint-imports --no-cache
echo "== pytest"
.venv/bin/python -m pytest "$@"
echo "== the wheel installed in a fresh environment outside the checkout (SQLite and PostgreSQL round trips)"
scripts/check_wheel.sh
echo "== screenshots of the workstation in a real X window (Xvfb), saved to screenshots/"
xvfb-run -a -s "-screen 0 1600x1000x24" env KYPHOANGLE_TEST_QT_PLATFORM=xcb KYPHOANGLE_SCREENSHOTS=screenshots \
    .venv/bin/python -m pytest -q -p no:cacheprovider tests/gui/test_screenshots.py tests/gui/test_blinded_screenshots.py \
    tests/gui/test_campaign_screenshots.py
echo "== installer (PyInstaller one-folder build and the frozen program's self-check)"
.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath build/dist --workpath build/work build_installer.spec
QT_QPA_PLATFORM=offscreen build/dist/kyphoangle/kyphoangle --self-check
.venv/bin/python benchmarks/bench_installer.py build/dist/kyphoangle
