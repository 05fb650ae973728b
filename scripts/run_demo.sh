#!/usr/bin/env bash
# Set up, build the demo study (synthetic films, demo users) on first use, and open the reading workstation.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
.venv/bin/kyphoangle demo install "$@"
KYPHOANGLE_DEMO=1 exec .venv/bin/kyphoangle
