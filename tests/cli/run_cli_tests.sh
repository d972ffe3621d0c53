#!/usr/bin/env bash
# Tests of the dkdata command line, run by ctest as `cli_tests`:
#
#   bash tests/cli/run_cli_tests.sh PATH-TO-dkdata
#
# Most tests use memory:// (DKDATA_STORE below), which forgets everything when the process ends, so
# they run their commands in one process through `dkdata shell` (commands on stdin) or
# `dkdata --script FILE`. The tests of the default store (a SQLite file) point DKDATA_HOME into
# the test's temporary folder. The last line says "N passed, M failed"; the exit code is 1 when
# anything failed.
set -u

if [[ $# -ne 1 || ! -x $1 ]]; then
  echo "usage: $0 PATH-TO-dkdata" >&2
  exit 2
fi
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
EXAMPLES="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../examples" && pwd)"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
cd "$TMP" || exit 2
# The tests must never write into the user's real default store.
export DKDATA_STORE=memory://
export DKDATA_HOME="$TMP/dkdata-home"
export XDG_DATA_HOME="$TMP/xdg-data"
export HOME="$TMP/home"

# ---- Helpers ----

passed=0
failed=0
pass() { passed=$((passed + 1)); }
fail() {
  failed=$((failed + 1))
  printf 'FAIL: %s\n' "$1"
  shift
  local line
  for line in "$@"; do printf '      %s\n' "$line"; done
}

# dk ARGS...: runs dkdata (stdin as given by the caller); sets OUT, ERR and RC. Not in a pipeline:
# that would run it in a subshell and lose the variables (feed stdin with < <(...) instead).
dk() {
  "$BIN" "$@" >"$TMP/.out" 2>"$TMP/.err"
  RC=$?
  OUT="$(cat "$TMP/.out")"
  ERR="$(cat "$TMP/.err")"
}
# dks [SHELL-FLAGS] <<'EOF' ... EOF: runs the commands on stdin in one dkdata process.
dks() { dk shell "$@"; }
# with_small COMMAND...: imports small.jsonl, then runs the given command lines, in one process.
with_small() { dk shell < <(printf 'import small.jsonl\n%s\n' "$@"); }

expect_rc() {  # NAME WANTED
  if [[ $RC == "$2" ]]; then pass; else fail "$1: exit code $RC, wanted $2" "stdout: $OUT" "stderr: $ERR"; fi
}
expect_eq() {  # NAME GOT WANTED
  if [[ $2 == "$3" ]]; then pass; else fail "$1" "got:    $(printf %q "$2")" "wanted: $(printf %q "$3")"; fi
}
expect_has() {  # NAME TEXT NEEDLE
  if [[ $2 == *"$3"* ]]; then pass; else fail "$1: no $(printf %q "$3") in" "$2"; fi
}
expect_lacks() {  # NAME TEXT NEEDLE
  if [[ $2 != *"$3"* ]]; then pass; else fail "$1: unexpected $(printf %q "$3") in" "$2"; fi
}
expect_match() {  # NAME TEXT EXTENDED-REGEX
  if [[ $2 =~ $3 ]]; then pass; else fail "$1: no match for /$3/ in" "$2"; fi
}
# The ids of JSON lines records ("_id" members), space-separated, in output order.
ids() { sed -n 's/.*"_id": *"\([^"]*\)".*/\1/p' <<<"$1" | paste -sd' ' -; }

# ---- Fixtures ----

long_note="$(printf 'n%.0s' {1..60})"
cat >small.jsonl <<EOF
{"id":"a","name":"Ann","age":31,"city":"SF","tags":["x"]}
{"id":"b","name":"Bob","age":25,"city":"LA"}

{"id":"c","name":"Cid, \"the kid\"","age":40,"city":"SF","address":{"city":"SF","zip":"94103"}}
{"id":"d","name":"Dee","city":"NY","note":"$long_note"}
EOF
cat >bad.jsonl <<'EOF'
{"id":"x1","n":1}
{"id":"x2","n":2}
{"id":"x3","n": }
{"id":"x4","n":4}
EOF

# ---- --help for every command ----

for command in "" shell create get update delete query count import export config "config check" "config show" backends; do
  # shellcheck disable=SC2086
  dk $command --help
  expect_rc "dkdata $command --help" 0
  expect_has "dkdata $command --help prints usage" "$OUT" "Usage:"
done
dk --help
expect_has "--help documents the exit codes" "$OUT" "Exit codes:"
expect_has "--help documents the shell" "$OUT" "dkdata shell"

# ---- Usage errors: exit code 2 ----

dk
expect_rc "no command" 2
dk frobnicate
expect_rc "unknown command" 2
expect_has "unknown command: message prefix" "$ERR" "dkdata: "
dk query --bogus
expect_rc "unknown flag" 2
dk get
expect_rc "missing argument" 2
dk query --limit -1
expect_rc "negative --limit" 2
dk query --limit ten
expect_rc "non-numeric --limit" 2
dk import small.jsonl --batch-size 0
expect_rc "--batch-size 0" 2
dk query --sort age:up
expect_rc "bad --sort order" 2
dk query --format xml
expect_rc "unknown --format" 2
dk query --where "age > 1 limit 3"
expect_rc "--where with more than a filter" 2
dk --script /dev/null get x
expect_rc "--script with a command" 2

# ---- Query syntax errors: exit code 2, message with the column and a caret ----

dk query "age >= "
expect_rc "syntax error" 2
expect_has "syntax error names the column" "$ERR" "column 8"
expect_match "syntax error has a caret line" "$ERR" $'\n *\\^'
expect_has "syntax error has the prefix" "$ERR" "dkdata: "
dk query "age foo 5"
expect_rc "unknown operator" 2
expect_has "unknown operator is named" "$ERR" "foo"
dk count "city = "
expect_rc "count: syntax error" 2
dk query --where "(age > 1"
expect_rc "--where: syntax error" 2
dk export -q "age >"
expect_rc "export: syntax error" 2

# ---- create, get, update, delete ----

dks <<'EOF'
create --id p1 '{"name": "Ada", "age": 36}'
get p1
update p1 '{"name": "Ada L.", "age": 37}'
get p1
update p1 '{"name": "Ada K."}' --expected-version 2
get p1
delete p1
count
EOF
expect_rc "create/get/update/delete" 0
mapfile -t lines <<<"$OUT"
expect_eq "create prints the id" "${lines[0]-}" "p1"
expect_has "get prints the record" "${lines[1]-}" '"name":"Ada"'
expect_has "get prints the id" "${lines[1]-}" '"_id":"p1"'
expect_has "update replaces the record" "${lines[2]-}" '"name":"Ada L."'
expect_has "update bumps the version" "${lines[2]-}" '"_version":2'
expect_has "update with the right --expected-version" "${lines[3]-}" '"name":"Ada K."'
expect_eq "delete removes the record" "${lines[4]-}" "0"
expect_eq "update and delete print nothing" "${#lines[@]}" "5"

dk create '{"a": 1}'
expect_rc "create without an id" 0
expect_match "create makes a UUID" "$OUT" '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}$'
dk create --id s1 - <<<'{"a": 1}'
expect_rc "create - reads stdin" 0
expect_eq "create - prints the id" "$OUT" "s1"

dk get nope
expect_rc "get: absent id" 1
expect_eq "get: absent id message" "$ERR" "dkdata: not found: nope"
dk delete nope
expect_rc "delete: absent id" 1
expect_eq "delete: absent id message" "$ERR" "dkdata: not found: nope"
dk update nope '{"a": 1}'
expect_rc "update: absent id" 1
expect_eq "update: absent id message" "$ERR" "dkdata: not found: nope"

dks <<'EOF'
create --id p1 '{"a": 1}'
create --id p1 '{"a": 2}'
EOF
expect_rc "create: existing id" 1
expect_match "create: existing id message" "$ERR" '^dkdata: .*p1'
dks <<'EOF'
create --id p1 '{"a": 1}'
update p1 '{"a": 2}' --expected-version 7
EOF
expect_rc "update: stale --expected-version" 1
expect_has "update: stale version message" "$ERR" "dkdata: "
dk create '{"a": '
expect_rc "create: malformed JSON" 1
expect_has "create: malformed JSON message" "$ERR" "column"
dk create '[1, 2]'
expect_rc "create: JSON that is not an object" 1

# ---- import, query, count ----

with_small "count"
expect_rc "import" 0
expect_eq "import skips blank lines" "$OUT" "4"
expect_has "import reports the count" "$ERR" "imported 4 records"
with_small "count \"city = 'SF'\""
expect_eq "count with a filter" "$OUT" "2"
with_small "count --where \"age > 26\""
expect_eq "count --where" "$OUT" "2"

with_small "query \"city = 'SF'\" --sort age:desc"
expect_rc "query" 0
expect_eq "query --sort desc" "$(ids "$OUT")" "c a"
expect_eq "query prints JSON lines when piped" "$(grep -vc '^{.*}$' <<<"$OUT")" "0"
with_small "query 'age >= 20 order by age limit 2 offset 1'"
expect_eq "query text with order by, limit, offset" "$(ids "$OUT")" "a c"
with_small "query --sort age --offset 1 --limit 1"
expect_eq "query --offset --limit" "$(ids "$OUT")" "a"
with_small "query \"city = 'SF'\" --where 'age < 35'"
expect_eq "query --where is ANDed" "$(ids "$OUT")" "a"
with_small "query \"name like 'A%' or name like 'B%'\""
expect_eq "query: or, like" "$(ids "$OUT")" "a b"
with_small "query 'not (age > 30)'"
expect_eq "query: not matches missing fields" "$(ids "$OUT")" "b d"
with_small "query \"address.city = 'SF'\""
expect_eq "query: dotted path" "$(ids "$OUT")" "c"
with_small "query 'age between [20, 30]'"
expect_eq "query: between a list" "$(ids "$OUT")" "b"
with_small "query tags = \"['x']\""
expect_rc "query: unquoted query words" 2
expect_has "query: unquoted query words hint" "$ERR" "A query is one argument"
with_small "query \"city = 'LA'\" --fields name"
expect_has "query --fields keeps the field" "$OUT" '"name":"Bob"'
expect_lacks "query --fields drops the others" "$OUT" '"city"'
with_small "query \"city = 'XX'\""
expect_eq "query without matches prints nothing" "$OUT" ""

with_small "query --sort name --fields name,age --format csv"
expect_eq "query --format csv" "$OUT" 'id,name,age
a,Ann,31
b,Bob,25
c,"Cid, ""the kid""",40
d,Dee,'

with_small "query --sort name --fields name,age,note --format table"
mapfile -t lines <<<"$OUT"
expect_eq "table: header" "$(tr -s ' ' <<<"${lines[0]-}")" "id name age note"
expect_match "table: rule under the header" "${lines[1]-}" '^-+( +-+)+$'
expect_match "table: aligned rows" "${lines[3]-}" '^b   Bob              25$'
expect_eq "table: count line" "${lines[${#lines[@]} - 1]-}" "(4 records)"
expect_eq "table: one line per record" "${#lines[@]}" "7"
expect_has "table: long cells end in …" "$OUT" "$(printf 'n%.0s' {1..39})…"
expect_lacks "table: long cells are cut" "$OUT" "$long_note"
with_small "query \"city = 'XX'\" --format table"
expect_eq "table: no records" "$OUT" "(no records)"
with_small "get c --format table"
expect_has "get --format table" "$OUT" "(1 record)"
with_small "get a --format csv"
expect_eq "get --format csv" "$OUT" 'id,name,age,city,tags
a,Ann,31,SF,"[""x""]"'

if command -v script >/dev/null 2>&1; then
  printf 'import small.jsonl\nquery --sort name\n' >tty.cmds
  script -qec "'$BIN' --script tty.cmds" /dev/null </dev/null >tty.out 2>&1
  expect_has "a terminal gets a table" "$(cat tty.out)" "(4 records)"
fi

# ---- import errors ----

dks -k <<'EOF'
import bad.jsonl
count
EOF
expect_rc "import: malformed JSON" 1
expect_match "import: malformed JSON names file:line:column" "$ERR" 'dkdata: bad\.jsonl:3:17: '
expect_has "import: malformed JSON says nothing was imported" "$ERR" "nothing imported"
expect_eq "import: malformed JSON imports nothing" "$OUT" "0"

dks -k <<'EOF'
import bad.jsonl --continue-on-error
count
EOF
expect_rc "import --continue-on-error with a bad line" 1
expect_has "import --continue-on-error reports counts" "$ERR" "imported 3 records, 1 failed"
expect_match "import --continue-on-error names the line" "$ERR" 'dkdata: bad\.jsonl:3:17: '
expect_eq "import --continue-on-error imports the rest" "$OUT" "3"

for i in $(seq 1 12); do echo "{\"n\": $i,}"; done >many-bad.jsonl
echo '{"n": 0}' >>many-bad.jsonl
dks -k <<'EOF'
import many-bad.jsonl --continue-on-error --batch-size 1
count
EOF
expect_eq "import --continue-on-error: ten errors shown" "$(grep -c 'many-bad.jsonl:' <<<"$ERR")" "10"
expect_has "import --continue-on-error: the rest counted" "$ERR" "and 2 more errors"
expect_has "import --continue-on-error: counts" "$ERR" "imported 1 record, 12 failed"
expect_eq "import --continue-on-error: valid line imported" "$OUT" "1"

printf '{"id":"a"}\n{"id":"b"}\n{"id":"a"}\n' >dup.jsonl
dks -k <<'EOF'
import dup.jsonl
count
EOF
expect_rc "import: duplicate id" 1
expect_has "import: duplicate id names the file" "$ERR" "dup.jsonl"
expect_eq "import: duplicate id in one batch imports nothing" "$OUT" "0"
dks -k <<'EOF'
import dup.jsonl --continue-on-error
count
EOF
expect_has "import --continue-on-error: duplicate id" "$ERR" "dkdata: dup.jsonl:3: "
expect_eq "import --continue-on-error: duplicate id skipped" "$OUT" "2"

dk import missing.jsonl
expect_rc "import: missing file" 1
expect_has "import: missing file message" "$ERR" "missing.jsonl"

printf 'import -\ncount\n' >stdin.cmds
dk --script stdin.cmds <small.jsonl
expect_rc "import - reads stdin (--script)" 0
expect_eq "import - imports stdin" "$OUT" "4"
dks <<<'import -'
expect_rc "import - inside shell (stdin holds the commands)" 2

# ---- export ----

dks <<'EOF'
import small.jsonl
export e1.jsonl
export
export -
export e1s.jsonl --format structured
export - -q "city = 'SF'" --sort age:desc
EOF
expect_rc "export" 0
expect_has "export reports the count" "$ERR" "exported 4 records to e1.jsonl"
expect_eq "export writes one line per record" "$(wc -l <e1.jsonl)" "4"
expect_eq "export: stdout by default, - for stdout" "$OUT" "$(cat e1.jsonl e1.jsonl)
$(grep -E '"_id":"(c|a)"' e1.jsonl | sort -r)"
expect_eq "export --format structured" "$(grep -c '"fields":{' e1s.jsonl)" "4"

dks <<'EOF'
import e1.jsonl
export e2.jsonl
EOF
expect_rc "export round trip: re-import" 0
if cmp -s e1.jsonl e2.jsonl; then pass; else fail "export round trip: same records" "$(diff e1.jsonl e2.jsonl)"; fi
dks <<'EOF'
import e1s.jsonl
export e3.jsonl
EOF
if cmp -s e1.jsonl e3.jsonl; then pass; else fail "structured export round trip" "$(diff e1.jsonl e3.jsonl)"; fi

dks <<'EOF'
import small.jsonl
export --where "age > 30" --sort name --fields name --format csv
EOF
expect_eq "export --format csv with a selection" "$OUT" 'id,name
a,Ann
c,"Cid, ""the kid"""'
dk export /nonexistent-dir/x.jsonl
expect_rc "export: unwritable file" 1

# Parquet: export by the file name, import back the same records.
dks <<'EOF'
import small.jsonl
export p1.parquet
export p2.pq --compression zstd -q "age > 30"
EOF
expect_rc "export parquet" 0
expect_has "export parquet reports the count" "$ERR" "exported 4 records to p1.parquet"
expect_eq "a Parquet file starts with PAR1" "$(head -c 4 p1.parquet)" "PAR1"
dks <<'EOF'
import p1.parquet
export e4.jsonl
EOF
expect_rc "import parquet" 0
if cmp -s e1.jsonl e4.jsonl; then pass; else fail "Parquet round trip: same records" "$(diff e1.jsonl e4.jsonl)"; fi
dks <<'EOF'
import p2.pq
count
EOF
expect_eq "export parquet with a query, --compression zstd" "$OUT" "2"
dk export - --format parquet
expect_rc "export parquet to stdout is refused" 1
expect_has "export parquet to stdout: why" "$ERR" "Parquet cannot be written to stdout"
printf 'PAR1 not really' >bad.parquet
dk import bad.parquet
expect_rc "import of a file that is not Parquet" 1
expect_has "import of a bad Parquet file names it" "$ERR" "bad.parquet"

# ---- The sample data ----

dks <<EOF
import $EXAMPLES/people.jsonl
count
count "address.city = 'Berlin'"
EOF
expect_rc "examples/people.jsonl imports" 0
expect_eq "examples/people.jsonl has 40 records" "$(head -1 <<<"$OUT")" "40"

# ---- shell and --script ----

dk shell < <(printf 'get nope\ncount\n')
expect_rc "shell stops at the first failure" 1
expect_eq "shell runs nothing after a failure" "$OUT" ""
dk shell --keep-going < <(printf 'get nope\ncount\n')
expect_rc "shell --keep-going keeps the failure's code" 1
expect_eq "shell --keep-going goes on" "$OUT" "0"
dk shell < <(printf '# a comment\n\n   count   # trailing comment\nexit\ncount\n')
expect_rc "shell: comments, blank lines, exit" 0
expect_eq "shell: exit ends the shell" "$OUT" "0"
dk shell < <(printf "query 'age > 1\n")
expect_rc "shell: unterminated quote" 2
dk shell < <(printf 'query --bogus\n')
expect_rc "shell: a usage error keeps code 2" 2
dk shell --echo < <(printf 'count\n')
expect_eq "shell --echo" "$OUT" $'dkdata> count\n0'
printf 'import small.jsonl\ncount\n' >cmds.txt
dk --script cmds.txt
expect_rc "--script FILE" 0
expect_eq "--script FILE runs the commands" "$OUT" "4"
dk --script missing.txt
expect_rc "--script: missing file" 1
dk shell < <(printf 'shell\n')
expect_rc "no shell inside the shell" 2
dk shell < <(printf -- '--store memory:// count\n')
expect_rc "no global options inside the shell" 2

# ---- Store selection ----

dk --store memory:// count
expect_eq "--store memory://" "$OUT" "0"
dk --store nosuch://x count
expect_rc "--store with an unknown scheme" 1
DKDATA_STORE=nosuch://x dk count
expect_rc "DKDATA_STORE chooses the store" 1

# ---- The default store: a SQLite file that outlives the process ----

# dkd ARGS...: dk on the default store (an empty DKDATA_STORE counts as unset).
dkd() { DKDATA_STORE= dk "$@"; }
store_file="$DKDATA_HOME/default.sqlite"
dkd store
expect_eq "store: the default store is \$DKDATA_HOME/default.sqlite" "$OUT" "sqlite://$store_file"
dkd count
expect_eq "default store: empty at first" "$OUT" "0"
[[ -f $store_file ]] && pass || fail "default store: the file (and its folder) are created" "$(ls -la "$TMP")"
dkd import small.jsonl
expect_rc "default store: import" 0
dkd count
expect_eq "default store: a second process sees the first one's records" "$OUT" "4"
dkd get a --format jsonl
expect_has "default store: get in a third process" "$OUT" '"name":"Ann"'
dkd import small.jsonl
expect_rc "default store: importing the same ids again fails" 1
expect_has "default store: the failure points at --upsert" "$ERR" "--upsert"
dkd import --upsert small.jsonl
expect_rc "import --upsert: replaces the stored records" 0
dkd count
expect_eq "import --upsert: still the same records" "$OUT" "4"
dkd get a --format jsonl
expect_has "import --upsert: a new version" "$OUT" '"_version":2'
cat >shell-cmds.txt <<'EOF'
create '{"id":"s1","n":1}'
update s1 '{"n":2}'
EOF
dkd shell <shell-cmds.txt
expect_rc "default store: writes from a shell" 0
dkd get s1 --format jsonl
expect_has "default store: a shell's writes are seen by the next process" "$OUT" '"n":2'
dk count
expect_eq "DKDATA_STORE replaces the default store" "$OUT" "0"
dkd --store memory:// count
expect_eq "--store replaces the default store" "$OUT" "0"
DKDATA_STORE= DKDATA_HOME= dk store
expect_eq "without DKDATA_HOME: \$XDG_DATA_HOME/dkdata/default.sqlite" "$OUT" \
  "sqlite://$XDG_DATA_HOME/dkdata/default.sqlite"
DKDATA_STORE= DKDATA_HOME= XDG_DATA_HOME= dk store
expect_eq "without XDG_DATA_HOME: \$HOME/.local/share/dkdata/default.sqlite" "$OUT" \
  "sqlite://$HOME/.local/share/dkdata/default.sqlite"
DKDATA_STORE= DKDATA_HOME= XDG_DATA_HOME= dk create '{"id":"h1"}'
[[ -f $HOME/.local/share/dkdata/default.sqlite ]] && pass || fail "the default store's folders are created"
(unset HOME XDG_DATA_HOME; DKDATA_STORE= DKDATA_HOME= "$BIN" count >"$TMP/.out" 2>"$TMP/.err")
RC=$?
expect_rc "no HOME and no DKDATA_HOME: no default store" 1
expect_has "no default store: the message says what to set" "$(cat "$TMP/.err")" "--store"
mkdir -p "$TMP/odd path?%x"
DKDATA_STORE= DKDATA_HOME="$TMP/odd path?%x" dk create '{"id":"o1"}'
expect_rc "a default store under a path with ' ', '?' and '%'" 0
[[ -f "$TMP/odd path?%x/default.sqlite" ]] && pass || fail "the odd path is taken literally" "$(ls -la "$TMP")"

# ---- Config files: --config FILE --db NAME, config check, config show, backends ----

mkdir -p "$TMP/cfg"
cat >"$TMP/cfg/stores.yaml" <<EOF
databases:
  - name: files
    backend: file
    path: $TMP/cfg/data/people.jsonl
  - name: lite
    backend: sqlite
    path: $TMP/cfg/data/people.db
    table: people
EOF
dk --config "$TMP/cfg/stores.yaml" --db lite create --id p1 '{"name":"Ada","age":36}'
expect_rc "--config --db lite: create" 0
dk --config "$TMP/cfg/stores.yaml" --db lite get p1
expect_rc "--config --db lite: get in a new process" 0
expect_has "--config --db lite: the record came back" "$OUT" '"name":"Ada"'
dk --config "$TMP/cfg/stores.yaml" --db lite count
expect_eq "--config --db lite: count" "$OUT" "1"
dk --config "$TMP/cfg/stores.yaml" --db files create --id f1 '{"n":1}'
dk --config "$TMP/cfg/stores.yaml" --db files create --id f2 '{"n":2}'
dk --config "$TMP/cfg/stores.yaml" --db files count
expect_eq "--config --db files: count" "$OUT" "2"
[[ -f $TMP/cfg/data/people.jsonl && -f $TMP/cfg/data/people.db ]] && pass ||
  fail "--config: each entry's file is where its path says" "$(ls -R "$TMP/cfg")"
dk --config "$TMP/cfg/stores.yaml" count
expect_eq "--config without --db: the first database" "$OUT" "2"
dk --config "$TMP/cfg/stores.yaml" store
expect_has "store names the config entry" "$OUT" "databases[0] 'files' (file)"
dk --config "$TMP/cfg/stores.yaml" --db nope count
expect_rc "unknown --db" 1
expect_has "unknown --db: lists the names" "$ERR" "its databases: 'files', 'lite'"
dk --config "$TMP/cfg/stores.yaml" --store memory:// count
expect_rc "--store with --config" 2
expect_has "--store with --config: says why" "$ERR" "not both"
dk --db lite count
expect_rc "--db without --config" 2

cat >"$TMP/cfg/bad.yaml" <<'EOF'
databases:
  - name: files
    backend: file
    pathh: x.jsonl
  - name: lite
    backend: sqlit
  - name: m
    backend: memory
    vector_enabled: maybe
EOF
dk config check "$TMP/cfg/bad.yaml"
expect_rc "config check with problems" 1
expect_has "config check: the typo key, with file and line" "$OUT" \
  "bad.yaml:4:12: databases[0].pathh: unknown option 'pathh' for backend 'file' (did you mean 'path'?"
expect_has "config check: the unknown backend" "$OUT" \
  "bad.yaml:6:14: databases[1].backend: unknown backend 'sqlit' (did you mean 'sqlite'?)"
expect_has "config check: the wrong type" "$OUT" \
  "bad.yaml:9:21: databases[2].vector_enabled: option 'vector_enabled' of backend 'memory' must be a boolean"
expect_eq "config check: one line per problem" "$(wc -l <<<"$OUT" | tr -d ' ')" "3"
dk config check "$TMP/cfg/stores.yaml"
expect_rc "config check of a good file" 0
expect_has "config check of a good file: ok" "$OUT" "ok: $TMP/cfg/stores.yaml: 2 databases (files, lite)"
dk --config "$TMP/cfg/stores.yaml" config check
expect_rc "config check takes --config's file" 0
dk config check "$TMP/cfg/missing.yaml"
expect_rc "config check of a missing file" 1

cat >"$TMP/cfg/secret.yaml" <<'EOF'
databases:
  - name: main
    backend: memory
    password: hunter2pw
    vector_metric: "postgresql://admin:s3cretpw@db.example.com/app"
EOF
for format in yaml json; do
  dk config show --format $format "$TMP/cfg/secret.yaml"
  expect_rc "config show --format $format" 0
  expect_lacks "config show --format $format: no password" "$OUT" "hunter2pw"
  expect_lacks "config show --format $format: no URL password" "$OUT" "s3cretpw"
  expect_has "config show --format $format: URL user-info redacted" "$OUT" \
    "postgresql://***@db.example.com/app"
done
dk config show "$TMP/cfg/secret.yaml"
expect_has "config show: YAML by default" "$OUT" 'password: "***"'
dk --config "$TMP/cfg/secret.yaml" create '{"a":1}'
expect_rc "an entry with a bad option" 1
expect_lacks "errors never print a secret" "$ERR" "hunter2pw"
expect_has "a bad option is cited at its key's line" "$ERR" \
  "secret.yaml:4:15: databases[0] 'main': unknown option 'password' for backend 'memory'"
dk config check "$TMP/cfg/secret.yaml"
expect_lacks "config check never prints a secret" "$OUT" "hunter2pw"

dk backends
expect_rc "backends" 0
for backend in memory file sqlite; do
  expect_match "backends lists $backend" "$OUT" \
    "(^|"$'\n'")$backend( \\(aliases: [^)]*\\))?: (available|not available: .*install)"
done
expect_has "backends lists the config keys" "$OUT" "config keys: path, table, timeout"

# ---- Never crash: odd input fails cleanly ----

deep="$(printf '[%.0s' {1..5000})"
odd_inputs=(
  "create|{\"a\": $deep}"
  "create|$(printf '{"a": "\xff\xfe"}')"
  "create|{\"a\": 1e999}"
  "create|"
  "create|   "
  "get|"
  "query|$(printf "a = '\xff'")"
  "query|((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((a = 1"
  "query|'"
  "query|a in 5"
  "query|a regex '('"
  "query|a between [1]"
  "query|--fields|"
  "count|and or not"
  "update|x|-"
)
for entry in "${odd_inputs[@]}"; do
  IFS='|' read -r -a args <<<"$entry"
  dk "${args[@]}" </dev/null
  if ((RC <= 2)); then pass; else fail "odd input exits cleanly: ${entry:0:60}" "exit code $RC" "$ERR"; fi
done

echo "$passed passed, $failed failed"
((failed == 0))
