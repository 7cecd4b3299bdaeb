#!/usr/bin/env bash
# Stops Kafka and PostgreSQL (data in .local/ is kept; see scripts/infra/README.md to reset).
#   bash scripts/infra/down.sh      (npm run infra:down)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

elapsed() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
for component in kafka postgres; do
  t0=$(now_ms)
  bash "$INFRA_DIR/$component.sh" stop
  printf 'infra: %-9s down in %5ss\n' "$component" "$(elapsed "$t0")"
done
