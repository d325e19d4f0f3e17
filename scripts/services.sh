#!/usr/bin/env bash
# The real servers the production path and its tests use, on this machine:
#   PostgreSQL (Debian package)        127.0.0.1:5432  postgres/postgres, database `sluice`
#   ClickHouse (Debian package)        127.0.0.1:8123  HTTP, user `default`, no password
#   tansu (Kafka protocol, crates.io)  127.0.0.1:9092  in-memory storage
#   Python shipper clients (PyPI)      $STATE/py         venv for tests/shippers.rs
#
# Usage: scripts/services.sh up|down|status
#        scripts/services.sh python              (the shipper clients' venv alone)
#        scripts/services.sh stop|start clickhouse   (outage tests)
# `up` installs what is missing (apt-get, cargo install; needs root, as CI
# has) and starts what is not running; it is idempotent. The environment the
# tests read is written to $STATE/env (source it, or let `cargo xtask test`
# do it).
#
# Why these: Debian's ClickHouse is 18.16 (Sluice's client runs with schema
# validation off and SQL that also runs on current ClickHouse); no Apache
# Kafka or Redpanda is obtainable from this machine's registries, so the
# broker is tansu 0.6.0 (Apache-2.0), a Kafka-protocol broker. Its known
# limits: topics are not auto-created (Sluice creates them), the memory
# engine reports a wrong high watermark (nothing here relies on lag), and it
# may ignore one SIGINT (we send INT, wait, then KILL).
set -euo pipefail

STATE=${SLUICE_SERVICES_STATE:-${TMPDIR:-/tmp}/sluice-services}
TANSU_VERSION=0.6.0
mkdir -p "$STATE"

log() { printf 'services: %s\n' "$*" >&2; }

port_open() { (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() { # name, check command, tries
  local name=$1 check=$2 tries=${3:-120}
  for _ in $(seq 1 "$tries"); do
    if eval "$check" >/dev/null 2>&1; then return 0; fi
    sleep 0.25
  done
  log "$name did not come up; see $STATE/$name.out"
  return 1
}

install_packages() {
  local need=()
  # chromium + chromium-driver: the dashboard's browser test (tests/browser.rs).
  for p in postgresql clickhouse-server clickhouse-client chromium chromium-driver; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    log "installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

tansu_bin() {
  command -v tansu 2>/dev/null || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu"
}

install_tansu() {
  local bin; bin=$(tansu_bin)
  if [ -x "$bin" ]; then return 0; fi
  log "building tansu $TANSU_VERSION from crates.io (about 15 minutes on 2 cores, once)"
  cargo install tansu --version "$TANSU_VERSION" --locked --no-default-features --features dynostore --quiet
}

# The log shippers' client libraries tests/shippers.rs drives: the
# OpenTelemetry SDK with its OTLP/HTTP exporter, two Loki clients, the
# official Elasticsearch client (8.x, the API line Sluice presents).
PY_PACKAGES=(
  "opentelemetry-sdk>=1.39,<2"
  "opentelemetry-exporter-otlp-proto-http>=1.39,<2"
  "loki-logger-handler>=1.1,<2"
  "python-logging-loki==0.3.1"
  "elasticsearch>=8.13,<9"
  # WebDriver client of the dashboard's browser test (tests/browser.rs).
  "selenium>=4.20,<5"
)

install_python() {
  local venv="$STATE/py"
  if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c \
      "import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http, loki_logger_handler, logging_loki, elasticsearch, selenium" \
      >/dev/null 2>&1; then
    return 0
  fi
  log "installing the Python shipper clients into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
}

start_postgres() {
  if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then return 0; fi
  local version; version=$(ls /etc/postgresql | sort -n | tail -1)
  pg_ctlcluster --skip-systemctl-redirect "$version" main start >"$STATE/postgres.out" 2>&1 || true
  wait_for postgres "pg_isready -q -h 127.0.0.1 -p 5432"
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
  su postgres -c "psql -tAc \"SELECT 1 FROM pg_database WHERE datname='sluice'\"" | grep -q 1 \
    || su postgres -c "createdb sluice"
}

# ClickHouse keeps its data on tmpfs (SLUICE_CLICKHOUSE_TMPFS=0: on disk).
# Test data are throwaway, and on a journal-less ext4 (this machine's root)
# every file created searches past recently deleted inodes (ext4's
# `recently_deleted`): ClickHouse writes about fifty files per insert and
# deletes merged parts all the time, and that search was 70 % of its insert
# handling in the production benchmark (BENCHMARKS.md). Where mounting is
# refused (an unprivileged container) the data stay on disk.
clickhouse_on_tmpfs() {
  local dir=/var/lib/clickhouse
  [ "${SLUICE_CLICKHOUSE_TMPFS:-1}" = 0 ] && return 0
  mountpoint -q "$dir" && return 0
  [ "$(id -u)" = 0 ] || return 0
  mkdir -p "$dir"
  local keep; keep=$(mktemp -d)
  if cp -a "$dir"/. "$keep"/ && mount -t tmpfs -o size=8g,mode=0755 tmpfs "$dir" 2>/dev/null; then
    cp -a "$keep"/. "$dir"/ && chown clickhouse:clickhouse "$dir"
  else
    log "clickhouse: tmpfs refused, data stay on disk"
  fi
  rm -rf "$keep"
}

start_clickhouse() {
  if curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1; then return 0; fi
  clickhouse_on_tmpfs
  (cd /var/lib/clickhouse && nohup setpriv --reuid=clickhouse --regid=clickhouse --init-groups \
    /usr/sbin/clickhouse-server --config=/etc/clickhouse-server/config.xml \
    >"$STATE/clickhouse.out" 2>&1 & echo $! >"$STATE/clickhouse.pid")
  wait_for clickhouse "curl -sf http://127.0.0.1:8123/ping"
}

start_tansu() {
  if port_open 9092; then return 0; fi
  mkdir -p "$STATE/tansu"
  (cd "$STATE/tansu" && nohup "$(tansu_bin)" broker \
    --listener-url tcp://127.0.0.1:9092 --advertised-listener-url tcp://127.0.0.1:9092 \
    --storage-engine memory://tansu/ >"$STATE/tansu.out" 2>&1 & echo $! >"$STATE/tansu.pid")
  wait_for tansu "port_open 9092" 200
}

write_env() {
  cat >"$STATE/env" <<EOF
export SLUICE_TEST_POSTGRES_URL=postgres://postgres:postgres@127.0.0.1:5432/sluice
export SLUICE_TEST_CLICKHOUSE_URL=http://127.0.0.1:8123
export SLUICE_TEST_KAFKA_BROKERS=127.0.0.1:9092
export SLUICE_TEST_TANSU_BIN=$(tansu_bin)
export SLUICE_SERVICES_STATE=$STATE
export SLUICE_TEST_PYTHON=$STATE/py/bin/python
EOF
}

stop_pid() { # name
  local file="$STATE/$1.pid"
  [ -f "$file" ] || return 0
  local pid; pid=$(cat "$file")
  kill -INT "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$file"
}

case "${1:-status}" in
  up)
    install_packages
    install_tansu
    install_python
    start_postgres
    start_clickhouse
    start_tansu
    write_env
    log "up: postgres :5432, clickhouse :8123, tansu :9092 (env in $STATE/env)"
    ;;
  down)
    stop_pid tansu
    stop_pid clickhouse
    pkill -TERM -f /usr/sbin/clickhouse-server 2>/dev/null || true
    version=$(ls /etc/postgresql 2>/dev/null | sort -n | tail -1)
    [ -n "$version" ] && pg_ctlcluster --skip-systemctl-redirect "$version" main stop 2>/dev/null || true
    log "down"
    ;;
  stop)
    [ "${2:-}" = clickhouse ] || { echo "usage: $0 stop clickhouse" >&2; exit 2; }
    stop_pid clickhouse
    # The server may not be the process the pid file names (started by an
    # earlier run, or forked): stop it by its executable.
    pkill -TERM -f /usr/sbin/clickhouse-server 2>/dev/null || true
    for _ in $(seq 1 100); do
      pgrep -f /usr/sbin/clickhouse-server >/dev/null || break
      sleep 0.1
    done
    pkill -KILL -f /usr/sbin/clickhouse-server 2>/dev/null || true
    for _ in $(seq 1 100); do
      curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1 || break
      sleep 0.1
    done
    if curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1; then
      log "clickhouse is still answering (not started by this script?)"
      exit 1
    fi
    ;;
  python)
    install_python
    echo "$STATE/py/bin/python"
    ;;
  start)
    [ "${2:-}" = clickhouse ] || { echo "usage: $0 start clickhouse" >&2; exit 2; }
    start_clickhouse
    ;;
  status)
    pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo "postgres   up" || echo "postgres   down"
    curl -sf http://127.0.0.1:8123/ping >/dev/null 2>&1 && echo "clickhouse up" || echo "clickhouse down"
    port_open 9092 && echo "tansu      up" || echo "tansu      down"
    ;;
  *)
    echo "usage: $0 up|down|status|python|stop clickhouse|start clickhouse" >&2
    exit 2
    ;;
esac
