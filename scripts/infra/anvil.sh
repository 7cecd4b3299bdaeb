#!/usr/bin/env bash
# anvil.sh start|stop|status — a local EVM dev node (foundry's anvil 1.7.1 from npm) on
# 127.0.0.1:${INFRA_ANVIL_PORT:-18545}, chain id ${INFRA_ANVIL_CHAIN_ID:-31337}, mining on demand
# (no --block-time: tests mine with evm_mine). Fresh state on every start (no --state file).
# pid file and log under .local/anvil/. Idempotent: start on a running node and stop on a
# stopped one are no-ops.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

ANVIL_BIN="$ROOT_DIR/node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
PORT="${INFRA_ANVIL_PORT:-18545}"
CHAIN_ID="${INFRA_ANVIL_CHAIN_ID:-31337}"
DIR="$LOCAL_DIR/anvil"
PID_FILE="$DIR/anvil.pid"
LOG_FILE="$DIR/anvil.log"
mkdir -p "$DIR"

rpc_ok() {
  curl -sf -m 2 -H 'content-type: application/json' \
    --data '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}' "http://127.0.0.1:$PORT" | grep -q '"result"'
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid; pid="$(cat "$PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  # the pid must still be our anvil (pids are reused)
  grep -q anvil "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

start() {
  [ -x "$ANVIL_BIN" ] || die "anvil not found at $ANVIL_BIN: run npm install (package @foundry-rs/anvil)"
  need curl "apt-get install curl"
  if pid="$(running_pid)"; then
    rpc_ok || die "anvil (pid $pid) is running but does not answer on 127.0.0.1:$PORT (see $LOG_FILE)"
    echo "anvil: already running on 127.0.0.1:$PORT (pid $pid)"; return 0
  fi
  rm -f "$PID_FILE"
  tcp_open 127.0.0.1 "$PORT" && die "port 127.0.0.1:$PORT is taken by another process (set INFRA_ANVIL_PORT)"
  nohup "$ANVIL_BIN" --host 127.0.0.1 --port "$PORT" --chain-id "$CHAIN_ID" --silent >"$LOG_FILE" 2>&1 &
  echo $! > "$PID_FILE"
  wait_for 15 rpc_ok || die "anvil did not answer on 127.0.0.1:$PORT within 15 s (see $LOG_FILE)"
  echo "anvil: started on 127.0.0.1:$PORT (pid $(cat "$PID_FILE"), chain id $CHAIN_ID)"
}

stop() {
  if pid="$(running_pid)"; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    echo "anvil: stopped (pid $pid)"
  else
    echo "anvil: not running"
  fi
  rm -f "$PID_FILE"
}

status() {
  if pid="$(running_pid)" && rpc_ok; then
    echo "anvil: ready on 127.0.0.1:$PORT (pid $pid)"
  else
    echo "anvil: not running"; return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
