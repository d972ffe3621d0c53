#!/usr/bin/env bash
# A private S3-compatible server that verifies AWS Signature V4, for the tests and benchmarks of the
# s3 backend: moto's server (PyPI moto[server]) with IAM authentication enforced.
#
#   eval "$(bash tests/s3/s3_server.sh start)"   start one; prints `export` lines:
#        DKDATA_S3_ENDPOINT=http://127.0.0.1:PORT  DKDATA_S3_REGION=us-east-1
#        DKDATA_S3_ACCESS_KEY, DKDATA_S3_SECRET_KEY  the one long-term key pair that is accepted
#        DKDATA_S3_SESSION_ACCESS_KEY, DKDATA_S3_SESSION_SECRET_KEY, DKDATA_S3_SESSION_TOKEN
#                                 temporary (STS) credentials, for x-amz-security-token tests
#        DKDATA_S3_PID=<pid of the server>  DKDATA_S3_DATA=<temporary folder>
#        DKDATA_S3_MOTO_VERSION=<version>
#   bash tests/s3/s3_server.sh stop     stop the server of $DKDATA_S3_DATA, remove the folder
#   bash tests/s3/s3_server.sh kill     SIGKILL the server: a crash (its objects are gone: moto
#                                       keeps everything in memory); `stop` after
#   bash tests/s3/s3_server.sh status   "running PID PORT" or "stopped", exit 0 / 3
#   bash tests/s3/s3_server.sh check    exit 0 if it can start here (python3 with venv and curl,
#                                       or moto already cached), else say what is missing, exit 1
#
# No bucket exists at start: a test makes its own with a signed `PUT /BUCKET` (path-style URLs,
# http://127.0.0.1:PORT/BUCKET/KEY; names of 3-63 lowercase letters, digits, '-' and '.').
# Requests must be signed with SigV4 for the region us-east-1 and the service s3, and must sign an
# x-amz-content-sha256 header (the hex SHA-256 of the body, or UNSIGNED-PAYLOAD): moto trusts that
# header and, without it, hashes something other than the body. A wrong secret gets 403
# SignatureDoesNotMatch, an unknown key 403 InvalidAccessKeyId, an unsigned request 403 AccessDenied.
# tests/s3/README.md has what this moto does and does not do like S3.
#
# moto is pip-installed once into a venv in a cache: $DKDATA_S3_CACHE/moto-venv, else
# /var/cache/dkdata/moto-venv when root, else ${XDG_CACHE_HOME:-$HOME/.cache}/dkdata/moto-venv,
# pinned by moto-constraints.txt beside this script (moto 5.2.5 and all its dependencies); later
# starts do not reach PyPI. The server itself is moto_s3_server.py beside this script, run with that
# venv's Python, as the calling user, on 127.0.0.1 only, on a port the kernel picks. It listens on
# no other address. Multipart parts below 5 MiB (but the last) are refused as by S3; set
# DKDATA_S3_MIN_PART_SIZE (bytes) to lower that for small tests.
#
# Processes are only ever signalled by PID (the server's, read from its pid file and checked to be a
# process whose command line names this folder), never by name. A server that cannot be started is
# reported on stderr (with the end of its log) and the exit code is 1; the folder is then removed.
#
# Layout of the temporary folder (/tmp/dkdata-s3.XXXXXX, mode 700):
#   .dkdata-s3   marker, checked before rm -rf   server.pid  the server's pid file
#   port         the port it listens on           credentials, session  the keys (mode 600)
#   server.log   the server's output (one line per request)
set -u
# shellcheck source=../lib/server_processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server_processes.sh"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "s3_server.sh: $*" >&2
  exit 1
}

MOTO_VERSION=5.2.5
REGION=us-east-1
CONSTRAINTS=$HERE/moto-constraints.txt
LAUNCHER=$HERE/moto_s3_server.py
INSTALL_HINT="apt-get install -y python3 python3-venv curl (or scripts/install-deps.sh)"
EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# ---- The cached venv ----

cache_root() {
  if [[ -n ${DKDATA_S3_CACHE:-} ]]; then
    echo "$DKDATA_S3_CACHE"
  elif [[ $EUID -eq 0 ]]; then
    echo /var/cache/dkdata
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/dkdata"
  fi
}

# venv_stamp: what a finished venv records in its .dkdata-ready file. A venv made from other pins
# (the constraints file changed) does not match and is made again.
venv_stamp() {
  echo "moto[server]==$MOTO_VERSION $(sha256sum <"$CONSTRAINTS" | cut -d' ' -f1)"
}

venv_ready() {
  local stamp=""
  [[ -x $VENV/bin/python && -r $VENV/.dkdata-ready ]] || return 1
  read -r stamp <"$VENV/.dkdata-ready"
  [[ $stamp == "$(venv_stamp)" ]]
}

# ensure_venv: sets VENV, making it the first time (pip from PyPI). A lock serializes concurrent
# starts. The ready file is written last, so a venv that a killed or failed install left half-made
# is removed and made again, never used.
ensure_venv() {
  local cache
  cache=$(cache_root)
  VENV=$cache/moto-venv
  venv_ready && return 0
  mkdir -p "$cache" || die "cannot make the cache folder $cache"
  exec 8>"$cache/.moto-venv.lock"
  flock -w 900 8 || die "another start holds $cache/.moto-venv.lock for more than 15 minutes"
  if ! venv_ready; then
    echo "s3_server.sh: installing moto[server]==$MOTO_VERSION from PyPI into $VENV (once)" >&2
    rm -rf -- "$VENV"
    local log=$cache/moto-venv.install.log
    if ! python3 -m venv "$VENV" >"$log" 2>&1; then
      cat "$log" >&2
      rm -rf -- "$VENV"
      die "python3 -m venv failed; install it with: $INSTALL_HINT"
    fi
    # No pip cache: the wheels would stay in ~/.cache/pip beside the venv for nothing.
    if ! PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 "$VENV/bin/python" -m pip install \
      --no-cache-dir -q -c "$CONSTRAINTS" "moto[server]==$MOTO_VERSION" >>"$log" 2>&1 ||
      ! "$VENV/bin/python" -c "import moto, flask, werkzeug; assert moto.__version__ == '$MOTO_VERSION', moto.__version__" >>"$log" 2>&1; then
      echo "s3_server.sh: pip could not install moto[server]==$MOTO_VERSION:" >&2
      grep -v '^\s*$' "$log" | tail -n 15 >&2
      rm -rf -- "$VENV"
      exit 1
    fi
    venv_stamp >"$VENV/.dkdata-ready"
    rm -f -- "$log"
  fi
  exec 8>&-
}

# ---- The folder of a running (or stopped) server ----

# use_dir [DIR]: sets DIR from the argument or $DKDATA_S3_DATA and checks the marker, so that nothing
# but a folder made by this script is ever removed.
use_dir() {
  DIR=${1:-${DKDATA_S3_DATA:-}}
  [[ -n $DIR ]] || die "no server: DKDATA_S3_DATA is not set (eval the output of 's3_server.sh start')"
  [[ -d $DIR && -f $DIR/.dkdata-s3 ]] || die "$DIR is not a folder made by s3_server.sh"
  DIR=$(cd "$DIR" && pwd)
  PORT=""
  [[ -r $DIR/port ]] && read -r PORT <"$DIR/port"
}

# is_server PID: true if PID is a live (not zombie) server of this folder: its command line holds
# `--dir DIR`, which no other process has, so a reused PID is never trusted.
is_server() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]] || return 1
  tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | grep -qxF -- "$DIR"
}

# server_pid: prints the PID of this folder's live server, or nothing.
server_pid() {
  local pid=""
  [[ -r $DIR/server.pid ]] && read -r pid 2>/dev/null <"$DIR/server.pid"
  is_server "$pid" && echo "$pid"
  return 0
}

# signed_status PATH: the HTTP status of a signed GET of PATH with the folder's key pair.
signed_status() {
  local key secret
  read -r key secret <"$DIR/credentials" || return 1
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 --aws-sigv4 "aws:amz:$REGION:s3" \
    --user "$key:$secret" -H "x-amz-content-sha256: $EMPTY_SHA256" "http://127.0.0.1:$PORT$1"
}

# ready: the server answers a signed ListBuckets with 200 and an unsigned one with 403: auth is on.
ready() {
  [[ -s $DIR/port && -s $DIR/credentials ]] || return 1
  read -r PORT <"$DIR/port"
  [[ $(signed_status /) == 200 ]] || return 1
  [[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/") == 403 ]]
}

print_exports() {
  local key secret skey ssecret token
  read -r key secret <"$DIR/credentials"
  read -r skey ssecret token <"$DIR/session"
  printf 'export DKDATA_S3_ENDPOINT=%q\n' "http://127.0.0.1:$PORT"
  printf 'export DKDATA_S3_REGION=%q\n' "$REGION"
  printf 'export DKDATA_S3_ACCESS_KEY=%q\n' "$key"
  printf 'export DKDATA_S3_SECRET_KEY=%q\n' "$secret"
  printf 'export DKDATA_S3_SESSION_ACCESS_KEY=%q\n' "$skey"
  printf 'export DKDATA_S3_SESSION_SECRET_KEY=%q\n' "$ssecret"
  printf 'export DKDATA_S3_SESSION_TOKEN=%q\n' "$token"
  printf 'export DKDATA_S3_PID=%s\n' "$1"
  printf 'export DKDATA_S3_DATA=%q\n' "$DIR"
  printf 'export DKDATA_S3_MOTO_VERSION=%s\n' "$MOTO_VERSION"
}

log_tail() {
  [[ -s $DIR/server.log ]] && { echo "--- end of $DIR/server.log:"; tail -n 25 "$DIR/server.log" | cut -c1-400; } >&2
  return 0
}

# stop_pid PID: SIGTERM (the server exits at once: nothing to flush), SIGKILL after 10 s.
stop_pid() {
  kill -TERM "$1" 2>/dev/null
  wait_gone "${DKDATA_S3_STOP_TIMEOUT:-10}" "$1" || crash_kill "$1"
  wait_gone 1 "$1"
}

# ---- Commands ----

cmd_check() {
  command -v curl >/dev/null 2>&1 || die "curl is needed; install it with: $INSTALL_HINT"
  VENV=$(cache_root)/moto-venv
  venv_ready && return 0
  command -v python3 >/dev/null 2>&1 || die "python3 is needed to install moto; install it with: $INSTALL_HINT"
  python3 -c 'import venv, ensurepip' 2>/dev/null ||
    die "python3 cannot make a venv with pip (no python3-venv); install it with: $INSTALL_HINT"
}

cmd_start() {
  cmd_check
  ensure_venv
  DIR=$(mktemp -d /tmp/dkdata-s3.XXXXXX) || die "cannot make a folder under /tmp"
  touch "$DIR/.dkdata-s3"
  cleanup_failed() { rm -rf -- "$DIR"; }

  # setsid: a Ctrl-C in the caller's terminal does not reach the server. The environment's
  # S3_UPLOAD_PART_MIN_SIZE is moto's own setting.
  local launcher deadline
  (cd "$DIR" && S3_UPLOAD_PART_MIN_SIZE=${DKDATA_S3_MIN_PART_SIZE:-5242880} exec setsid \
    "$VENV/bin/python" "$LAUNCHER" --dir "$DIR" --region "$REGION" --port 0) \
    </dev/null >"$DIR/server.log" 2>&1 &
  launcher=$!
  PID=""
  deadline=$((SECONDS + ${DKDATA_S3_START_TIMEOUT:-60}))
  while ((SECONDS < deadline)); do
    [[ -z $PID ]] && PID=$(server_pid)
    if [[ -n $PID ]]; then
      is_server "$PID" || break # it died
      ready && { print_exports "$PID"; return 0; }
    elif ! alive "$launcher"; then
      break # it died before writing its pid file
    fi
    sleep 0.2
  done
  [[ -z $PID ]] && PID=$(server_pid)
  if [[ -n $PID ]]; then
    ((SECONDS >= deadline)) &&
      echo "s3_server.sh: no signed answer on port ${PORT:-?} after ${DKDATA_S3_START_TIMEOUT:-60} s (DKDATA_S3_START_TIMEOUT); stopping pid $PID" >&2
    stop_pid "$PID"
  fi
  wait_gone 5 "$launcher" || kill -KILL "$launcher" 2>/dev/null
  wait "$launcher" 2>/dev/null
  echo "s3_server.sh: the server did not start (moto $MOTO_VERSION in $VENV)" >&2
  log_tail
  cleanup_failed
  exit 1
}

cmd_stop() {
  use_dir "${1:-}"
  local pid
  pid=$(server_pid)
  if [[ -z $pid ]] && is_server "${DKDATA_S3_PID:-}"; then
    pid=$DKDATA_S3_PID
  fi
  if [[ -n $pid ]]; then
    stop_pid "$pid" || die "the server (pid $pid) did not stop; $DIR kept"
  fi
  rm -rf -- "$DIR"
}

cmd_kill() {
  use_dir "${1:-}"
  local pid
  pid=$(server_pid)
  [[ -n $pid ]] || die "the server of $DIR is not running"
  crash_kill "$pid" || die "the server (pid $pid) is still alive after SIGKILL"
}

cmd_status() {
  use_dir "${1:-}"
  local pid
  pid=$(server_pid)
  if [[ -n $pid ]]; then
    echo "running $pid $PORT"
  else
    echo "stopped"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop "${2:-}" ;;
  kill) cmd_kill "${2:-}" ;;
  status) cmd_status "${2:-}" ;;
  check) cmd_check ;;
  *) usage ;;
esac
