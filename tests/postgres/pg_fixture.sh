#!/usr/bin/env bash
# The PostgreSQL server that ctest shares among the postgres backend's tests (a ctest fixture:
# tests/CMakeLists.txt runs `start` before them and `stop` after them).
#
#   bash tests/postgres/pg_fixture.sh start ENV_FILE   start a private server (pg_server.sh) and
#                                                      write its `export` lines to ENV_FILE
#   bash tests/postgres/pg_fixture.sh stop ENV_FILE    stop that server (by its PID) and remove
#                                                      ENV_FILE
#
# Without PostgreSQL installed, `start` prints SKIP, leaves no ENV_FILE and exits 0, so the tests
# skip with a message; under CI=true it fails instead, and so do the tests that need it.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
[[ $# -eq 2 ]] || {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
action=$1
env_file=$2

case $action in
  start)
    rm -f "$env_file"
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
      if [[ ${CI:-} == true ]]; then
        echo "FAIL: PostgreSQL is not installed (scripts/install-deps.sh installs it)" >&2
        exit 1
      fi
      echo "SKIP: PostgreSQL is not installed; run: apt-get install -y postgresql libpq-dev"
      exit 0
    fi
    # Room for the tests running in parallel, each with its pool.
    exports=$(DKDATA_PG_OPTS="${DKDATA_PG_OPTS:--c max_connections=200}" \
      bash "$here/pg_server.sh" start) || exit 1
    printf '%s\n' "$exports" >"$env_file.tmp" && mv "$env_file.tmp" "$env_file"
    echo "started: $(grep DKDATA_PG_URL "$env_file")"
    ;;
  stop)
    [[ -f $env_file ]] || exit 0
    # shellcheck disable=SC1090
    source "$env_file"
    bash "$here/pg_server.sh" stop
    rc=$?
    rm -f "$env_file"
    exit $rc
    ;;
  *)
    echo "pg_fixture.sh: unknown action '$action'" >&2
    exit 2
    ;;
esac
