#!/usr/bin/env bash
# Install kyphoangle as a new user would, from its wheel, into a fresh virtual environment outside the
# checkout, and use it from another folder: the public API, `measure` on a demo film, `demo install`,
# an import -> reads -> CSV export round trip on SQLite and on PostgreSQL (a throw-away server on
# 127.0.0.1, reached by the documented postgresql://user@host/db URL). Also checks that the sdist and
# the wheel carry the data files and the migrations. Run by scripts/check.sh.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/kyphoangle-wheel-XXXXXX")
chmod 755 "$work"  # the PostgreSQL server runs as its own user and must reach its folder inside
pg_ctl="" pg_data=""
cleanup() {
    if [ -n "$pg_ctl" ]; then "${run_as[@]}" "$pg_ctl" -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
step() { echo "== wheel: $*"; }

step "build the sdist, then the wheel from the sdist"
"$root/.venv/bin/python" -m build --outdir "$work/dist" "$root" >"$work/build.log" 2>&1 || { cat "$work/build.log"; exit 1; }
sdist=$(ls "$work"/dist/kyphoangle-*.tar.gz)
wheel=$(ls "$work"/dist/kyphoangle-*.whl)
sdist_files=$(tar -tzf "$sdist")
wheel_files=$("$python" -m zipfile -l "$wheel")
for wanted in kyphoangle/resources/normal_tables/farcy-1990.json kyphoangle/resources/visit_schedule.json \
    kyphoangle/resources/data_dictionary.csv kyphoangle/storage/migrations/script.py.mako \
    kyphoangle/storage/migrations/versions/0001_initial.py kyphoangle/py.typed; do
    grep -q "/$wanted\$" <<<"$sdist_files" || { echo "sdist lacks $wanted" >&2; exit 1; }
    grep -q "^$wanted " <<<"$wheel_files" || { echo "wheel lacks $wanted" >&2; exit 1; }
done

step "install the wheel into a fresh virtual environment"
"$python" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q "$wheel" 2>&1 | grep -v "^WARNING: Location" || true
"$work/venv/bin/python" -m pip show -q kyphoangle >/dev/null
bin="$work/venv/bin"
mkdir -p "$work/elsewhere" && cd "$work/elsewhere"
export KYPHOANGLE_DATA_DIR="$work/data" KYPHOANGLE_LOG_DIR="$work/logs" QT_QPA_PLATFORM=offscreen
unset KYPHOANGLE_DB KYPHOANGLE_USER KYPHOANGLE_PASSWORD KYPHOANGLE_RESOURCES PYTHONPATH || true

step "the public API, from the installed package (not the checkout)"
"$bin/python" - "$root" <<'PY'
import sys
from pathlib import Path

import kyphoangle

kyphoangle.load_radiograph
assert not Path(kyphoangle.__file__).resolve().is_relative_to(Path(sys.argv[1])), kyphoangle.__file__
assert kyphoangle.available_normal_tables() == ["farcy-1990", "kwon-2019", "shi-2020"]
print("kyphoangle", kyphoangle.__version__, "from", Path(kyphoangle.__file__).parent)
PY
"$bin/kyphoangle" --version

step "kyphoangle measure on a demo film"
"$bin/python" -m kyphoangle.demo films --subjects 1 >/dev/null
sed -i -e 's/"reader": "truth"/"reader": "r.smith"/' -e 's/"read_type": "central"/"read_type": "site"/' films/truth/*.json
"$bin/kyphoangle" measure films/DEMO-001/D-5.dcm --landmarks films/truth/DEMO-001_D-5.json >measure.json
"$bin/python" -c "import json,sys; d=json.load(open('measure.json')); \
assert any(m['name']=='traumatic_regional_angle' for m in d['measurements']), d"

step "kyphoangle demo install"
"$bin/kyphoangle" demo install --subjects 1 >/dev/null
test -s "$work/data/kyphoangle.sqlite3"

round_trip() {  # $1: database (file path or URL)
    export KYPHOANGLE_DB="$1" KYPHOANGLE_PASSWORD=admin-pass-1
    KYPHOANGLE_NEW_PASSWORD=admin-pass-1 "$bin/kyphoangle" users add admin --role admin >/dev/null
    KYPHOANGLE_NEW_PASSWORD=reader-pass-1 "$bin/kyphoangle" users add r.smith --role site_reader --user admin >/dev/null
    "$bin/kyphoangle" import films --user admin >/dev/null
    "$bin/kyphoangle" subjects set S001 --procedure-date 2024-03-22 --levels L1 --site A --diagnosis myeloma \
        --user admin >/dev/null
    KYPHOANGLE_PASSWORD=reader-pass-1 "$bin/kyphoangle" reads import films/truth/*.json --sign --user r.smith >/dev/null
    "$bin/kyphoangle" reads list --json --user admin >reads.jsonl
    test "$(wc -l <reads.jsonl)" -eq 6
    "$bin/kyphoangle" export csv results.csv --user admin
    test "$(grep -c ',traumatic_regional_angle,' results.csv)" -eq 6
    test -s results.dictionary.csv
    "$bin/kyphoangle" audit verify >/dev/null
    unset KYPHOANGLE_DB KYPHOANGLE_PASSWORD
}

step "import -> reads -> CSV export round trip (SQLite)"
round_trip "$work/study.sqlite3"

step "the same round trip on PostgreSQL, by the URL postgresql://postgres@127.0.0.1:PORT/kyphoangle"
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
run_as=()
pg_base="$work/pg"
mkdir -p "$pg_base"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$pg_base" 2>/dev/null || chown nobody "$pg_base"
    run_as=(runuser -u "$(stat -c %U "$pg_base")" --)
fi
pg_data="$pg_base/data"
"${run_as[@]}" "$pg_bin/initdb" -D "$pg_data" -U postgres -A trust -E UTF8 --no-locale --no-sync >/dev/null
port=$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
pg_ctl="$pg_bin/pg_ctl"
"${run_as[@]}" "$pg_ctl" -D "$pg_data" -l "$pg_base/server.log" -w -o "-h 127.0.0.1 -p $port -k $pg_base -c fsync=off" \
    start >/dev/null
"$pg_bin/createdb" -h 127.0.0.1 -p "$port" -U postgres kyphoangle
rm -f results.csv results.dictionary.csv
round_trip "postgresql://postgres@127.0.0.1:$port/kyphoangle"

step "support bundle and backup from the installed program"
"$bin/kyphoangle" support-bundle bundle.zip --db "$work/study.sqlite3" >/dev/null
test -s bundle.zip
KYPHOANGLE_PASSWORD=admin-pass-1 "$bin/kyphoangle" backup study-backup.sqlite3 --db "$work/study.sqlite3" \
    --user admin >/dev/null
test -s study-backup.sqlite3
echo "wheel check passed: $(basename "$wheel") installed in a fresh environment works from $(pwd)"
