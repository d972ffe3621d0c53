#!/usr/bin/env bash
# Writes the Parquet interoperability fixtures (make_fixtures.py, pyarrow and DuckDB) into OUT_DIR
# once; ctest runs it as the fixture of the ParquetInterop* tests (tests/CMakeLists.txt).
#
#   bash tests/parquet/fixtures.sh OUT_DIR
#
# Needs pyarrow and DuckDB (bash scripts/install-deps.sh puts them in .venv-test). Without: SKIP, exit 0
# (the tests then skip, saying how to enable them), or fails under CI=true.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
[[ $# -eq 1 ]] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1
# The tests' venv (scripts/install-deps.sh), else the peers' (--peers), else $DKDATA_PEERS_PYTHON.
python=""
for candidate in ${DKDATA_PEERS_PYTHON:-} "$root/.venv-test/bin/python" "$root/.venv/bin/python"; do
  if "$candidate" -c 'import pyarrow, duckdb' 2>/dev/null; then python=$candidate; break; fi
done
if [[ -z $python ]]; then
  why="no Python with pyarrow and duckdb in .venv-test or .venv (run: bash scripts/install-deps.sh)"
  if [[ ${CI:-} == true ]]; then echo "FAIL: $why" >&2; exit 1; fi
  echo "SKIP: $why"
  exit 0
fi
# The generator's own digest names the set, so a changed generator makes a new one.
stamp=$(sha256sum "$here/make_fixtures.py" "$here/pqwalk.py" | sha256sum | cut -c1-16)
if [[ -f $out/manifest.json && -f $out/.stamp && $(cat "$out/.stamp") == "$stamp" ]]; then
  echo "fixtures up to date in $out"
  exit 0
fi
tmp="$out.tmp.$$"
rm -rf "$tmp"
trap 'rm -rf "$tmp"' EXIT
"$python" "$here/make_fixtures.py" "$tmp" >"$tmp.log" 2>&1 || { cat "$tmp.log" >&2; rm -f "$tmp.log"; exit 1; }
rm -f "$tmp.log"
echo "$stamp" >"$tmp/.stamp"
rm -rf "$out"
mv "$tmp" "$out"
echo "fixtures written to $out"
