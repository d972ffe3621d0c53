#!/usr/bin/env bash
# The Elasticsearch node that ctest shares among the elasticsearch backend's tests (a ctest fixture:
# tests/CMakeLists.txt runs `start` before them and `stop` after them).
#
#   bash tests/elasticsearch/es_fixture.sh start ENV_FILE [FLAVOR]
#        start a private node (es_server.sh; FLAVOR elasticsearch, the default, or opensearch) and
#        write its `export` lines to ENV_FILE
#   bash tests/elasticsearch/es_fixture.sh stop ENV_FILE
#        stop that node (by its PID) and remove ENV_FILE
#
# Without Java, Maven, unzip or curl, `start` prints SKIP, leaves no ENV_FILE and exits 0, so the
# tests skip with a message; under CI=true it fails instead, and so do the tests that need it.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
[[ $# -eq 2 || ($# -eq 3 && $1 == start) ]] || {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
action=$1
env_file=$2
flavor=${3:-elasticsearch}

case $action in
  start)
    rm -f "$env_file"
    if ! why=$(bash "$here/es_server.sh" check "$flavor" 2>&1); then
      if [[ ${CI:-} == true ]]; then
        echo "FAIL: $why" >&2
        exit 1
      fi
      echo "SKIP: $why"
      exit 0
    fi
    exports=$(bash "$here/es_server.sh" start "$flavor") || exit 1
    printf '%s\n' "$exports" >"$env_file.tmp" && mv "$env_file.tmp" "$env_file"
    echo "started: $(grep -E 'DKDATA_ES_(URL|FLAVOR|VERSION)=' "$env_file" | sed 's/^export //' | tr '\n' ' ')"
    ;;
  stop)
    [[ -f $env_file ]] || exit 0
    # shellcheck disable=SC1090
    source "$env_file"
    bash "$here/es_server.sh" stop
    rc=$?
    rm -f "$env_file"
    exit $rc
    ;;
  *)
    echo "es_fixture.sh: unknown action '$action'" >&2
    exit 2
    ;;
esac
