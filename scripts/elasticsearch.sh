#!/usr/bin/env bash
# elasticsearch.sh start|stop|status|build [--lease ID]
# The Elasticsearch of ferry's tests: Elasticsearch 7.17.29 from its Maven Central
# jars (the server, its Netty HTTP transport, the reindex and mapper-extras
# modules: _delete_by_query, scaled_float), started by a
# small Java main kept beside this script (scripts/elasticsearch/FerryEsNode.java),
# single node on 127.0.0.1:${ES_PORT:-9200}, heap ${ES_HEAP:-512m}, no security.
# Not on Maven Central for 7.17, so missing here: lang-painless (no scripts),
# analysis-common (no language analyzers), x-pack (no security, no `flattened`).
#
# Leases: the tests run the server only while they need it. `start --lease ID`
# records the lease and starts the server if it is down; `stop --lease ID` drops
# the lease and stops the server once no lease is left, but only if leases started
# it. A plain `start` (npm run servers, a developer) keeps it running for good; a
# plain `stop` stops it whatever holds it. A lease whose process (ID is a pid) is
# gone no longer counts.
#
# Needs java >= 17, javac and mvn (installed with apt-get when missing, as root).
# The jars and the built main are cached: FERRY_SERVERS_CACHE, by default
# /var/cache/ferry-servers as root, else ~/.cache/ferry-servers; data and logs
# live beside them. Idempotent; quiet on success; on failure prints why and the
# log tail. From the recipe verified on these machines (../shared/servers/).
set -euo pipefail

ES_VERSION=7.17.29 # the pom's es.version
ES_HOST=127.0.0.1
ES_PORT=${ES_PORT:-9200}
ES_HEAP=${ES_HEAP:-512m}
if [[ $(id -u) -eq 0 ]]; then CACHE=${FERRY_SERVERS_CACHE:-/var/cache/ferry-servers}
else CACHE=${FERRY_SERVERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-servers}; fi
SOURCES=$(cd "$(dirname "${BASH_SOURCE[0]}")/elasticsearch" && pwd)
BASE=$CACHE/elasticsearch
# The build depends on the sources: a change to them builds a new dist.
STAMP=$(cat "$SOURCES/pom.xml" "$SOURCES/FerryEsNode.java" "$SOURCES/log4j2.properties" | sha256sum | cut -c1-12)
DIST=$BASE/dist-$ES_VERSION-$STAMP
HOME_DIR=$BASE/home-$ES_PORT
PIDFILE=$HOME_DIR/es.pid
LOG=$HOME_DIR/logs/stdout.log
LEASES=$HOME_DIR/leases
# Present while the server runs for leases only (a plain start removes it).
FOR_LEASES=$HOME_DIR/started-for-leases

die() { echo "elasticsearch.sh: $*" >&2; exit 1; }

# pid_alive: the recorded process still runs and is ours (a stale pid file may
# name a recycled pid).
pid_alive() {
  local pid cmd
  [[ -s $PIDFILE ]] && pid=$(cat "$PIDFILE") && kill -0 "$pid" 2>/dev/null &&
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") && [[ $cmd == *"FerryEsNode"* ]]
}
port_open() { (exec 3<>"/dev/tcp/$ES_HOST/$ES_PORT") 2>/dev/null; }

# http_status PATH: the HTTP status of GET PATH (bash alone: curl may be missing).
http_status() {
  local line
  exec 3<>"/dev/tcp/$ES_HOST/$ES_PORT" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" "$ES_HOST" >&3
  IFS= read -r -t 10 line <&3 || { exec 3>&-; return 1; }
  exec 3>&-
  line=${line#* }
  echo "${line%% *}"
}
healthy() { [[ $(http_status '/_cluster/health?wait_for_status=yellow&timeout=1s' 2>/dev/null) == 200 ]]; }

ensure_tools() {
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v javac >/dev/null || missing+=(openjdk-17-jdk-headless)
  command -v mvn >/dev/null || missing+=(maven)
  ((${#missing[@]})) || return 0
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  echo "elasticsearch.sh: installing ${missing[*]}" >&2
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

build() {
  [[ -f $DIST/.built ]] && return 0
  ensure_tools
  mkdir -p "$DIST"
  local blog=$DIST/build.log
  cp "$SOURCES/pom.xml" "$SOURCES/FerryEsNode.java" "$SOURCES/log4j2.properties" "$DIST/"
  (
    cd "$DIST"
    rm -rf lib classes
    mvn -B -q dependency:copy-dependencies -DoutputDirectory="$DIST/lib"
    mkdir -p classes
    javac -d classes -cp 'lib/*' FerryEsNode.java
    touch .built
  ) >"$blog" 2>&1 || { tail -n 30 "$blog" >&2; die "build failed (log: $blog)"; }
  # Older builds are no longer used.
  find "$BASE" -maxdepth 1 -name 'dist-*' ! -path "$DIST" -exec rm -rf {} + 2>/dev/null || true
}

launch() {
  pid_alive && stop_server
  port_open && die "port $ES_PORT is taken by another process"
  build
  mkdir -p "$HOME_DIR/logs" "$HOME_DIR/tmp"
  # setsid: the server outlives the shell (and the test process) that started it.
  nohup setsid java -Xms"$ES_HEAP" -Xmx"$ES_HEAP" -Xss1m -XX:+UseG1GC \
    -XX:-OmitStackTraceInFastThrow -Djava.awt.headless=true -Dfile.encoding=UTF-8 \
    -Djava.io.tmpdir="$HOME_DIR/tmp" -Djna.nosys=true \
    -Dio.netty.noUnsafe=true -Dio.netty.noKeySetOptimization=true -Dio.netty.recycler.maxCapacityPerThread=0 \
    -Dlog4j2.formatMsgNoLookups=true -Dlog4j2.disable.jmx=true -Dlog4j.shutdownHookEnabled=false \
    -Dlog4j.configurationFile="$DIST/log4j2.properties" \
    -Dferry.es.home="$HOME_DIR" -Dferry.es.host="$ES_HOST" -Dferry.es.port="$ES_PORT" \
    ${ES_JAVA_OPTS:-} -cp "$DIST/classes:$DIST/lib/*" FerryEsNode \
    </dev/null >"$LOG" 2>&1 9>&- &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  local deadline=$((SECONDS + ${ES_START_TIMEOUT:-180}))
  # Liveness by pid alone here: until the forked shell has exec'd, its cmdline
  # is this script's, and pid_alive would call a starting server dead.
  until healthy; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      tail -n 30 "$LOG" >&2
      die "Elasticsearch did not start (log: $LOG)"
    fi
    sleep 0.5
  done
}

stop_server() {
  pid_alive || { rm -f "$PIDFILE"; return 0; }
  local pid deadline=$((SECONDS + 30))
  pid=$(cat "$PIDFILE")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then kill -9 "$pid" 2>/dev/null || true; break; fi
    sleep 0.2
  done
  rm -f "$PIDFILE"
}

# live_leases: how many leases name a process that still runs (the others are removed).
live_leases() {
  local n=0 lease
  for lease in "$LEASES"/*; do
    [[ -e $lease ]] || continue
    if kill -0 "$(basename "$lease")" 2>/dev/null; then n=$((n + 1)); else rm -f "$lease"; fi
  done
  echo "$n"
}

start() {
  local lease=${1:-}
  if [[ -n $lease ]]; then
    mkdir -p "$LEASES"
    touch "$LEASES/$lease"
    if pid_alive && healthy; then return 0; fi
    launch
    touch "$FOR_LEASES"
  else
    rm -f "$FOR_LEASES"
    if pid_alive && healthy; then return 0; fi
    launch
  fi
}

stop() {
  local lease=${1:-}
  if [[ -n $lease ]]; then
    rm -f "$LEASES/$lease"
    [[ -e $FOR_LEASES ]] || return 0
    (($(live_leases) == 0)) || return 0
  fi
  stop_server
  rm -rf "$FOR_LEASES" "$LEASES"
}

status() {
  if pid_alive && healthy; then
    local why='for good'
    [[ -e $FOR_LEASES ]] && why="while tests hold leases ($(live_leases))"
    echo "elasticsearch $ES_VERSION running, pid $(cat "$PIDFILE"), http://$ES_HOST:$ES_PORT, $why"
  else
    echo "elasticsearch not running"
    return 3
  fi
}

command=${1:-}
lease=
if [[ ${2:-} == --lease ]]; then
  lease=${3:?--lease needs an ID (a pid)}
  [[ $lease =~ ^[0-9]+$ ]] || die "--lease takes a pid, not $lease"
fi
mkdir -p "$HOME_DIR"
# One of these at a time: tests in several processes start and stop the server together.
exec 9>"$HOME_DIR/.lock"
flock 9
case $command in
  start) start "$lease" ;;
  stop) stop "$lease" ;;
  status) status ;;
  build) build ;;
  *) echo "usage: $0 start|stop|status|build [--lease PID]" >&2; exit 2 ;;
esac
