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

# go_tool NAME CACHE_TAG PACKAGE@VERSION CHECK_FN [go install flags...]
# A CLI that is on neither npm nor Debian (opa, grpcurl, helm, promtool): built once with
# `go install` from the Go module proxy into $CUSTODY_CACHE/<NAME>-<CACHE_TAG>/bin — skipped
# when CHECK_FN accepts the cached binary — then linked to .local/bin/<NAME>. Prints the link.
# A Go older than the module's go directive fetches the newer toolchain from the module proxy.
go_tool() {
  local name=$1 tag=$2 pkg=$3 check=$4; shift 4
  local gobin="$CUSTODY_CACHE/$name-$tag/bin" link="$LOCAL_DIR/bin/$name"
  if ! "$check" "$gobin/$name"; then
    need go "install Go 1.24+ (https://go.dev/dl/) to build $name"
    echo "$name: building $pkg with go install (minutes the first time; cached after)" >&2
    mkdir -p "$gobin"
    GOBIN="$gobin" GOFLAGS="${GOFLAGS:-} -trimpath" GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" \
      go install "$@" "$pkg" >&2 || die "go install $pkg failed (see output above)"
    "$check" "$gobin/$name" || die "the built $name does not report the expected version"
  fi
  mkdir -p "$(dirname "$link")"
  [ "$(readlink "$link" 2>/dev/null || true)" = "$gobin/$name" ] || ln -sfn "$gobin/$name" "$link"
  echo "$link"
}

# version_is BINARY PATTERN ARGS... — true if `BINARY ARGS...` prints a line matching the
# extended regex PATTERN. Output is captured first: `cmd | grep -q` under pipefail fails when
# grep exits early and the command dies of SIGPIPE.
version_is() {
  local bin=$1 pattern=$2 out; shift 2
  [ -x "$bin" ] || return 1
  out="$("$bin" "$@" 2>&1)" || return 1
  grep -Eq "$pattern" <<<"$out"
}
