#!/usr/bin/env bash
# Brings up the real infrastructure for integration tests (idempotent; seconds when warm):
#   Debian packages (apt.sh) → OPA CLI (opa.sh, built in the background) → PostgreSQL
#   (postgres.sh) → Kafka (kafka.sh) → SoftHSM token (softhsm.sh),
# then writes .local/infra.env, which the jest integration globalSetup loads.
#   bash scripts/infra/up.sh        (npm run infra:up)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENV_FILE="$LOCAL_DIR/infra.env"
total_start=$(now_ms)

# elapsed T0_MS — seconds since T0_MS, one decimal.
elapsed() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
# step NAME CMD... — run CMD, print a timing line.
step() {
  local name=$1 t0; shift
  t0=$(now_ms)
  "$@"
  printf 'infra: %-9s ready in %5ss\n' "$name" "$(elapsed "$t0")"
}

step apt bash "$INFRA_DIR/apt.sh"

# The OPA build takes minutes on a cold cache: run it alongside PostgreSQL and Kafka.
opa_log="$LOCAL_DIR/opa-build.log"
opa_t0=$(now_ms)
bash "$INFRA_DIR/opa.sh" >"$LOCAL_DIR/opa-path" 2>"$opa_log" 9>&- &
opa_pid=$!

step postgres bash "$INFRA_DIR/postgres.sh" start
step kafka bash "$INFRA_DIR/kafka.sh" start
step softhsm bash "$INFRA_DIR/softhsm.sh"

if ! wait "$opa_pid"; then
  cat "$opa_log" >&2
  die "OPA CLI build failed (log: $opa_log)"
fi
OPA_BIN="$(cat "$LOCAL_DIR/opa-path")"
rm -f "$LOCAL_DIR/opa-path"
printf 'infra: %-9s ready in %5ss\n' opa "$(elapsed "$opa_t0")"

KCAT_BIN="$(command -v kcat)" || die "kcat not found: install the Debian package kcat (scripts/infra/apt.sh as root)"
# shellcheck source=/dev/null
source "$LOCAL_DIR/softhsm/softhsm.env"

# Local test instance: fixed dev password, see scripts/infra/postgres.sh.
PG_PASSWORD=postgres
PG_PORT="${INFRA_PG_PORT:-54329}"
KAFKA_PORT="${INFRA_KAFKA_PORT:-19092}"
tmp="$(mktemp "$ENV_FILE.XXXXXX")"
cat > "$tmp" <<ENV
# Written by scripts/infra/up.sh — connection facts for the local test infrastructure.
# Loaded by scripts/jest/integration-setup.mjs. Dev credentials for loopback-only services.
CUSTODY_PG_HOST=127.0.0.1
CUSTODY_PG_PORT=$PG_PORT
CUSTODY_PG_ADMIN_USER=postgres
CUSTODY_PG_ADMIN_PASSWORD=$PG_PASSWORD
CUSTODY_PG_ADMIN_URL=postgres://postgres:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres
KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT
OPA_BIN=$OPA_BIN
SOFTHSM2_CONF=$SOFTHSM2_CONF
PKCS11_MODULE=$PKCS11_MODULE
PKCS11_TOKEN_LABEL=$PKCS11_TOKEN_LABEL
PKCS11_PIN=$PKCS11_PIN
PKCS11_SO_PIN=$PKCS11_SO_PIN
KCAT_BIN=$KCAT_BIN
ENV
mv "$tmp" "$ENV_FILE"
printf 'infra: all up in %ss — wrote %s\n' "$(elapsed "$total_start")" "$ENV_FILE"
