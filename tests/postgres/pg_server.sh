#!/usr/bin/env bash
# A private PostgreSQL server for the tests and benchmarks of the postgres backend.
#
#   eval "$(bash tests/postgres/pg_server.sh start)"   start one; prints `export` lines:
#        PGHOST=127.0.0.1 PGPORT PGUSER=postgres PGDATABASE=postgres
#        DKDATA_PG_URL=postgres://postgres@127.0.0.1:PORT/postgres
#        DKDATA_PG_DATA=<temporary folder> DKDATA_PG_PID=<postmaster pid>
#   bash tests/postgres/pg_server.sh stop       stop the server of $DKDATA_PG_DATA and remove the folder
#   eval "$(bash tests/postgres/pg_server.sh restart [SECONDS])"
#                                               fast shutdown (pg_ctl -m fast), optionally stay down
#                                               SECONDS, start again on the same port; prints the
#                                               export lines again (the postmaster pid changes)
#   bash tests/postgres/pg_server.sh down       fast shutdown, keep the folder (the server is gone
#                                               until `up`)
#   eval "$(bash tests/postgres/pg_server.sh up)"  start again on the same port after `down` or `kill`
#   bash tests/postgres/pg_server.sh kill       SIGKILL the postmaster and all of its children (the
#                                               backends): a crash, no shutdown; `up` or `stop` after
#   bash tests/postgres/pg_server.sh status     "running PID PORT" or "stopped", exit 0 / 3
#
# The server is Debian's (package `postgresql`, binaries under /usr/lib/postgresql/<major>/bin; the
# newest major is used, or $DKDATA_PG_BIN). Run as root, the server runs as the `postgres` user (initdb
# refuses root); run as another user, it runs as that user. Either way the superuser role is
# `postgres`, authentication is `trust`, and it listens on 127.0.0.1 only, on a free port, with its
# Unix socket in the temporary folder (never /var/run/postgresql). fsync is off: this is a test
# server. Extra server options can be passed in $DKDATA_PG_OPTS (e.g. "-c max_connections=20").
#
# Processes are only ever signalled by PID (the postmaster's, read from postmaster.pid and checked to
# be a process whose working directory is this server's data directory), never by name. A server
# that cannot be started is reported on stderr (with the end of its log) and the exit code is 1; the
# temporary folder is then removed.
#
# Layout of the temporary folder (/tmp/dkdata-pg.XXXXXX, mode 755, owned by the server's user):
#   data/             the cluster (PGDATA)          server.log   the server's log
#   .dkdata-pg        marker, checked before rm -rf  port         the port, kept for restart/up
set -u
# shellcheck source=../lib/server_processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server_processes.sh"

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "pg_server.sh: $*" >&2
  exit 1
}

# ---- Binaries and user ----

find_bin() {
  if [[ -n ${DKDATA_PG_BIN:-} ]]; then
    [[ -x $DKDATA_PG_BIN/pg_ctl ]] || die "DKDATA_PG_BIN=$DKDATA_PG_BIN has no pg_ctl"
    PGBIN=$DKDATA_PG_BIN
    return
  fi
  local d
  PGBIN=""
  while IFS= read -r d; do
    [[ -x $d/pg_ctl && -x $d/initdb && -x $d/postgres ]] && PGBIN=$d
  done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V)
  [[ -n $PGBIN ]] || die "no PostgreSQL server under /usr/lib/postgresql/*/bin; install it with:
  apt-get install -y postgresql postgresql-contrib libpq-dev"
}

# as_server CMD...: runs CMD as the server's user, in the folder (the caller's cwd may not be
# readable by that user).
if [[ $EUID -eq 0 ]]; then
  SERVER_USER=postgres
  id -u postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' user (install the postgresql package)"
  as_server() { (cd "$DIR" && runuser -u postgres -- "$@"); }
else
  SERVER_USER=$(id -un)
  as_server() { (cd "$DIR" && "$@"); }
fi

# ---- The folder of a running (or stopped) server ----

# use_dir [DIR]: sets DIR and DATA from the argument or $DKDATA_PG_DATA, and checks the marker so that
# nothing but a folder made by this script is ever removed.
use_dir() {
  DIR=${1:-${DKDATA_PG_DATA:-}}
  [[ -n $DIR ]] || die "no server: DKDATA_PG_DATA is not set (eval the output of 'pg_server.sh start')"
  [[ -d $DIR && -f $DIR/.dkdata-pg ]] || die "$DIR is not a folder made by pg_server.sh"
  DIR=$(cd "$DIR" && pwd)
  DATA=$DIR/data
}

# postmaster_pid: prints the PID of this folder's live postmaster, or nothing. The PID comes from
# postmaster.pid and is accepted only if that process's working directory is the data directory
# (the postmaster chdirs there), so a stale file whose PID was reused is never trusted.
postmaster_pid() {
  local pid=""
  [[ -r $DATA/postmaster.pid ]] && read -r pid <"$DATA/postmaster.pid" 2>/dev/null
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  [[ -d /proc/$pid ]] || return 0
  [[ $(readlink "/proc/$pid/cwd" 2>/dev/null) == "$DATA" ]] || return 0
  echo "$pid"
}

print_exports() {
  local pid=$1 port=$2
  printf 'export PGHOST=127.0.0.1\n'
  printf 'export PGPORT=%s\n' "$port"
  printf 'export PGUSER=postgres\n'
  printf 'export PGDATABASE=postgres\n'
  printf 'export DKDATA_PG_URL=%q\n' "postgres://postgres@127.0.0.1:$port/postgres"
  printf 'export DKDATA_PG_DATA=%q\n' "$DIR"
  printf 'export DKDATA_PG_PID=%s\n' "$pid"
}

log_tail() {
  [[ -s $DIR/server.log ]] && { echo "--- end of $DIR/server.log:"; tail -n 20 "$DIR/server.log"; } >&2
  [[ -s $DIR/pg_ctl.out ]] && { echo "--- pg_ctl said:"; tail -n 10 "$DIR/pg_ctl.out"; } >&2
  return 0
}

# launch PORT: starts the postmaster of $DATA on PORT and waits until it accepts connections.
# Sets PID. Returns 1 (and leaves nothing running) when it did not come up.
launch() {
  local port=$1
  local opts="-c listen_addresses=127.0.0.1 -p $port -k $DIR -c fsync=off ${DKDATA_PG_OPTS:-}"
  if ! as_server "$PGBIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t "${DKDATA_PG_START_TIMEOUT:-60}" \
    -o "$opts" start >"$DIR/pg_ctl.out" 2>&1; then
    # pg_ctl gave up; a postmaster may still be starting: stop it by its PID.
    PID=$(postmaster_pid)
    [[ -n $PID ]] && { kill -QUIT "$PID" 2>/dev/null; wait_gone 10 "$PID" || crash_kill "$PID"; }
    return 1
  fi
  PID=$(postmaster_pid)
  [[ -n $PID ]] || return 1
  echo "$port" >"$DIR/port"
}

# ---- Commands ----

cmd_start() {
  find_bin
  DIR=$(mktemp -d /tmp/dkdata-pg.XXXXXX) || die "cannot make a folder under /tmp"
  DATA=$DIR/data
  touch "$DIR/.dkdata-pg"
  chmod 755 "$DIR"
  [[ $EUID -eq 0 ]] && chown -R postgres: "$DIR"
  cleanup_failed() { rm -rf -- "$DIR"; }

  if ! as_server "$PGBIN/initdb" -D "$DATA" -U postgres -A trust -E UTF8 --locale=C --no-sync \
    >"$DIR/initdb.log" 2>&1; then
    echo "pg_server.sh: initdb failed:" >&2
    tail -n 20 "$DIR/initdb.log" >&2
    cleanup_failed
    exit 1
  fi

  local port attempt
  for attempt in 1 2 3; do
    port=$(free_port) || { echo "pg_server.sh: no free TCP port found on 127.0.0.1" >&2; cleanup_failed; exit 1; }
    if launch "$port"; then
      print_exports "$PID" "$port"
      return 0
    fi
    # Another process may have taken the port between the probe and the bind: try another one.
    grep -q "could not bind\|Address already in use" "$DIR/server.log" 2>/dev/null || break
  done
  echo "pg_server.sh: the server did not start (binaries $PGBIN, port $port, user $SERVER_USER)" >&2
  log_tail
  cleanup_failed
  exit 1
}

# fast_stop: pg_ctl -m fast stop; if that fails, SIGQUIT (immediate shutdown), then crash_kill.
# The postmaster exits only after its children, so its exit is the end of the server.
fast_stop() {
  local pid
  pid=$(postmaster_pid)
  [[ -n $pid ]] || return 0
  as_server "$PGBIN/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >"$DIR/pg_ctl.out" 2>&1 || true
  if ! wait_gone 5 "$pid"; then
    kill -QUIT "$pid" 2>/dev/null
    wait_gone 5 "$pid" || crash_kill "$pid"
  fi
}

# remove_dead_shm: after a crash (kill), the postmaster's small System V shared-memory segment stays
# behind; postmaster.pid's 7th line holds its key and id. Removed only if nothing is attached.
remove_dead_shm() {
  [[ -r $DATA/postmaster.pid ]] || return 0
  local line key id nattch
  line=$(sed -n 7p "$DATA/postmaster.pid")
  read -r key id <<<"$line"
  [[ $key =~ ^[0-9]+$ && $id =~ ^[0-9]+$ ]] || return 0
  # ipcs -m: key (hex) shmid owner perms bytes nattch status
  nattch=$(ipcs -m 2>/dev/null | awk -v k="$(printf '0x%08x' "$key")" -v i="$id" '$1 == k && $2 == i { print $6 }')
  [[ $nattch == 0 ]] && ipcrm -m "$id" 2>/dev/null
  return 0
}

cmd_stop() {
  use_dir "${1:-}"
  find_bin
  local pid
  pid=$(postmaster_pid)
  if [[ -z $pid && ${DKDATA_PG_PID:-} =~ ^[0-9]+$ && $(readlink "/proc/$DKDATA_PG_PID/cwd" 2>/dev/null) == "$DATA" ]]; then
    pid=$DKDATA_PG_PID
  fi
  if [[ -n $pid ]]; then
    # SIGTERM is a "smart" shutdown: it waits for clients to disconnect. A test that leaked a
    # connection must not hang the stop, so it escalates: SIGINT (fast), SIGQUIT (immediate), SIGKILL.
    kill -TERM "$pid" 2>/dev/null
    if ! wait_gone 2 "$pid"; then
      kill -INT "$pid" 2>/dev/null
      if ! wait_gone 10 "$pid"; then
        kill -QUIT "$pid" 2>/dev/null
        wait_gone 5 "$pid" || crash_kill "$pid"
      fi
    fi
    wait_gone 1 "$pid" || die "the server (pid $pid) did not stop; $DIR kept"
  fi
  remove_dead_shm
  rm -rf -- "$DIR"
}

cmd_down() {
  use_dir "${1:-}"
  find_bin
  fast_stop
}

cmd_up() {
  use_dir "${1:-}"
  find_bin
  local running port=""
  running=$(postmaster_pid)
  [[ -z $running ]] || die "the server of $DIR is already running (pid $running)"
  [[ -r $DIR/port ]] && read -r port <"$DIR/port"
  [[ ${port:-} =~ ^[0-9]+$ ]] || die "$DIR has no port file"
  # After a crash (kill) postmaster.pid and the socket's lock file are left behind, and their PID may
  # still be a zombie that the init process has not reaped yet, which the new postmaster would take
  # for a running server. No process of this server is alive (postmaster_pid said so; crash_kill
  # waited for the children), so they and the old shared-memory segment are removed.
  if [[ -e $DATA/postmaster.pid ]]; then
    remove_dead_shm
    rm -f -- "$DATA/postmaster.pid" "$DIR/.s.PGSQL.$port" "$DIR/.s.PGSQL.$port.lock"
  fi
  if launch "$port"; then
    print_exports "$PID" "$port"
  else
    echo "pg_server.sh: the server did not start again on port $port" >&2
    log_tail
    exit 1
  fi
}

cmd_restart() {
  local delay=${1:-0}
  [[ $delay =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "restart: SECONDS must be a number, got '$delay'"
  use_dir ""
  find_bin
  fast_stop
  [[ $delay != 0 ]] && sleep "$delay"
  cmd_up ""
}

cmd_kill() {
  use_dir "${1:-}"
  local pid
  pid=$(postmaster_pid)
  [[ -n $pid ]] || die "the server of $DIR is not running"
  crash_kill "$pid" || die "processes of the server (postmaster $pid) are still alive after SIGKILL"
}

cmd_status() {
  use_dir "${1:-}"
  local pid port=""
  pid=$(postmaster_pid)
  [[ -r $DIR/port ]] && read -r port <"$DIR/port"
  if [[ -n $pid ]]; then
    echo "running $pid $port"
  else
    echo "stopped"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop "${2:-}" ;;
  down) cmd_down "${2:-}" ;;
  up) cmd_up "${2:-}" ;;
  restart) cmd_restart "${2:-0}" ;;
  kill) cmd_kill "${2:-}" ;;
  status) cmd_status "${2:-}" ;;
  *) usage ;;
esac
