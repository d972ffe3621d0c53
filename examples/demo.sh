#!/usr/bin/env bash
# The README's demo: imports examples/people.jsonl (40 people) into the default store and asks it a
# few questions.
#
#   bash examples/demo.sh [path-to-dkdata-binary]      (default: build/tools/dkdata/dkdata)
#
# The default store is a SQLite file that keeps its records between runs ($DKDATA_HOME/default.sqlite,
# else ${XDG_DATA_HOME:-$HOME/.local/share}/dkdata/default.sqlite; `dkdata store` prints it), so the
# demo can be run again: the first count shows what the previous run left (0 the first time, 40
# after), and `import --upsert` replaces the sample records by their ids instead of failing on them,
# which leaves the same 40 records (at a higher version) however often it runs. Records of your own
# in the default store are left alone. To start afresh: rm "$(dkdata store | sed 's|^sqlite://||')"*
#
# The commands run in one `dkdata shell` process, which reads them from the here-document below,
# one per line, written exactly as they would follow `dkdata` on the command line. --echo prints
# each command (and comment) before its output. On a terminal results are tables; piped, JSON lines.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dkdata="${1:-$root/build/tools/dkdata/dkdata}"
if [[ ! -x $dkdata ]]; then
  echo "demo.sh: no dkdata binary at $dkdata: build it first (cmake --build build) or pass its path" >&2
  exit 2
fi
dkdata="$(cd "$(dirname "$dkdata")" && pwd)/$(basename "$dkdata")"
cd "$root"

"$dkdata" shell --echo <<'EOF'
# Where the records live: a file that outlives this process
store

# Records in the store before this run: 0 the first time, 40 on later runs (plus any of yours)
count

# Import the sample; --upsert replaces records stored by an earlier run, so the demo can run again
import --upsert examples/people.jsonl

# Over 50 and living in San Francisco or Oakland, oldest first
query "age > 50 and (city = 'San Francisco' or city = 'Oakland')" --sort age:desc --fields name,age,city

# like: % matches any run of characters, _ exactly one; case-sensitive
query "name like 'A%' and active = true" --fields name,email,active

# The five best scores, with the query's own order by and limit
query "select name, city, score where score exists order by score desc limit 5"

# A dotted path reaches into the address object
query "address.zip starts_with '941'" --sort name --fields name,address

# How many joined in 2020 or later? (ISO dates compare as text)
count "joined >= '2020-01-01'"

# Export a selection as CSV (to stdout here; give a file name to write one)
export --where "city = 'Berlin'" --sort name --fields name,age,email --format csv
EOF
