#!/usr/bin/env bash
# Writes the Parquet interoperability fixtures (make_fixtures.py, pyarrow and DuckDB) into OUT_DIR
# once; ctest runs it as the fixture of the ParquetInterop* tests (tests/CMakeLists.txt).
#
#   bash tests/parquet/fixtures.sh OUT_DIR
#
# Needs the peers' venv (bash scripts/install-deps.sh --peers). Without it: prints SKIP and exits 0
# (the tests then skip, saying how to enable them), or fails under CI=true.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
[[ $# -eq 1 ]] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
out=$1
python=${DKDATA_PEERS_PYTHON:-$root/.venv/bin/python}
if ! "$python" -c 'import pyarrow, duckdb' 2>/dev/null; then
  why="no pyarrow and duckdb in $python (run: bash scripts/install-deps.sh --peers)"
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
