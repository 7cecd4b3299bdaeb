# shellcheck shell=bash
# Shared helpers for scripts/infra/*.sh — sourced, never executed.
# Project-local state lives in $LOCAL_DIR (.local/, gitignored); downloads and builds are
# cached in $CUSTODY_CACHE so a fresh clone on the same machine reuses them.

INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT_DIR="$(cd "$INFRA_DIR/../.." && pwd)"
LOCAL_DIR="$ROOT_DIR/.local"
CUSTODY_CACHE="${CUSTODY_CACHE:-${HOME:-/root}/.cache/custody-policy-engine}"
export CUSTODY_CACHE

# die MESSAGE — one clear line on stderr, non-zero exit.
die() { echo "error: $*" >&2; exit 1; }

mkdir -p "$LOCAL_DIR" 2>/dev/null || die "cannot create $LOCAL_DIR (is the checkout writable?)"
mkdir -p "$CUSTODY_CACHE" 2>/dev/null || die "cannot create cache dir $CUSTODY_CACHE: set CUSTODY_CACHE to a writable directory"

# need CMD "what to install" — a missing toolchain is one line and exit 1.
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found: $2"; }

is_root() { [ "$(id -u)" = 0 ]; }

# now_ms — wall clock in milliseconds (for timing lines).
now_ms() { date +%s%3N; }

# wait_for SECONDS CMD... — poll CMD every 0.2 s until it succeeds or SECONDS pass.
wait_for() {
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# tcp_open HOST PORT — true if something accepts TCP connections there.
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# set_env_var FILE NAME VALUE — idempotently set NAME=VALUE in a KEY=VALUE file (infra.env).
set_env_var() {
  local file=$1 name=$2 value=$3 tmp
  touch "$file"
  tmp="$(mktemp "$file.XXXXXX")"
  grep -v "^${name}=" "$file" > "$tmp" || true
  printf '%s=%s\n' "$name" "$value" >> "$tmp"
  mv "$tmp" "$file"
}
