# tests/lib/server_processes.sh: what the scripts that run test servers (tests/postgres/pg_server.sh,
# tests/elasticsearch/es_server.sh) do with processes and ports. Sourced, never run. Processes are
# only ever found by PID (a server's own pid file, or the children of a PID), never by name.

# children_of PID: prints the PIDs whose parent is PID (read from /proc/*/stat; the command name in
# parentheses may hold spaces, so the fields are taken after the last ')').
children_of() {
  local f stat fields
  for f in /proc/[0-9]*/stat; do
    read -r stat 2>/dev/null <"$f" || continue
    read -r -a fields <<<"${stat##*) }" # state ppid pgrp ...
    [[ ${fields[1]:-} == "$1" ]] && { f=${f#/proc/}; echo "${f%/stat}"; }
  done
  return 0
}

# alive PID: true while PID runs; a zombie counts as gone (a server is re-parented to PID 1 once its
# launcher exits, and some init processes reap only every second or so).
alive() {
  local stat
  kill -0 "$1" 2>/dev/null || return 1
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

# wait_gone SECONDS PID...: waits until every PID has exited; true if they did.
wait_gone() {
  local secs=$1 i p any
  shift
  for ((i = 0; i <= secs * 10; i++)); do
    any=0
    for p in "$@"; do alive "$p" && any=1; done
    [[ $any == 0 ]] && return 0
    sleep 0.1
  done
  return 1
}

# crash_kill PID: SIGKILLs a server and its children (PostgreSQL's backends each run in a session
# of their own, so they are found by parent PID). It is frozen with SIGSTOP first, so it cannot
# start a new child (or begin crash recovery) between the listing and the kill.
crash_kill() {
  local pid=$1 kids
  kill -STOP "$pid" 2>/dev/null || return 0
  mapfile -t kids < <(children_of "$pid")
  kill -KILL "$pid" "${kids[@]}" 2>/dev/null
  wait_gone 10 "$pid" "${kids[@]}"
}

# free_port: prints a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' && return
  fi
  local p i
  for ((i = 0; i < 200; i++)); do
    p=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
