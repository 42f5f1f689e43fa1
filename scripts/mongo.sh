#!/usr/bin/env bash
# mongo.sh start|stop|status|build
# The MongoDB-wire server of ferry's tests: FerretDB v1 (its embeddable package
# github.com/FerretDB/FerretDB/ferretdb) built from the Go module proxy into a
# cache folder and started on 127.0.0.1:${MONGO_PORT:-27017}, telemetry off
# (the embedded package never starts it). It is NOT mongod: see the README
# (Databases) for what that leaves unverified. Started by scripts/servers.sh.
#
# Needs Go >= 1.24 (on PATH or in /usr/local/go) and, for the first build,
# the Go module proxy (~700 MB of modules, 1-2 minutes on 2 cores). Later
# builds and starts reuse the cache: FERRY_SERVERS_CACHE, by default
# /var/cache/ferry-servers as root, else ~/.cache/ferry-servers.
# Backend: FERRETDB_HANDLER=sqlite (default, pure Go, no other server) or
#          postgresql (uses FERRETDB_PG_URL; the database is created if missing).
# Idempotent: start on a running server and stop on a stopped one do nothing.
# Quiet on success; on failure prints why and the log tail, exits non-zero.
# From the recipe verified on these machines (../shared/servers/mongo.sh).
set -euo pipefail

FERRETDB_VERSION=${FERRETDB_VERSION:-v1.24.2}
MONGO_HOST=127.0.0.1
MONGO_PORT=${MONGO_PORT:-27017}
FERRETDB_HANDLER=${FERRETDB_HANDLER:-sqlite}
FERRETDB_PG_URL=${FERRETDB_PG_URL:-postgres://postgres@127.0.0.1:5432/fdb_ferretdb}
if [[ $(id -u) -eq 0 ]]; then CACHE=${FERRY_SERVERS_CACHE:-/var/cache/ferry-servers}
else CACHE=${FERRY_SERVERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ferry-servers}; fi
# Go as the machine has it: on PATH, or where its tarball installs it.
[[ -x /usr/local/go/bin/go ]] && PATH=$PATH:/usr/local/go/bin
BASE=$CACHE/ferretdb
SRC=$BASE/src-$FERRETDB_VERSION
PATCHLEVEL=3 # bump when patch_module changes, so the binary is rebuilt
BIN=$BASE/bin/ferretdb-$FERRETDB_VERSION-p$PATCHLEVEL
RUN=$BASE/run-$MONGO_PORT
DATA=${FERRETDB_SQLITE_DIR:-$RUN/data}
PIDFILE=$RUN/ferretdb.pid
LOG=$RUN/ferretdb.log

die() { echo "mongo.sh: $*" >&2; exit 1; }

# pid_alive: the recorded process still runs and is ours (a stale pid file may
# name a recycled pid).
pid_alive() {
  local pid cmd
  [[ -s $PIDFILE ]] && pid=$(cat "$PIDFILE") && kill -0 "$pid" 2>/dev/null &&
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") && [[ $cmd == *"$BIN"* ]]
}
port_open() { (exec 3<>"/dev/tcp/$MONGO_HOST/$MONGO_PORT") 2>/dev/null; }

write_sources() {
  mkdir -p "$SRC"
  cat >"$SRC/main.go" <<'EOF'
// Command ferretdb-embedded runs FerretDB v1 through its embeddable package.
// (A plain `go install github.com/FerretDB/FerretDB/cmd/ferretdb` panics:
// build/version/version.txt is not in the module zip.) The embedded package
// never starts telemetry and marks it disabled.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen-addr", "127.0.0.1:27017", "TCP listen address")
	handler := flag.String("handler", "sqlite", "backend: sqlite or postgresql")
	sqliteURL := flag.String("sqlite-url", "file:data/", "SQLite directory URI (trailing slash)")
	pgURL := flag.String("postgresql-url", "postgres://127.0.0.1:5432/ferretdb", "PostgreSQL URL")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	flag.Parse()

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:      ferretdb.ListenerConfig{TCP: *listen},
		Logger:        logger,
		Handler:       *handler,
		SQLiteURL:     *sqliteURL,
		PostgreSQLURL: *pgURL,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	if err := f.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
EOF
  cat >"$SRC/go.mod" <<EOF
module ferry.local/ferretdb-embedded

go 1.24

require github.com/FerretDB/FerretDB $FERRETDB_VERSION

// Local copy of the module zip with three fixes (see patch_module in mongo.sh).
replace github.com/FerretDB/FerretDB => ./FerretDB
EOF
}

# Three fixes to FerretDB v1.24's module source, applied at build time (the
# build stops if the source does not look as expected):
# 1. Its `update` command keeps every statement's read cursor open until the
#    whole command ends (a deferred Close inside the loop). Each holds a pooled
#    connection (SQLite pool: 100, PostgreSQL pool: 50), so a bulkWrite with
#    more than ~100 (SQLite) / ~50 (PostgreSQL) replaceOne/updateOne ops in one
#    batch deadlocks the server for good. Close each statement's cursor when done.
# 2. SQLite backend: the unique _id index is built on `_ferretdb_sjson->"_id"`
#    but lookups by _id use `_ferretdb_sjson->'$._id'`, which SQLite does not
#    match to that index, so every find/update/delete by _id scans the table.
#    Use `->'_id'` (same value, SQLite >= 3.38), which the index serves.
# 3. SQLite backend: a filter {_id: <int>} is not pushed down at all (only
#    string and ObjectId are), so an upsert by integer _id decodes the whole
#    collection in Go (~1 op/s at 100k docs). Push it down too: Go's JSON text of
#    an integer equals that of a whole double of the same value, so the index
#    lookup finds every candidate (the handler still filters the result in Go);
#    0 is left out because a double -0.0 is stored as "-0".
patch_module() {
  local dir f
  dir=$(cd "$BASE" && go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [[ -d $dir ]] || die "go mod download github.com/FerretDB/FerretDB@$FERRETDB_VERSION failed"
  rm -rf "$SRC/FerretDB"
  cp -r "$dir" "$SRC/FerretDB"
  chmod -R u+w "$SRC/FerretDB"

  f=$SRC/FerretDB/internal/handler/msg_update.go
  perl -0pi -e "$(cat <<'PERL'
s/(\t\tcloser := iterator\.NewMultiCloser\(\)\n)\t\tdefer closer\.Close\(\)\n/$1/;
s/(\t\tresult, err := common\.UpdateDocument\(ctx, c, "update", iter, &u\)\n)/$1\t\tcloser.Close() \/\/ ferry: release this statement's cursor now\n/;
PERL
)" "$f"
  ! grep -q 'defer closer.Close()' "$f" && grep -q 'ferry: release' "$f" || die "patch 1 did not apply to $f"

  f=$SRC/FerretDB/internal/backends/sqlite/metadata/metadata.go
  perl -pi -e "$(cat <<'PERL'
s/^(\tIDColumn = DefaultColumn \+ )"->'\$\._id'"$/$1"->'_id'" \/\/ ferry: match the _id index/;
PERL
)" "$f"
  grep -q 'ferry: match the _id index' "$f" || die "patch 2 did not apply to $f"

  f=$SRC/FerretDB/internal/backends/sqlite/collection.go
  perl -0pi -e "$(cat <<'PERL'
s/(\t\tv, _ := params\.Filter\.Get\("_id"\)\n\t\tswitch v\.\(type\) \{\n)(\t\tcase string, types\.ObjectID:\n\t\t\twhereClause)/$1\t\tcase int32, int64: \/\/ ferry: push integer _id down too\n\t\t\tif v != int32(0) && v != int64(0) {\n\t\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)\n\t\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}\n\t\t\t}\n$2/;
PERL
)" "$f"
  grep -q 'ferry: push integer _id down too' "$f" || die "patch 3 did not apply to $f"
}

build() {
  [[ -x $BIN ]] && return 0
  command -v go >/dev/null || die "go (>= 1.24) is needed to build FerretDB"
  mkdir -p "$BASE/bin"
  local blog=$BASE/build.log
  write_sources
  (
    cd "$SRC"
    export GOFLAGS=-mod=mod GOTOOLCHAIN=local CGO_ENABLED=0
    patch_module
    go build -trimpath -ldflags='-s -w' -o "$BIN.tmp" .
    mv "$BIN.tmp" "$BIN"
  ) >"$blog" 2>&1 || { tail -n 30 "$blog" >&2; die "build failed (log: $blog)"; }
}

ensure_pg_db() {
  local db=${FERRETDB_PG_URL##*/}
  db=${db%%\?*}
  command -v psql >/dev/null || die "psql is needed for FERRETDB_HANDLER=postgresql"
  local admin=${FERRETDB_PG_URL%/*}/postgres
  if ! psql "$admin" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    psql "$admin" -qc "CREATE DATABASE \"$db\"" >/dev/null
  fi
}

start() {
  if pid_alive && port_open; then return 0; fi
  pid_alive && stop
  port_open && die "port $MONGO_PORT is taken by another process"
  build
  mkdir -p "$RUN" "$DATA"
  local args=(-listen-addr "$MONGO_HOST:$MONGO_PORT" -handler "$FERRETDB_HANDLER")
  case $FERRETDB_HANDLER in
    sqlite) args+=(-sqlite-url "file:$DATA/") ;;
    postgresql) ensure_pg_db; args+=(-postgresql-url "$FERRETDB_PG_URL") ;;
    *) die "FERRETDB_HANDLER must be sqlite or postgresql" ;;
  esac
  nohup setsid "$BIN" "${args[@]}" </dev/null >"$LOG" 2>&1 &
  local pid=$!
  echo "$pid" >"$PIDFILE"
  local deadline=$((SECONDS + 30))
  # Liveness by pid alone here: until the forked shell has exec'd, its cmdline
  # is this script's, not $BIN, and pid_alive would call a starting server dead.
  until port_open; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      tail -n 20 "$LOG" >&2
      die "FerretDB did not start (log: $LOG)"
    fi
    sleep 0.1
  done
}

stop() {
  pid_alive || { rm -f "$PIDFILE"; return 0; }
  local pid deadline=$((SECONDS + 15))
  pid=$(cat "$PIDFILE")
  kill "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then kill -9 "$pid" 2>/dev/null || true; break; fi
    sleep 0.1
  done
  rm -f "$PIDFILE"
}

status() {
  if pid_alive && port_open; then
    echo "ferretdb $FERRETDB_VERSION ($FERRETDB_HANDLER) running, pid $(cat "$PIDFILE"), mongodb://$MONGO_HOST:$MONGO_PORT/"
  else
    echo "ferretdb not running"
    return 3
  fi
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  build) build ;;
  *) echo "usage: $0 start|stop|status|build" >&2; exit 2 ;;
esac
