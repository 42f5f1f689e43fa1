#!/usr/bin/env bash
# cassandra.sh install|start|stop|status|clean|hold PID|release PID
# The Cassandra of ferry's tests: Apache Cassandra 5.0.9, one node, from the
# cassandra-all jars on Maven Central (no tarball, no Docker) on JDK 17,
# listening on 127.0.0.1:${CASSANDRA_PORT:-9042}, heap at most 1G.
# From the recipe verified on these machines (../shared/servers/cassandra.sh).
#
#   install      JDK 17 and Maven from Debian if missing (root), the jars (cached)
#   start        install, start, wait for CQL; a node started so is left running
#   stop         stop the node this script started (pid file)
#   status       "up …" and exit 0 when the node answers a CQL OPTIONS frame
#   clean        stop, then delete the data (the jar cache stays)
#   hold PID     what the tests call: start the node if down and hold it for
#                process PID; a node started by `hold` stops by itself once no
#                holder has been alive for CASSANDRA_IDLE_STOP seconds, so the
#                ~1.1 GB it takes is spent only while Cassandra tests run
#   release PID  drop PID's hold
#
# The jars (~90 MB, about a minute the first time) are cached in
# FERRY_SERVERS_CACHE, by default /var/cache/ferry-servers as root, else
# ~/.cache/ferry-servers, as scripts/mongo.sh does; data and logs go beside
# them in cassandra-run-<port>. Never JDK 24+ (Cassandra 5.0 refuses it).
set -euo pipefail

CASSANDRA_VERSION=${CASSANDRA_VERSION:-5.0.9}
CASSANDRA_HOST=127.0.0.1
CASSANDRA_PORT=${CASSANDRA_PORT:-9042}
CASSANDRA_STORAGE_PORT=${CASSANDRA_STORAGE_PORT:-7000}
CASSANDRA_HEAP=${CASSANDRA_HEAP:-1G}
CASSANDRA_START_TIMEOUT=${CASSANDRA_START_TIMEOUT:-240}
CASSANDRA_IDLE_STOP=${CASSANDRA_IDLE_STOP:-30}
if [[ $(id -u) -eq 0 ]]; then CACHE=${FERRY_SERVERS_CACHE:-/var/cache/ferry-servers}
else CACHE=${FERRY_SERVERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-servers}; fi
LIB=$CACHE/cassandra-$CASSANDRA_VERSION/lib
RUN=$CACHE/cassandra-run-$CASSANDRA_PORT
PIDFILE=$RUN/cassandra.pid
LOGDIR=$RUN/logs
CONF=$RUN/conf
HOLDS=$RUN/holds
# Present while the node runs for tests (started by `hold`): the watcher may stop it.
FOR_TESTS=$RUN/for-tests
WATCHER=$RUN/watcher.pid

log() { echo "cassandra.sh: $*" >&2; }
die() { log "$*"; exit 1; }

SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)

find_java17() {
  local j
  for j in "${JAVA17_HOME:-}" /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk-arm64 /usr/lib/jvm/java-17-openjdk; do
    [[ -n $j && -x $j/bin/java ]] && { echo "$j/bin/java"; return 0; }
  done
  command -v java >/dev/null && java -version 2>&1 | grep -q 'version "17' && { command -v java; return 0; }
  return 1
}

apt_install() {
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_tools() {
  local missing=()
  find_java17 >/dev/null || missing+=(openjdk-17-jdk-headless)
  [[ -f $LIB/.complete ]] || command -v mvn >/dev/null || missing+=(maven)
  ((${#missing[@]} == 0)) && return 0
  log "installing ${missing[*]}"
  apt_install "${missing[@]}"
  find_java17 >/dev/null || die "no JDK 17 after installing openjdk-17-jdk-headless"
}

# The runtime jars of cassandra-all, resolved by Maven from Maven Central once.
ensure_jars() {
  [[ -f $LIB/.complete ]] && return 0
  log "resolving org.apache.cassandra:cassandra-all:$CASSANDRA_VERSION from Maven Central into $LIB"
  local work java
  work=$(mktemp -d)
  java=$(find_java17)
  cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.ferry</groupId><artifactId>cassandra-runtime</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.cassandra</groupId><artifactId>cassandra-all</artifactId><version>$CASSANDRA_VERSION</version></dependency>
  </dependencies>
</project>
EOF
  rm -rf "$LIB.tmp"
  mkdir -p "$LIB.tmp"
  # Maven runs on JDK 17 too, so that no newer default JDK is picked up.
  if ! JAVA_HOME=$(dirname "$(dirname "$(readlink -f "$java")")") \
    mvn -B -q -Dstyle.color=never -f "$work/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$LIB.tmp" -DincludeScope=runtime >"$work/mvn.log" 2>&1; then
    tail -n 30 "$work/mvn.log" >&2
    die "maven could not resolve cassandra-all $CASSANDRA_VERSION"
  fi
  rm -rf "$LIB"
  mv "$LIB.tmp" "$LIB"
  touch "$LIB/.complete"
  rm -rf "$work"
}

install() {
  ensure_tools
  ensure_jars
}

# Whether `hold` can start a node without the network: a JDK 17 and the jars.
ready() { find_java17 >/dev/null && [[ -f $LIB/.complete ]]; }

write_conf() {
  mkdir -p "$CONF/triggers" "$LOGDIR" "$RUN/data"
  local d=$RUN/data
  # num_tokens 16: the driver's metadata then has several token ranges, as a cluster has.
  # commitlog_sync periodic is Cassandra's own default (see the README, Cassandra).
  cat >"$CONF/cassandra.yaml" <<EOF
cluster_name: ferry-test
num_tokens: 16
allocate_tokens_for_local_replication_factor: 1
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
role_manager: CassandraRoleManager
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "$CASSANDRA_HOST:$CASSANDRA_STORAGE_PORT"
listen_address: $CASSANDRA_HOST
rpc_address: $CASSANDRA_HOST
storage_port: $CASSANDRA_STORAGE_PORT
start_native_transport: true
native_transport_port: $CASSANDRA_PORT
data_file_directories:
  - $d/data
commitlog_directory: $d/commitlog
hints_directory: $d/hints
saved_caches_directory: $d/saved_caches
cdc_raw_directory: $d/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
commitlog_segment_size: 32MiB
disk_failure_policy: stop
commit_failure_policy: stop
concurrent_reads: 16
concurrent_writes: 16
concurrent_counter_writes: 16
memtable_allocation_type: heap_buffers
read_request_timeout: 10000ms
range_request_timeout: 20000ms
write_request_timeout: 10000ms
request_timeout: 20000ms
batch_size_warn_threshold: 64KiB
batch_size_fail_threshold: 640KiB
auto_snapshot: false
snapshot_on_duplicate_row_detection: false
hinted_handoff_enabled: false
dynamic_snitch: false
user_defined_functions_enabled: false
EOF
  cat >"$CONF/logback.xml" <<EOF
<configuration scan="false">
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>$LOGDIR/system.log</file>
    <encoder><pattern>%-5level [%thread] %date{ISO8601} %F:%L - %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
EOF
}

# A CQL v4 OPTIONS frame, answered by SUPPORTED (opcode 0x06) once CQL is up.
cql_ping() {
  local hdr
  hdr=$(timeout 3 bash -c '
    exec 3<>/dev/tcp/'"$CASSANDRA_HOST"'/'"$CASSANDRA_PORT"' || exit 1
    printf "\x04\x00\x00\x01\x05\x00\x00\x00\x00" >&3
    head -c 5 <&3 | od -An -tx1' 2>/dev/null) || return 1
  [[ $hdr == *"84 00 00 01 06"* ]]
}

# The pid of the node this script started, if it still runs (a stale file may name a recycled pid).
running_pid() {
  [[ -s $PIDFILE ]] || return 1
  local pid
  pid=$(cat "$PIDFILE")
  kill -0 "$pid" 2>/dev/null && grep -q CassandraDaemon "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

port_busy() { timeout 2 bash -c "exec 3<>/dev/tcp/$CASSANDRA_HOST/$1" 2>/dev/null; }

launch() {
  install
  local p java jamm
  for p in "$CASSANDRA_PORT" "$CASSANDRA_STORAGE_PORT"; do
    port_busy "$p" && die "port $p on $CASSANDRA_HOST is taken by another process"
  done
  write_conf
  java=$(find_java17)
  jamm=$(ls "$LIB"/jamm-*.jar | head -n1)
  # conf/jvm-server.options and conf/jvm17-server.options of apache/cassandra 5.0, trimmed for tests.
  local -a opts=(
    -ea -da:net.openhft... -Xss256k -Xms256M "-Xmx$CASSANDRA_HEAP" -XX:MaxDirectMemorySize=512M
    -XX:+UseG1GC -XX:+ParallelRefProcEnabled -XX:MaxTenuringThreshold=1 -XX:G1HeapRegionSize=16m
    -XX:G1RSetUpdatingPauseTimePercent=5 -XX:MaxGCPauseMillis=300 -XX:InitiatingHeapOccupancyPercent=70
    -XX:+UseThreadPriorities -XX:+UseTLAB -XX:+ResizeTLAB -XX:+PerfDisableSharedMem -XX:+ExitOnOutOfMemoryError
    -Djava.net.preferIPv4Stack=true -Djdk.attach.allowAttachSelf=true
    --add-exports java.base/jdk.internal.misc=ALL-UNNAMED
    --add-exports java.management.rmi/com.sun.jmx.remote.internal.rmi=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.registry=ALL-UNNAMED
    --add-exports java.rmi/sun.rmi.server=ALL-UNNAMED
    --add-exports java.sql/java.sql=ALL-UNNAMED
    --add-exports java.base/java.lang.ref=ALL-UNNAMED
    --add-exports jdk.unsupported/sun.misc=ALL-UNNAMED
    --add-exports jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED
    --add-exports jdk.attach/sun.tools.attach=ALL-UNNAMED
    --add-opens java.base/java.lang.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.loader=ALL-UNNAMED
    --add-opens java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens java.base/jdk.internal.reflect=ALL-UNNAMED
    --add-opens java.base/jdk.internal.math=ALL-UNNAMED
    --add-opens java.base/jdk.internal.module=ALL-UNNAMED
    --add-opens java.base/jdk.internal.util.jar=ALL-UNNAMED
    --add-opens jdk.management/com.sun.management.internal=ALL-UNNAMED
    --add-opens java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens java.base/java.io=ALL-UNNAMED
    --add-opens java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens jdk.compiler/com.sun.tools.javac=ALL-UNNAMED
    --add-opens java.base/java.lang=ALL-UNNAMED
    --add-opens java.base/java.util=ALL-UNNAMED
    -Dio.netty.tryReflectionSetAccessible=true -Dio.netty.allocator.useCacheForAllThreads=true
    -Dio.netty.allocator.maxOrder=11
    "-javaagent:$jamm"
    "-Dcassandra.config=file://$CONF/cassandra.yaml"
    "-Dlogback.configurationFile=file://$CONF/logback.xml"
    "-Dcassandra.logdir=$LOGDIR" "-Dcassandra.storagedir=$RUN/data" -Dcassandra-foreground=yes
    "-Dcassandra.triggers_dir=$CONF/triggers"
    # A single node: no 30 s wait for a ring to settle.
    -Dcassandra.ring_delay_ms=1000 -Dcassandra.skip_wait_for_gossip_to_settle=0
    -Dcassandra.superuser_setup_delay_ms=0
    "-Dcassandra.available_processors=${CASSANDRA_PROCESSORS:-$(nproc)}"
  )
  log "starting Cassandra $CASSANDRA_VERSION on $CASSANDRA_HOST:$CASSANDRA_PORT (heap at most $CASSANDRA_HEAP, logs $LOGDIR)"
  setsid "$java" "${opts[@]}" -cp "$CONF:$LIB/*" org.apache.cassandra.service.CassandraDaemon \
    >"$LOGDIR/stdout.log" 2>&1 </dev/null 9>&- &
  echo $! >"$PIDFILE"
}

wait_up() {
  local t0=$SECONDS
  while ((SECONDS - t0 < CASSANDRA_START_TIMEOUT)); do
    cql_ping && return 0
    # Liveness by pid alone: a node just launched is a forked shell until it has
    # exec'd java, and running_pid (which wants CassandraDaemon) would call it dead.
    if ! kill -0 "$(cat "$PIDFILE" 2>/dev/null)" 2>/dev/null; then
      tail -n 40 "$LOGDIR/system.log" "$LOGDIR/stdout.log" >&2 || true
      die "Cassandra exited while starting (logs: $LOGDIR)"
    fi
    sleep 1
  done
  tail -n 40 "$LOGDIR/system.log" >&2 || true
  die "no CQL on $CASSANDRA_HOST:$CASSANDRA_PORT after ${CASSANDRA_START_TIMEOUT}s (logs: $LOGDIR)"
}

# Starts the node if it is not up; true when this call launched it.
up() {
  if running_pid >/dev/null; then wait_up; return 1; fi
  cql_ping && return 1 # a node of someone else's on the port: used as it is
  launch
  local t0=$SECONDS
  wait_up
  log "CQL up on $CASSANDRA_HOST:$CASSANDRA_PORT after $((SECONDS - t0)) s (pid $(cat "$PIDFILE"))"
  return 0
}

start() {
  mkdir -p "$RUN"
  exec 9>"$RUN/lock"
  flock 9
  up || true
  # Started by hand: no watcher stops it.
  rm -f "$FOR_TESTS"
}

stop() {
  local pid
  rm -f "$FOR_TESTS"
  pid=$(running_pid) || { rm -f "$PIDFILE"; return 0; }
  log "stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then kill -KILL "$pid" 2>/dev/null || true; sleep 1; break; fi
    sleep 0.5
  done
  rm -f "$PIDFILE"
}

status() {
  local pid
  if cql_ping; then
    pid=$(running_pid) || { echo "up cql=$CASSANDRA_HOST:$CASSANDRA_PORT (not started by this script)"; return 0; }
    echo "up pid=$pid cql=$CASSANDRA_HOST:$CASSANDRA_PORT rss_kb=$(awk '/VmRSS/{print $2}' "/proc/$pid/status")$([[ -e $FOR_TESTS ]] && echo ' (for tests: stops when they end)')"
    return 0
  fi
  echo down
  return 3
}

hold() {
  local holder=$1
  [[ $holder =~ ^[0-9]+$ ]] || die "hold takes the pid of the holding process"
  mkdir -p "$HOLDS"
  exec 9>"$RUN/lock"
  flock 9
  touch "$HOLDS/$holder"
  if up; then touch "$FOR_TESTS"; fi
  if [[ -e $FOR_TESTS ]] && ! { [[ -s $WATCHER ]] && kill -0 "$(cat "$WATCHER")" 2>/dev/null; }; then
    # fd 9 closed: the watcher must not keep the lock.
    mkdir -p "$LOGDIR"
    setsid bash "${BASH_SOURCE[0]}" watch </dev/null >>"$LOGDIR/watcher.log" 2>&1 9>&- &
    echo $! >"$WATCHER"
  fi
}

release() { rm -f "$HOLDS/$1"; }

# Stops a node started for tests once no holder has lived for CASSANDRA_IDLE_STOP seconds.
watch() {
  local idle=0 f
  while [[ -e $FOR_TESTS ]] && running_pid >/dev/null; do
    sleep 2
    for f in "$HOLDS"/*; do
      [[ -e $f ]] || continue
      kill -0 "${f##*/}" 2>/dev/null || rm -f "$f"
    done
    if compgen -G "$HOLDS/*" >/dev/null; then idle=0; continue; fi
    idle=$((idle + 2))
    ((idle >= CASSANDRA_IDLE_STOP)) || continue
    exec 9>"$RUN/lock"
    flock 9
    if ! compgen -G "$HOLDS/*" >/dev/null && [[ -e $FOR_TESTS ]]; then
      log "no test holds the node for ${CASSANDRA_IDLE_STOP}s: stopping it"
      stop
    fi
    flock -u 9
    idle=0
  done
  rm -f "$WATCHER"
}

case ${1:-} in
  install) install ;;
  ready) ready ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  clean) stop; rm -rf "$RUN/data" "$LOGDIR"; log "removed the data in $RUN" ;;
  hold) hold "${2:-}" ;;
  release) release "${2:-}" ;;
  watch) watch ;;
  *) echo "usage: $0 install|start|stop|status|clean|hold PID|release PID" >&2; exit 2 ;;
esac
