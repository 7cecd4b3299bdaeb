#!/usr/bin/env bash
# Writes the custody Vault policies and Kubernetes-auth roles (one per service).
#   VAULT_ADDR=... VAULT_TOKEN=... bash deploy/vault/apply.sh [namespace] [auth-path]
# Run by an operator with a time-limited admin token (C-9.3.6.2-b), never by a service.
# Mounts expected: kv-v2 at custody-kv/, transit at custody-transit/ (keys signer-*,
# policy-decision, audit-log created by the key ceremony with exportable=false).
set -euo pipefail
cd "$(dirname "$0")"
NAMESPACE="${1:-custody}"
AUTH_PATH="${2:-kubernetes}"
command -v vault >/dev/null || { echo "error: vault CLI not found" >&2; exit 1; }
command -v jq >/dev/null || { echo "error: jq not found" >&2; exit 1; }
for policy in policies/*.hcl; do
  svc="$(basename "$policy" .hcl)"
  vault policy write "custody-$svc" "$policy"
  jq --arg ns "$NAMESPACE" '.bound_service_account_namespaces = [$ns]' "roles/$svc.json" |
    vault write "auth/$AUTH_PATH/role/custody-$svc" -
done
