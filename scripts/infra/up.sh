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

# CLI tools built with `go install` (OPA, grpcurl, helm, promtool) take minutes on a cold
# cache: build them one after the other (2 cores) in the background, alongside PostgreSQL
# and Kafka. Each script prints the absolute path of its binary.
GO_TOOLS=()
for tool in opa grpcurl helm promtool; do
  [ -f "$INFRA_DIR/$tool.sh" ] && GO_TOOLS+=("$tool")
done
go_log="$LOCAL_DIR/go-tools-build.log"
go_t0=$(now_ms)
(
  for tool in "${GO_TOOLS[@]}"; do
    bash "$INFRA_DIR/$tool.sh" >"$LOCAL_DIR/$tool-path" || { echo "$tool: build failed" >&2; exit 1; }
  done
) 2>"$go_log" 9>&- &
go_pid=$!

step postgres bash "$INFRA_DIR/postgres.sh" start
step kafka bash "$INFRA_DIR/kafka.sh" start
step softhsm bash "$INFRA_DIR/softhsm.sh"
bao_t0=$(now_ms)
BAO_BIN="$(bash "$INFRA_DIR/openbao.sh")" || die "OpenBao install failed (scripts/infra/openbao.sh)"
printf 'infra: %-9s ready in %5ss\n' openbao "$(elapsed "$bao_t0")"

if ! wait "$go_pid"; then
  cat "$go_log" >&2
  die "building the Go CLI tools failed (log: $go_log)"
fi
TOOL_ENV=""
for tool in "${GO_TOOLS[@]}"; do
  var="$(echo "$tool" | tr '[:lower:]' '[:upper:]')_BIN"
  TOOL_ENV+="$var=$(cat "$LOCAL_DIR/$tool-path")"$'\n'
  rm -f "$LOCAL_DIR/$tool-path"
done
printf 'infra: %-9s ready in %5ss\n' "${GO_TOOLS[*]}" "$(elapsed "$go_t0")"

KCAT_BIN="$(command -v kcat)" || die "kcat not found: install the Debian package kcat (scripts/infra/apt.sh as root)"
# shellcheck source=/dev/null
source "$LOCAL_DIR/softhsm/softhsm.env"

# Local test instance: fixed dev password, see scripts/infra/postgres.sh.
PG_PASSWORD=postgres
PG_PORT="${INFRA_PG_PORT:-54329}"
KAFKA_PORT="${INFRA_KAFKA_PORT:-19092}"
KAFKA_SASL_PORT="${INFRA_KAFKA_SASL_PORT:-19094}"
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
KAFKA_SASL_BROKERS=127.0.0.1:$KAFKA_SASL_PORT
KAFKA_SASL_CA_FILE=$LOCAL_DIR/kafka/tls/ca.crt
SOFTHSM2_CONF=$SOFTHSM2_CONF
PKCS11_MODULE=$PKCS11_MODULE
PKCS11_TOKEN_LABEL=$PKCS11_TOKEN_LABEL
PKCS11_PIN=$PKCS11_PIN
PKCS11_SO_PIN=$PKCS11_SO_PIN
KCAT_BIN=$KCAT_BIN
BAO_BIN=$BAO_BIN
${TOOL_ENV%$'\n'}
ENV
mv "$tmp" "$ENV_FILE"
printf 'infra: all up in %ss — wrote %s\n' "$(elapsed "$total_start")" "$ENV_FILE"
