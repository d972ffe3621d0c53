#!/usr/bin/env bash
# The private test node of tests/elasticsearch/es_server.sh works on this machine: it starts on a free
# port on 127.0.0.1, indexes and finds a document, keeps it across a restart and a crash (kill, then
# up), and stop leaves no process and no folder behind. The elasticsearch backend's tests build on it.
# Elasticsearch must pass; OpenSearch is tried too, and if it cannot start here that is reported
# (NOTE:) without failing. Without Java, Maven, unzip or curl this skips with a message, except under
# CI=true, where it fails.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
server="$here/es_server.sh"
fail() {
  echo "FAIL: $*" >&2
  [[ -n ${DKDATA_ES_DATA:-} ]] && bash "$server" stop >/dev/null 2>&1
  exit 1
}

if ! why=$(bash "$server" check elasticsearch 2>&1); then
  if [[ ${CI:-} == true ]]; then
    fail "$why"
  fi
  echo "SKIP: $why"
  exit 0
fi

# Whether a process runs: exists and is not a zombie (the init process reaps a dead node late).
alive() {
  local state
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z ]]
}
# Whether any live process names FOLDER on its command line (the node's JVM does: its tmp dir).
any_process_in() {
  local f
  for f in /proc/[0-9]*; do
    alive "${f#/proc/}" || continue
    tr '\0' '\n' 2>/dev/null <"$f/cmdline" | grep -qF -- "$1/" && return 0
  done
  return 1
}
es() { curl -sS --max-time 30 -H 'Content-Type: application/json' "$@"; }
doc_found() { es "$DKDATA_ES_URL/dkdata-test/_doc/1" | grep -q '"found":true'; }
search_hits() { es "$DKDATA_ES_URL/dkdata-test/_search?q=name:alpha" | grep -q '"total":{"value":1,'; }

# check_flavor FLAVOR: the whole round on one node. Returns 2 if the node did not start at all.
check_flavor() {
  local flavor=$1 exports old_pid crashed_pid last_pid folder
  unset DKDATA_ES_DATA
  exports=$(bash "$server" start "$flavor") || return 2
  eval "$exports"
  trap 'bash "$server" stop >/dev/null 2>&1' EXIT
  [[ $DKDATA_ES_FLAVOR == "$flavor" ]] || fail "started $DKDATA_ES_FLAVOR, not $flavor"

  es -XPUT "$DKDATA_ES_URL/dkdata-test/_doc/1?refresh=true" -d '{"name":"alpha","n":1}' |
    grep -q '"result":"created"' || fail "$flavor: index a document"
  search_hits || fail "$flavor: the document is not found by a search"

  old_pid=$DKDATA_ES_PID
  exports=$(bash "$server" restart) || fail "$flavor: restart"
  eval "$exports"
  [[ $DKDATA_ES_PID != "$old_pid" ]] || fail "$flavor: restart kept the old node"
  alive "$old_pid" && fail "$flavor: the old node $old_pid still runs after restart"
  doc_found || fail "$flavor: the document was lost across a restart"
  search_hits || fail "$flavor: the document is not found by a search after a restart"

  crashed_pid=$DKDATA_ES_PID
  bash "$server" kill || fail "$flavor: kill"
  alive "$crashed_pid" && fail "$flavor: the node $crashed_pid survived kill"
  [[ $(bash "$server" status) == stopped ]] || fail "$flavor: status is not 'stopped' after kill"
  exports=$(bash "$server" up) || fail "$flavor: up after a crash"
  eval "$exports"
  doc_found || fail "$flavor: the document was lost across a crash"
  search_hits || fail "$flavor: the document is not found by a search after a crash"

  last_pid=$DKDATA_ES_PID
  folder=$DKDATA_ES_DATA
  trap - EXIT
  bash "$server" stop || fail "$flavor: stop"
  unset DKDATA_ES_DATA
  alive "$last_pid" && fail "$flavor: the node $last_pid still runs after stop"
  [[ -e $folder ]] && fail "$flavor: stop left $folder behind"
  any_process_in "$folder" && fail "$flavor: a process of $folder still runs after stop"
  echo "ok: $flavor $DKDATA_ES_VERSION: start, index, search, restart, crash and stop on 127.0.0.1"
}

check_flavor elasticsearch
[[ $? == 2 ]] && fail "the Elasticsearch node did not start"

# OpenSearch is optional: the backend aims at both, but only Elasticsearch is required here.
if ! why=$(bash "$server" check opensearch 2>&1); then
  echo "NOTE: OpenSearch not tried: $why"
  exit 0
fi
check_flavor opensearch
[[ $? == 2 ]] && echo "NOTE: OpenSearch did not start here (see the messages above); not a failure"
exit 0
