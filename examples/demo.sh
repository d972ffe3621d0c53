#!/usr/bin/env bash
# The README's demo: loads examples/people.jsonl (40 people) into the default store and asks it a few
# questions.
#
#   bash examples/demo.sh [path-to-dkdata-binary]      (default: build/tools/dkdata/dkdata)
#
# All commands run in one `dkdata shell` process, which reads them from the here-document below, one
# per line, written exactly as they would follow `dkdata` on the command line. That matters because
# the default store, memory://, lives only as long as the process. --echo prints each command (and
# comment) before its output. On a terminal results are tables; piped, they are JSON lines.
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
import examples/people.jsonl

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
