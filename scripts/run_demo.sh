#!/usr/bin/env bash
# Set up, build the demo study (synthetic films, demo users) on first use, and open the reading workstation.
# Without a display (no DISPLAY or WAYLAND_DISPLAY on Linux), the workstation starts in a virtual X
# server (xvfb-run) when one is installed, else the script says what to do.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/kyphoangle demo install "$@"
export KYPHOANGLE_DEMO=1
if [ "$(uname -s)" = Linux ] && [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] \
    && [ -z "${QT_QPA_PLATFORM:-}" ]; then
    if command -v xvfb-run >/dev/null 2>&1; then
        echo "run_demo: no display here; the workstation runs in a virtual X server (xvfb-run), where it is" \
            "not visible. To see it, run this script from a desktop session or over 'ssh -X'. Ctrl+C stops it." >&2
        exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/kyphoangle
    fi
    echo "run_demo: no display: run this script from a desktop session or over 'ssh -X'," \
        "or install a virtual X server (Debian: apt-get install xvfb) to start it there." >&2
    exit 2
fi
exec .venv/bin/kyphoangle
