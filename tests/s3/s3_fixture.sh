#!/usr/bin/env bash
# The S3 server that ctest shares among the s3 backend's tests (a ctest fixture: tests/CMakeLists.txt
# runs `start` before them and `stop` after them).
#
#   bash tests/s3/s3_fixture.sh start ENV_FILE
#        start a private server (s3_server.sh) and write its `export` lines to ENV_FILE
#   bash tests/s3/s3_fixture.sh stop ENV_FILE
#        stop that server (by its PID) and remove ENV_FILE
#
# Without python3 (with venv) or curl, and with no moto cached, `start` prints SKIP, leaves no
# ENV_FILE and exits 0, so the tests skip with a message; under CI=true it fails instead, and so do
# the tests that need it. A server that cannot start although the tools are there (PyPI unreachable
# on the first start, say) fails either way.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
[[ $# -eq 2 ]] || {
  sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
action=$1
env_file=$2

case $action in
  start)
    rm -f "$env_file"
    if ! why=$(bash "$here/s3_server.sh" check 2>&1); then
      if [[ ${CI:-} == true ]]; then
        echo "FAIL: $why" >&2
        exit 1
      fi
      echo "SKIP: $why"
      exit 0
    fi
    exports=$(bash "$here/s3_server.sh" start) || exit 1
    printf '%s\n' "$exports" >"$env_file.tmp" && mv "$env_file.tmp" "$env_file"
    echo "started: $(grep -E 'DKDATA_S3_(ENDPOINT|PID|MOTO_VERSION)=' "$env_file" | sed 's/^export //' | tr '\n' ' ')"
    ;;
  stop)
    [[ -f $env_file ]] || exit 0
    # shellcheck disable=SC1090
    source "$env_file"
    bash "$here/s3_server.sh" stop
    rc=$?
    rm -f "$env_file"
    exit $rc
    ;;
  *)
    echo "s3_fixture.sh: unknown action '$action'" >&2
    exit 2
    ;;
esac
