#!/usr/bin/env bash
# Prints the Node base image the fixtures build FROM (their ARG NODE_IMAGE), making it if needed.
# - node:20-bookworm-slim when the daemon already has it (a machine that can pull);
# - otherwise a local stand-in, image-audit/node-base:20-bookworm: Debian bookworm minbase with
#   dumb-init and tini (debootstrap), this host's Node 20 and npm, and a `node` user (uid 1000), as
#   the official image has. Nothing is pulled: this workplace has no container registry.
# Progress goes to stderr; stdout is only the image reference.
set -euo pipefail

official=node:20-bookworm-slim
standin=image-audit/node-base:20-bookworm

if docker image inspect "$official" >/dev/null 2>&1; then echo "$official"; exit 0; fi
if docker image inspect "$standin" >/dev/null 2>&1; then echo "$standin"; exit 0; fi

log() { echo "node-base-image: $*" >&2; }
if ! command -v debootstrap >/dev/null 2>&1; then
  log "installing debootstrap"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >&2
fi
node_bin=$(command -v node)
node_major=$("$node_bin" -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || log "warning: host node is v$node_major, the stand-in is meant to carry Node 20"

root=$(mktemp -d /tmp/node-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
log "debootstrap bookworm minbase into $root (about 25 s)"
debootstrap --variant=minbase --include=dumb-init,tini bookworm "$root" http://deb.debian.org/debian >/tmp/node-base-debootstrap.log 2>&1 \
  || { tail -n 20 /tmp/node-base-debootstrap.log >&2; exit 1; }

log "adding $node_bin ($("$node_bin" --version)), npm and the node user"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib"
cp -a "$(dirname "$(dirname "$node_bin")")/lib/node_modules" "$root/usr/local/lib/node_modules"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
chroot "$root" groupadd --gid 1000 node
chroot "$root" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
# Keep the image small, as the slim image does.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/*

log "importing as $standin"
tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_VERSION='"$("$node_bin" -p process.versions.node)" \
  --change 'CMD ["node"]' \
  - "$standin" >/dev/null
log "done: $(docker image inspect -f '{{.Size}}' "$standin" | awk '{printf "%.0f MB", $1/1e6}')"
echo "$standin"
