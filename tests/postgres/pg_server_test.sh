#!/usr/bin/env bash
# The private test server of tests/postgres/pg_server.sh works on this machine: it starts on a free
# port on 127.0.0.1, takes a jsonb table and a COPY, survives a restart and a crash (kill, then up),
# and stop leaves no process and no folder behind. The postgres backend's tests build on it.
# Without PostgreSQL installed this skips with a message, except under CI=true, where it fails.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
server="$here/pg_server.sh"
fail() {
  echo "FAIL: $*" >&2
  [[ -n ${DKDATA_PG_DATA:-} ]] && bash "$server" stop >/dev/null 2>&1
  exit 1
}

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || ! command -v psql >/dev/null; then
  if [[ ${CI:-} == true ]]; then
    fail "PostgreSQL is not installed (scripts/install-deps.sh installs it)"
  fi
  echo "SKIP: PostgreSQL is not installed; run: apt-get install -y postgresql libpq-dev"
  exit 0
fi

exports=$(bash "$server" start) || fail "the server did not start"
eval "$exports"
trap 'bash "$server" stop >/dev/null 2>&1' EXIT
sql() { psql -X -q -At -v ON_ERROR_STOP=1 -c "$1"; }
# Whether a process runs: exists and is not a zombie (here the init process reaps a dead
# postmaster only after about a second).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}

[[ $(sql "select 1") == 1 ]] || fail "no answer to select 1 on port $PGPORT"
sql "create table t (id text primary key, data jsonb not null)" || fail "create table"
printf 'a\t{"n": 1}\nb\t{"n": 2}\n' | psql -X -q -v ON_ERROR_STOP=1 -c "copy t from stdin" ||
  fail "COPY"
[[ $(sql "select sum((data->>'n')::int) from t") == 3 ]] || fail "COPY did not store both rows"

old_pid=$DKDATA_PG_PID
exports=$(bash "$server" restart) || fail "restart"
eval "$exports"
[[ $DKDATA_PG_PID != "$old_pid" ]] || fail "restart kept the old postmaster"
alive "$old_pid" && fail "the old postmaster $old_pid still runs after restart"
[[ $(sql "select count(*) from t") == 2 ]] || fail "rows lost across a restart"

crashed_pid=$DKDATA_PG_PID
bash "$server" kill || fail "kill"
alive "$crashed_pid" && fail "the postmaster $crashed_pid survived kill"
exports=$(bash "$server" up) || fail "up after a crash"
eval "$exports"
[[ $(sql "select count(*) from t") == 2 ]] || fail "rows lost across a crash (fsync is off, but the data was checkpointed by the restart)"

last_pid=$DKDATA_PG_PID
folder=$DKDATA_PG_DATA
trap - EXIT
bash "$server" stop || fail "stop"
alive "$last_pid" && fail "the postmaster $last_pid still runs after stop"
[[ -e $folder ]] && fail "stop left $folder behind"
echo "ok: start, COPY, restart, crash and stop of a private PostgreSQL on 127.0.0.1"
