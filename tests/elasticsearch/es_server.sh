#!/usr/bin/env bash
# A private Elasticsearch (or OpenSearch) node for the tests and benchmarks of the elasticsearch
# backend.
#
#   eval "$(bash tests/elasticsearch/es_server.sh start [elasticsearch|opensearch])"
#        start one (default elasticsearch); prints `export` lines:
#        DKDATA_ES_URL=http://127.0.0.1:PORT  DKDATA_ES_DATA=<temporary folder>
#        DKDATA_ES_PID=<pid of the node's JVM>  DKDATA_ES_FLAVOR=elasticsearch|opensearch
#        DKDATA_ES_VERSION=<version>
#   bash tests/elasticsearch/es_server.sh stop     stop the node of $DKDATA_ES_DATA, remove the folder
#   eval "$(bash tests/elasticsearch/es_server.sh restart [SECONDS])"
#                                                  graceful stop (SIGTERM), optionally stay down
#                                                  SECONDS, start again on the same ports; prints the
#                                                  export lines again (the pid changes)
#   bash tests/elasticsearch/es_server.sh down     graceful stop, keep the folder (gone until `up`)
#   eval "$(bash tests/elasticsearch/es_server.sh up)"  start again on the same ports after down/kill
#   bash tests/elasticsearch/es_server.sh kill     SIGKILL the node: a crash; `up` or `stop` after
#   bash tests/elasticsearch/es_server.sh status   "running PID PORT" or "stopped", exit 0 / 3
#   bash tests/elasticsearch/es_server.sh check [FLAVOR]  exit 0 if the tools to start one are here
#                                                  (Java, curl, and Maven and unzip unless it is
#                                                  cached), else say what is missing and exit 1
#
# The node is the "integ-test-zip" distribution from Maven Central, fetched once with Maven
# (org.elasticsearch.distribution.integ-test-zip:elasticsearch:VERSION:zip, or
# org.opensearch.distribution.integ-test-zip:opensearch:VERSION:zip) and kept unpacked in a cache:
# $DKDATA_ES_CACHE, else /var/cache/dkdata when root (the node's user cannot enter /root), else
# ${XDG_CACHE_HOME:-$HOME/.cache}/dkdata. Versions: Elasticsearch 8.19.21, OpenSearch 2.19.6, the
# newest of each that runs on Java 17 ($DKDATA_ELASTICSEARCH_VERSION / $DKDATA_OPENSEARCH_VERSION
# choose others). That zip has no JDK: the system's Java runs it ($DKDATA_ES_JAVA_HOME, else
# $JAVA_HOME, else `java` on PATH). It holds only the core modules: no analysis-common, reindex
# (_delete_by_query, _update_by_query), lang-painless or mapper-extras.
#
# Run as root, the node runs as the user `dkdata-es` (created if missing; Elasticsearch refuses root);
# run as another user, it runs as that user. It listens on 127.0.0.1 only, on a free HTTP port and a
# free transport port, as a single-node cluster with security off, no disk watermarks (a nearly full
# disk does not block writes) and destructive actions allowed on wildcards (DELETE /test-*). The heap
# is $DKDATA_ES_HEAP (default 512m); extra JVM options can be passed in $DKDATA_ES_JAVA_OPTS.
#
# Processes are only ever signalled by PID (the node's, read from its pid file and checked to be a
# JVM whose command line names this folder's tmp dir), never by name. A node that cannot be started
# is reported on stderr (with the end of its log) and the exit code is 1; the temporary folder is then
# removed.
#
# Layout of the temporary folder (/tmp/dkdata-es.XXXXXX, mode 755, owned by the node's user):
#   config/   the node's config (ES_PATH_CONF)  data/  logs/  tmp/   the node's paths
#   .dkdata-es  marker, checked before rm -rf     server.pid  the node's pid file
#   launch.out  output of bin/elasticsearch        settings    flavor, version, home, java, ports
set -u
# shellcheck source=../lib/server_processes.sh
source "$(dirname "${BASH_SOURCE[0]}")/../lib/server_processes.sh"

usage() {
  sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "es_server.sh: $*" >&2
  exit 1
}

INSTALL_HINT="apt-get install -y default-jre-headless maven unzip curl (or scripts/install-deps.sh)"
ES_DEFAULT_VERSION=8.19.21 # 8.x: Java 17+; 9.x needs Java 21
OS_DEFAULT_VERSION=2.19.6  # 2.x: Java 11+; 3.x needs Java 21
MAVEN_DEPENDENCY_PLUGIN=org.apache.maven.plugins:maven-dependency-plugin:3.6.1

# ---- Flavor, Java, user ----

# set_flavor FLAVOR [VERSION]: the names that differ between Elasticsearch and OpenSearch.
set_flavor() {
  FLAVOR=$1
  case $FLAVOR in
    elasticsearch)
      VERSION=${2:-${DKDATA_ELASTICSEARCH_VERSION:-$ES_DEFAULT_VERSION}}
      GROUP=org.elasticsearch.distribution.integ-test-zip
      ENV_PREFIX=ES
      ;;
    opensearch)
      VERSION=${2:-${DKDATA_OPENSEARCH_VERSION:-$OS_DEFAULT_VERSION}}
      GROUP=org.opensearch.distribution.integ-test-zip
      ENV_PREFIX=OPENSEARCH
      ;;
    *) die "unknown flavor '$FLAVOR' (elasticsearch or opensearch)" ;;
  esac
  [[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "bad $FLAVOR version '$VERSION'"
}

# min_java: the oldest Java major that runs $FLAVOR $VERSION.
min_java() {
  local major=${VERSION%%.*}
  if [[ $FLAVOR == elasticsearch ]]; then
    if ((major >= 9)); then echo 21; elif ((major == 8)); then echo 17; else echo 11; fi
  else
    if ((major >= 3)); then echo 21; else echo 11; fi
  fi
}

# find_java: sets JAVA_DIR (a JAVA_HOME) and checks that its major version is recent enough.
find_java() {
  local java line major
  JAVA_DIR=${DKDATA_ES_JAVA_HOME:-${JAVA_HOME:-}}
  if [[ -z $JAVA_DIR ]]; then
    java=$(command -v java) || die "no Java found; install it with: $INSTALL_HINT"
    java=$(readlink -f "$java")
    JAVA_DIR=${java%/bin/java}
  fi
  [[ -x $JAVA_DIR/bin/java ]] || die "no bin/java under $JAVA_DIR"
  line=$("$JAVA_DIR/bin/java" -version 2>&1 | head -n 1)
  [[ $line =~ \"(1\.)?([0-9]+) ]] || die "cannot read the version of $JAVA_DIR/bin/java: $line"
  major=${BASH_REMATCH[2]}
  ((major >= $(min_java))) ||
    die "$FLAVOR $VERSION needs Java $(min_java) or newer; $JAVA_DIR is Java $major (set DKDATA_ES_JAVA_HOME to a newer one)"
}

# as_server CMD...: runs CMD as the node's user, in the folder (the caller's cwd may not be readable
# by that user), in a new session so that a Ctrl-C in the caller's terminal does not reach the node.
if [[ $EUID -eq 0 ]]; then
  SERVER_USER=${DKDATA_ES_USER:-dkdata-es}
  as_server() { (cd "$DIR" && exec setsid runuser -u "$SERVER_USER" -- "$@"); }
else
  SERVER_USER=$(id -un)
  as_server() { (cd "$DIR" && exec setsid "$@"); }
fi

# ensure_user: as root, creates the unprivileged system user the node runs as.
ensure_user() {
  [[ $EUID -eq 0 ]] || return 0
  id -u "$SERVER_USER" >/dev/null 2>&1 && return 0
  useradd --system --user-group --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin "$SERVER_USER" >/dev/null 2>&1 ||
    id -u "$SERVER_USER" >/dev/null 2>&1 || # another start may have made it meanwhile
    die "cannot create the user '$SERVER_USER' that the node runs as (useradd failed)"
}

# ---- The cached distribution ----

cache_root() {
  if [[ -n ${DKDATA_ES_CACHE:-} ]]; then
    echo "$DKDATA_ES_CACHE"
  elif [[ $EUID -eq 0 ]]; then
    echo /var/cache/dkdata
  else
    echo "${XDG_CACHE_HOME:-$HOME/.cache}/dkdata"
  fi
}

# ensure_dist: sets HOME_DIST to the unpacked distribution of $FLAVOR $VERSION, fetching it with
# Maven the first time. A lock serializes concurrent starts; the folder appears by a rename, so a
# half-unpacked one is never used.
ensure_dist() {
  local cache
  cache=$(cache_root)
  HOME_DIST=$cache/$FLAVOR-$VERSION
  [[ -x $HOME_DIST/bin/$FLAVOR ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch $FLAVOR $VERSION; install it with: $INSTALL_HINT"
  command -v unzip >/dev/null 2>&1 || die "unzip is needed to unpack $FLAVOR $VERSION; install it with: $INSTALL_HINT"
  mkdir -p "$cache" || die "cannot make the cache folder $cache"
  [[ $EUID -eq 0 ]] && chmod 755 "$cache"
  exec 9>"$cache/.lock"
  flock -w 900 9 || die "another start holds $cache/.lock for more than 15 minutes"
  if [[ ! -x $HOME_DIST/bin/$FLAVOR ]]; then
    local tmp artifact=$GROUP:$FLAVOR:$VERSION:zip
    tmp=$(mktemp -d "$cache/.fetch.XXXXXX") || die "cannot make a folder under $cache"
    echo "es_server.sh: fetching $artifact from Maven Central (once; kept in $cache)" >&2
    # A local repository of its own, in the cache: the 60-110 MB zip is deleted from it once
    # unpacked (it does not stay in ~/.m2 as well); the plugins Maven runs stay for the next fetch.
    if ! mvn -B -q -Dstyle.color=never -Dmaven.repo.local="$cache/maven-repo" \
      "$MAVEN_DEPENDENCY_PLUGIN:copy" -Dartifact="$artifact" -DoutputDirectory="$tmp" \
      >"$tmp/mvn.log" 2>&1; then
      echo "es_server.sh: Maven could not fetch $artifact:" >&2
      grep -v '^\s*$' "$tmp/mvn.log" | tail -n 15 >&2
      rm -rf -- "$tmp"
      exit 1
    fi
    rm -rf -- "$cache/maven-repo/${GROUP//.//}/$FLAVOR/$VERSION"
    if ! unzip -q "$tmp/$FLAVOR-$VERSION.zip" -d "$tmp/unpacked" ||
      [[ ! -x $tmp/unpacked/$FLAVOR-$VERSION/bin/$FLAVOR ]]; then
      rm -rf -- "$tmp"
      die "$FLAVOR-$VERSION.zip did not unpack to $FLAVOR-$VERSION/bin/$FLAVOR"
    fi
    chmod -R a+rX "$tmp/unpacked/$FLAVOR-$VERSION"
    mv "$tmp/unpacked/$FLAVOR-$VERSION" "$HOME_DIST" || { rm -rf -- "$tmp"; die "cannot move the distribution to $HOME_DIST"; }
    rm -rf -- "$tmp"
  fi
  exec 9>&-
}

# ---- The folder of a running (or stopped) node ----

# use_dir [DIR]: sets DIR from the argument or $DKDATA_ES_DATA, checks the marker so that nothing but
# a folder made by this script is ever removed, and reads the folder's settings.
use_dir() {
  DIR=${1:-${DKDATA_ES_DATA:-}}
  [[ -n $DIR ]] || die "no node: DKDATA_ES_DATA is not set (eval the output of 'es_server.sh start')"
  [[ -d $DIR && -f $DIR/.dkdata-es ]] || die "$DIR is not a folder made by es_server.sh"
  DIR=$(cd "$DIR" && pwd)
  [[ -r $DIR/settings ]] || die "$DIR has no settings file"
  local key value
  while IFS='=' read -r key value; do
    case $key in
      flavor) FLAVOR=$value ;;
      version) VERSION=$value ;;
      home) HOME_DIST=$value ;;
      java) JAVA_DIR=$value ;;
      port) PORT=$value ;;
      transport_port) TRANSPORT_PORT=$value ;;
    esac
  done <"$DIR/settings"
  set_flavor "${FLAVOR:-}" "${VERSION:-}"
  [[ ${PORT:-} =~ ^[0-9]+$ && ${TRANSPORT_PORT:-} =~ ^[0-9]+$ ]] || die "$DIR/settings has no ports"
}

write_settings() {
  printf '%s\n' "flavor=$FLAVOR" "version=$VERSION" "home=$HOME_DIST" "java=$JAVA_DIR" \
    "port=$PORT" "transport_port=$TRANSPORT_PORT" >"$DIR/settings"
}

# is_node PID: true if PID is a live (not zombie) JVM of this folder's node. The node's command line
# holds -Djava.io.tmpdir=$DIR/tmp, which no other process has, so a reused PID is never trusted.
is_node() {
  local stat
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]] || return 1
  tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | grep -qxF -- "-Djava.io.tmpdir=$DIR/tmp"
}

# node_pid: prints the PID of this folder's live node, or nothing.
node_pid() {
  local pid=""
  [[ -r $DIR/server.pid ]] && read -r pid 2>/dev/null <"$DIR/server.pid"
  is_node "$pid" && echo "$pid"
  return 0
}

# graceful_stop PID: SIGTERM (the node flushes and exits), SIGKILL after $DKDATA_ES_STOP_TIMEOUT s.
graceful_stop() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null
  wait_gone "${DKDATA_ES_STOP_TIMEOUT:-30}" "$pid" || crash_kill "$pid"
  wait_gone 1 "$pid"
}


print_exports() {
  printf 'export DKDATA_ES_URL=%q\n' "http://127.0.0.1:$PORT"
  printf 'export DKDATA_ES_DATA=%q\n' "$DIR"
  printf 'export DKDATA_ES_PID=%s\n' "$1"
  printf 'export DKDATA_ES_FLAVOR=%s\n' "$FLAVOR"
  printf 'export DKDATA_ES_VERSION=%s\n' "$VERSION"
}

log_tail() {
  local log=$DIR/logs/dkdata-test.log
  # Stack frames dropped, long lines (the JVM arguments) cut.
  [[ -s $log ]] && { echo "--- end of $log:"; grep -v '^\s*at \|^\s*\.\.\. [0-9]* more' "$log" | tail -n 25 | cut -c1-400; } >&2
  [[ -s $DIR/launch.out ]] && { echo "--- bin/$FLAVOR said:"; grep -v '^\s*at \|^\s*\.\.\. [0-9]* more' "$DIR/launch.out" | tail -n 15 | cut -c1-400; } >&2
  return 0
}

# write_config: the node's config folder, made from the distribution's, with our settings.
write_config() {
  rm -rf -- "$DIR/config"
  cp -R "$HOME_DIST/config" "$DIR/config" || return 1
  mkdir -p "$DIR/config/jvm.options.d" "$DIR/data" "$DIR/logs" "$DIR/tmp"
  {
    echo "# written by es_server.sh"
    echo "cluster.name: dkdata-test"
    echo "node.name: dkdata-test"
    echo "discovery.type: single-node"
    echo "network.host: 127.0.0.1"
    echo "http.port: $PORT"
    echo "transport.port: $TRANSPORT_PORT"
    echo "path.data: $DIR/data"
    echo "path.logs: $DIR/logs"
    echo "cluster.routing.allocation.disk.threshold_enabled: false"
    echo "action.destructive_requires_name: false"
    if [[ -d $HOME_DIST/modules/x-pack-security ]]; then
      echo "xpack.security.enabled: false"
    fi
  } >"$DIR/config/$FLAVOR.yml"
  # No GC log (bin/opensearch runs in the distribution's folder, where `logs/gc.log` cannot be
  # written), crash files in our logs/, and no dump of the whole heap on an OutOfMemoryError (the JVM
  # still exits).
  sed -i -e '/-Xlog:gc\|-Xloggc:/d' -e "s|ErrorFile=logs/|ErrorFile=$DIR/logs/|" \
    -e "s|HeapDumpPath=data|HeapDumpPath=$DIR/data|" "$DIR/config/jvm.options"
  echo "-XX:-HeapDumpOnOutOfMemoryError" >"$DIR/config/jvm.options.d/dkdata.options"
  [[ $EUID -eq 0 ]] && chown -R "$SERVER_USER:" "$DIR"
  return 0
}

# healthy: true when the node answers and its cluster is at least yellow.
healthy() {
  curl -sf --max-time 5 "http://127.0.0.1:$PORT/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null |
    grep -q '"status":"\(green\|yellow\)"'
}

# find_node: prints the PID of a live JVM of this folder's node found by its command line (see
# is_node), for the moment before it has written its pid file.
find_node() {
  local f
  for f in /proc/[0-9]*; do
    is_node "${f#/proc/}" && { echo "${f#/proc/}"; return 0; }
  done
  return 0
}

# launch: starts the node of $DIR (config written) on $PORT and waits until its cluster is yellow.
# Sets PID. Returns 1 (and leaves nothing running) when it did not come up.
launch() {
  local launcher deadline misses=0 prefix=$ENV_PREFIX
  rm -f -- "$DIR/server.pid"
  as_server env -u JAVA_HOME \
    "${prefix}_JAVA_HOME=$JAVA_DIR" "${prefix}_PATH_CONF=$DIR/config" "${prefix}_TMPDIR=$DIR/tmp" \
    "${prefix}_JAVA_OPTS=-Xms${DKDATA_ES_HEAP:-512m} -Xmx${DKDATA_ES_HEAP:-512m} ${DKDATA_ES_JAVA_OPTS:-}" \
    "$HOME_DIST/bin/$FLAVOR" -d -p "$DIR/server.pid" </dev/null >"$DIR/launch.out" 2>&1 &
  launcher=$!
  PID=""
  deadline=$((SECONDS + ${DKDATA_ES_START_TIMEOUT:-120}))
  while ((SECONDS < deadline)); do
    [[ -z $PID ]] && PID=$(node_pid)
    if [[ -n $PID ]]; then
      is_node "$PID" || break # it died
      healthy && break
    elif ! alive "$launcher"; then
      # bin/opensearch returns as soon as the JVM runs, before it writes its pid file; the JVM
      # is gone if no process of this folder shows up for 2 s.
      if [[ -z $(find_node) ]]; then
        ((++misses >= 4)) && break
      fi
    fi
    sleep 0.5
  done
  if [[ -n $PID ]] && is_node "$PID" && healthy; then
    wait_gone 30 "$launcher" # Elasticsearch 8's launcher exits once the node is ready
    wait "$launcher" 2>/dev/null
    return 0
  fi
  [[ -z $PID ]] && PID=$(node_pid)
  [[ -z $PID ]] && PID=$(find_node)
  if [[ -n $PID ]] && ((SECONDS >= deadline)); then
    echo "es_server.sh: no yellow cluster health on port $PORT after ${DKDATA_ES_START_TIMEOUT:-120} s (DKDATA_ES_START_TIMEOUT); stopping pid $PID" >&2
  fi
  [[ -n $PID ]] && graceful_stop "$PID"
  wait_gone 10 "$launcher" || kill -KILL "$launcher" 2>/dev/null
  wait "$launcher" 2>/dev/null
  PID=""
  return 1
}

# ---- Commands ----

cmd_check() {
  set_flavor "${1:-elasticsearch}"
  command -v curl >/dev/null 2>&1 || die "curl is needed; install it with: $INSTALL_HINT"
  find_java
  [[ -x $(cache_root)/$FLAVOR-$VERSION/bin/$FLAVOR ]] && return 0
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is needed to fetch $FLAVOR $VERSION; install it with: $INSTALL_HINT"
  command -v unzip >/dev/null 2>&1 || die "unzip is needed to unpack $FLAVOR $VERSION; install it with: $INSTALL_HINT"
}

cmd_start() {
  cmd_check "${1:-}"
  ensure_dist
  ensure_user
  DIR=$(mktemp -d /tmp/dkdata-es.XXXXXX) || die "cannot make a folder under /tmp"
  touch "$DIR/.dkdata-es"
  chmod 755 "$DIR"
  cleanup_failed() { rm -rf -- "$DIR"; }
  if [[ $EUID -eq 0 ]] && ! runuser -u "$SERVER_USER" -- test -x "$HOME_DIST/bin/$FLAVOR" -a -x "$JAVA_DIR/bin/java"; then
    cleanup_failed
    die "the user $SERVER_USER cannot run $HOME_DIST/bin/$FLAVOR or $JAVA_DIR/bin/java (set DKDATA_ES_CACHE to a folder it can read)"
  fi

  local attempt
  for attempt in 1 2 3; do
    PORT=$(free_port) && TRANSPORT_PORT=$(free_port) ||
      { echo "es_server.sh: no free TCP port found on 127.0.0.1" >&2; cleanup_failed; exit 1; }
    write_settings
    write_config || { cleanup_failed; die "cannot write the node's config in $DIR"; }
    if launch; then
      print_exports "$PID"
      return 0
    fi
    # Another process may have taken a port between the probe and the bind: try others.
    grep -q "BindException\|Address already in use" "$DIR/logs/dkdata-test.log" "$DIR/launch.out" 2>/dev/null || break
  done
  echo "es_server.sh: the node did not start ($FLAVOR $VERSION in $HOME_DIST, Java $JAVA_DIR, port $PORT, user $SERVER_USER)" >&2
  log_tail
  cleanup_failed
  exit 1
}

cmd_stop() {
  use_dir "${1:-}"
  local pid
  pid=$(node_pid)
  if [[ -z $pid ]] && is_node "${DKDATA_ES_PID:-}"; then
    pid=$DKDATA_ES_PID
  fi
  if [[ -n $pid ]]; then
    graceful_stop "$pid" || die "the node (pid $pid) did not stop; $DIR kept"
  fi
  rm -rf -- "$DIR"
}

cmd_down() {
  use_dir "${1:-}"
  local pid
  pid=$(node_pid)
  [[ -n $pid ]] || return 0
  graceful_stop "$pid" || die "the node (pid $pid) did not stop"
}

cmd_up() {
  use_dir "${1:-}"
  local running
  running=$(node_pid)
  [[ -z $running ]] || die "the node of $DIR is already running (pid $running)"
  if launch; then
    print_exports "$PID"
  else
    echo "es_server.sh: the node did not start again on port $PORT" >&2
    log_tail
    exit 1
  fi
}

cmd_restart() {
  local delay=${1:-0}
  [[ $delay =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "restart: SECONDS must be a number, got '$delay'"
  cmd_down ""
  [[ $delay != 0 ]] && sleep "$delay"
  cmd_up ""
}

cmd_kill() {
  use_dir "${1:-}"
  local pid
  pid=$(node_pid)
  [[ -n $pid ]] || die "the node of $DIR is not running"
  crash_kill "$pid" || die "the node (pid $pid) is still alive after SIGKILL"
}

cmd_status() {
  use_dir "${1:-}"
  local pid
  pid=$(node_pid)
  if [[ -n $pid ]]; then
    echo "running $pid $PORT"
  else
    echo "stopped"
    return 3
  fi
}

case "${1:-}" in
  start) cmd_start "${2:-}" ;;
  stop) cmd_stop "${2:-}" ;;
  down) cmd_down "${2:-}" ;;
  up) cmd_up "${2:-}" ;;
  restart) cmd_restart "${2:-0}" ;;
  kill) cmd_kill "${2:-}" ;;
  status) cmd_status "${2:-}" ;;
  check) cmd_check "${2:-}" ;;
  *) usage ;;
esac
