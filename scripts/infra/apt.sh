#!/usr/bin/env bash
# Installs the Debian packages the integration infrastructure needs, if missing — with a
# single `apt-get update`, only when something is missing. Needs root (CI runs as root).
#   softhsm2 (softhsm2-util, libsofthsm2.so)  kcat (Kafka interop client)
#   maven + openjdk-17-jre-headless only if mvn / java are absent (Kafka jars and broker)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# "package:file-or-command that proves it is installed"
wanted=(
  "softhsm2:softhsm2-util"
  "softhsm2:/usr/lib/softhsm/libsofthsm2.so"
  "kcat:kcat"
  "openjdk-17-jre-headless:java"
  "maven:mvn"
)

missing=()
for entry in "${wanted[@]}"; do
  pkg="${entry%%:*}" probe="${entry#*:}"
  if [[ "$probe" == /* ]]; then [ -e "$probe" ] && continue; else command -v "$probe" >/dev/null 2>&1 && continue; fi
  [[ " ${missing[*]:-} " == *" $pkg "* ]] || missing+=("$pkg")
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

is_root || die "missing Debian packages: run 'sudo apt-get install -y ${missing[*]}'"
need apt-get "this is not a Debian/Ubuntu system: install ${missing[*]} with your package manager"

echo "apt: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
log="$LOCAL_DIR/apt.log"
{ apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1 ||
  { tail -n 20 "$log" >&2; die "apt-get install ${missing[*]} failed (log: $log)"; }
