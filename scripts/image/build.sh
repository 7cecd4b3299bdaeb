#!/usr/bin/env bash
# Builds a service image from deploy/docker/Dockerfile without a Docker engine: buildah (Debian
# package, installed here if missing, as scripts/infra/apt.sh does), chroot isolation, vfs
# storage — works as root in a container or sandbox without overlayfs or user namespaces.
#
#   bash scripts/image/build.sh SERVICE [TAG]          e.g. bash scripts/image/build.sh signer 0.1.0
#
# Idempotent: installs nothing when buildah is present; rebuilding replaces the tag
# localhost/custody/<SERVICE>:<TAG>. Prints the image id, its size and the user it runs as.
# Environment (optional):
#   BUILD_IMAGE, RUNTIME_IMAGE   override the Dockerfile's digest-pinned bases (e.g. a mirror)
#   SOURCE_DATE_EPOCH            passed through (default 0, as in the Dockerfile)
#   CUSTODY_IMAGE_STORAGE        buildah storage driver (default vfs)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../infra/lib.sh"

service=${1:-}
tag=${2:-0.1.0}
case "$service" in
  intake | risk | policy | signer | chain-adapter | ledger | audit) ;;
  *) die "usage: bash scripts/image/build.sh <intake|risk|policy|signer|chain-adapter|ledger|audit> [tag]" ;;
esac
[ "$tag" != latest ] || die "the tag 'latest' is refused (the chart refuses it too)"

if ! command -v buildah >/dev/null 2>&1; then
  is_root || die "buildah is missing: run 'sudo apt-get install -y buildah'"
  need apt-get "this is not a Debian/Ubuntu system: install buildah with your package manager"
  echo "image: installing buildah (Debian package)" >&2
  log="$LOCAL_DIR/apt-buildah.log"
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends buildah; } >"$log" 2>&1 ||
    { tail -n 20 "$log" >&2; die "apt-get install buildah failed (log: $log)"; }
fi

storage=${CUSTODY_IMAGE_STORAGE:-vfs}
name="localhost/custody/$service:$tag"
args=(--build-arg "SERVICE=$service" --build-arg "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}")
[ -z "${BUILD_IMAGE:-}" ] || args+=(--build-arg "BUILD_IMAGE=$BUILD_IMAGE")
[ -z "${RUNTIME_IMAGE:-}" ] || args+=(--build-arg "RUNTIME_IMAGE=$RUNTIME_IMAGE")

cd "$ROOT_DIR"
# buildah reads <context>/.dockerignore only: hand it the Dockerfile's own ignore file.
ignore="$(mktemp)"
trap 'rm -f "$ignore"' EXIT
cp deploy/docker/Dockerfile.dockerignore "$ignore"
start=$(now_ms)
buildah --storage-driver "$storage" bud --isolation chroot --layers=false \
  --ignorefile "$ignore" -f deploy/docker/Dockerfile "${args[@]}" -t "$name" . >&2
elapsed=$(( ($(now_ms) - start) / 1000 ))

id=$(buildah --storage-driver "$storage" images --noheading --format '{{.ID}}' "$name" | head -n1)
size=$(buildah --storage-driver "$storage" images --noheading --format '{{.Size}}' "$name" | head -n1)
user=$(buildah --storage-driver "$storage" inspect --type image --format '{{.OCIv1.Config.User}}' "$name")
echo "image $name id $id size $size user $user built in ${elapsed}s"
