#!/usr/bin/env bash
# Set up a development machine (Debian 12): system packages when missing, then .venv with the project.
# Idempotent and quick when nothing changed. Used by run_demo.sh and check.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: Python venv support, the libraries Qt needs, a virtual X server for screenshots,
# and PostgreSQL for the storage tests (the tests start their own server on 127.0.0.1).
apt_packages=(python3 python3-venv python3-dev gcc libegl1 libgl1 libxkbcommon0 libxkbcommon-x11-0
    libfontconfig1 libdbus-1-3 libglib2.0-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
    libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 xvfb xauth postgresql ${KYPHOANGLE_EXTRA_APT:-}
    dicom3tools orthanc orthanc-dicomweb)  # DICOM validator and the PACS the DICOM exchange tests start
missing=()
for package in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}" >&2
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "setup: creating .venv with $($python --version)" >&2
    "$python" -m venv .venv
fi
stamp=.venv/.kyphoangle-installed
wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
    echo "setup: installing Python packages into .venv" >&2
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev]'
    echo "$wanted" > "$stamp"
fi
