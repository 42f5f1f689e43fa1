#!/usr/bin/env bash
# Make PostgreSQL, MariaDB, Redis, FerretDB (MongoDB's wire protocol) and
# Elasticsearch available on 127.0.0.1 for ferry's tests, and Cassandra ready to start.
# Idempotent: installs, starts and configures only what is missing, so a run
# on a machine where everything is already up takes about a second.
# Works without systemd (CI machines have none); needs root or sudo.
set -euo pipefail

PG_URL=postgres://postgres@127.0.0.1:5432/ferry_test
MY_URL=mysql://root@127.0.0.1:3306/ferry_test
REDIS_URL=redis://127.0.0.1:6379
MONGO_URL=mongodb://127.0.0.1:27017/ferry_test
ES_URL=elasticsearch://127.0.0.1:9200
HBA_MARKER='# ferry: trust local connections (scripts/servers.sh)'
MY_CNF=/etc/mysql/mariadb.conf.d/60-ferry.cnf

SUDO=()
[[ $(id -u) -eq 0 ]] || SUDO=(sudo)

die() { echo "servers.sh: $*" >&2; exit 1; }

# wait_for SECONDS CMD...: poll CMD until it succeeds. A wall-clock deadline,
# since one probe can itself take seconds to time out.
wait_for() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.25
  done
}

install_missing() {
  local pkg missing=()
  for pkg in postgresql mariadb-server mariadb-client redis-server; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  ((${#missing[@]})) || return 0
  echo "installing ${missing[*]}" >&2
  "${SUDO[@]}" apt-get update -qq
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Unix-socket peer auth works whatever pg_hba.conf says; cd / because the
# postgres user may not be allowed into the caller's directory.
as_postgres() { (cd / && "${SUDO[@]}" runuser -u postgres -- "$@"); }

pg_ready() { pg_isready -q -h 127.0.0.1 -p 5432; }
pg_settled() { pg_ready || ! "${SUDO[@]}" pg_ctlcluster "$1" "$2" status >/dev/null 2>&1; }

postgres_up() {
  # /usr/local/bin/{pg_ctl,postgres,initdb} are bare symlinks into one PG
  # version; postgresql-common's wrappers know the cluster's config and logs.
  local ver name hba
  read -r ver name < <(pg_lsclusters -h | awk '$3 == 5432 { print $1, $2; exit }') || true
  if [[ -z ${ver:-} ]]; then
    ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
    name=main
    "${SUDO[@]}" pg_createcluster --port 5432 "$ver" "$name" >/dev/null
  fi
  hba=/etc/postgresql/$ver/$name/pg_hba.conf

  # pg_hba.conf is first-match-wins, so our trust lines go on top.
  local edited=0
  if ! "${SUDO[@]}" grep -qxF "$HBA_MARKER" "$hba"; then
    "${SUDO[@]}" sed -i "1i $HBA_MARKER\nlocal all all trust\nhost all all 127.0.0.1/32 trust\nhost all all ::1/128 trust\n" "$hba"
    edited=1
  fi

  # A postmaster that is starting, stopping or has just crashed (a zombie
  # until PID 1 reaps it) still counts as "running": let it settle first.
  pg_ready || wait_for 60 pg_settled "$ver" "$name" ||
    die "PostgreSQL $ver/$name seems to run but does not answer on 127.0.0.1:5432"
  if ! pg_ready; then
    "${SUDO[@]}" pg_ctlcluster "$ver" "$name" start >/dev/null ||
      die "cannot start PostgreSQL $ver/$name; see /var/log/postgresql/postgresql-$ver-$name.log"
    wait_for 60 pg_ready ||
      die "PostgreSQL $ver/$name does not accept connections on 127.0.0.1:5432"
  elif ((edited)); then
    "${SUDO[@]}" pg_ctlcluster "$ver" "$name" reload
  fi

  as_postgres psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL' >/dev/null
SELECT 'CREATE ROLE root SUPERUSER LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'root')
\gexec
SELECT 'CREATE DATABASE ferry_test OWNER postgres' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'ferry_test')
\gexec
SQL
  echo "postgres ready at $PG_URL"
}

mariadb_up() {
  # Tests use LOAD DATA LOCAL INFILE; the file makes it survive restarts.
  # Debian's mysqld_safe logs only to syslog, which these machines do not
  # run, so keep a real error log for when startup fails.
  local cnf=$'[mysqld]\nlocal_infile = 1\n\n[mysqld_safe]\nskip_syslog\nlog_error = /var/log/mysql/error.log\n'
  if ! printf '%s' "$cnf" | "${SUDO[@]}" cmp -s - "$MY_CNF"; then
    printf '%s' "$cnf" | "${SUDO[@]}" tee "$MY_CNF" >/dev/null
  fi
  # mariadb-admin ping succeeds as soon as the server answers, even if the
  # login is refused, so it is a pure liveness check.
  if ! "${SUDO[@]}" mariadb-admin --silent ping >/dev/null 2>&1; then
    # The init script runs mysqld_safe and waits for it; `service` also
    # hands over to systemctl on developer machines that run systemd.
    "${SUDO[@]}" install -d -o mysql -g adm -m 2750 /var/log/mysql
    "${SUDO[@]}" service mariadb start >/dev/null ||
      die "cannot start MariaDB; see /var/log/mysql/error.log"
  fi
  wait_for 60 "${SUDO[@]}" mariadb-admin --silent ping ||
    die "MariaDB does not answer on its socket"

  # Debian's root@localhost logs in only via unix_socket; tests need an empty
  # password over TCP. 127.0.0.1 may not resolve to "localhost", hence the
  # extra accounts. Running this as OS root over the socket works both before
  # and after the change.
  "${SUDO[@]}" mariadb -u root <<'SQL'
ALTER USER 'root'@'localhost' IDENTIFIED VIA mysql_native_password USING PASSWORD('');
CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '';
CREATE USER IF NOT EXISTS 'root'@'::1' IDENTIFIED BY '';
GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'root'@'::1' WITH GRANT OPTION;
CREATE DATABASE IF NOT EXISTS ferry_test;
SET GLOBAL local_infile = 1;
SQL
  mariadb -h 127.0.0.1 -P 3306 -u root -e 'SELECT 1' ferry_test >/dev/null ||
    die "MariaDB is up but root cannot log in over TCP at 127.0.0.1:3306"
  echo "mariadb ready at $MY_URL"
}

# redis-cli has no timeout: a stranger on the port that never answers would
# hang it for good.
redis_ready() { timeout 2 redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

redis_up() {
  if ! redis_ready; then
    # Debian's redis.conf already binds 127.0.0.1 and daemonizes. The init
    # script exits 0 even on failure (the wait below catches that) and warns
    # about ulimit in containers, hence 2>/dev/null.
    "${SUDO[@]}" service redis-server start >/dev/null 2>&1 || true
  fi
  wait_for 60 redis_ready ||
    die "Redis does not answer on 127.0.0.1:6379; see /var/log/redis/redis-server.log"
  echo "redis ready at $REDIS_URL"
}

# FerretDB is built from the Go module proxy on the first run (1-2 minutes),
# then started from the cache in a fraction of a second (scripts/mongo.sh).
mongo_up() {
  bash "$(dirname "${BASH_SOURCE[0]}")/mongo.sh" start || die "cannot start FerretDB (scripts/mongo.sh)"
  echo "ferretdb ready at $MONGO_URL"
}

# Elasticsearch (about 0.6 GB) is built here (Java, Maven and the jars, once) and
# started for good, except under CI: there the Elasticsearch tests start it
# themselves and stop it when they are done (scripts/elasticsearch.sh leases),
# so that it takes memory only while they run.
elasticsearch_up() {
  local script
  script="$(dirname "${BASH_SOURCE[0]}")/elasticsearch.sh"
  if [[ -n ${CI:-} ]]; then
    bash "$script" build || die "cannot build Elasticsearch (scripts/elasticsearch.sh)"
    echo "elasticsearch built; its tests start it"
    return
  fi
  bash "$script" start || die "cannot start Elasticsearch (scripts/elasticsearch.sh)"
  echo "elasticsearch ready at $ES_URL"
}

# Cassandra (~1.1 GB) is only installed here: JDK 17 from Debian, its jars from
# Maven Central once. The Cassandra tests start it when they run and it stops
# when they are over (scripts/cassandra.sh hold); `npm run servers -- cassandra`
# starts it now and leaves it running, for the demo.
cassandra_ready() {
  local script
  script="$(dirname "${BASH_SOURCE[0]}")/cassandra.sh"
  if [[ ${1:-} == cassandra ]]; then
    bash "$script" start || die "cannot start Cassandra (scripts/cassandra.sh)"
    echo "cassandra ready at cassandra://127.0.0.1:9042/"
  else
    bash "$script" install || die "cannot install Cassandra (scripts/cassandra.sh)"
    echo "cassandra installed; its tests start it (or: npm run servers -- cassandra)"
  fi
}

install_missing
postgres_up
mariadb_up
redis_up
mongo_up
elasticsearch_up
cassandra_ready "${1:-}"
