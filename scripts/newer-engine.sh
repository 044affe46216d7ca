#!/usr/bin/env bash
# A newer Docker engine beside the machine's dockerd 20.10, for the tests (scripts/test.sh runs the
# engine-sensitive integration files on it too) and the bench: Debian 13 (trixie)'s
# docker.io package (dockerd 26.1), fetched by apt from the archive's signed index into a folder of its
# own and unpacked there. Nothing is installed and the machine's apt state is not touched. The engine
# is scripts/second-engine.sh run with that dockerd: its own socket, folders, bridge, containerd, and
# the Node base image loaded into it.
#
#   scripts/newer-engine.sh start   # its URL on the last line:
#                                   #   DOCKER_HOST=$(bash scripts/newer-engine.sh start | tail -n 1) npm run bench
#   scripts/newer-engine.sh stop    # stops it and removes its folder (the package stays for the next start)
#
# Why: dockerd 20.10 runs each archive read (GET /containers/{id}/archive) as a re-exec of its own binary
# (docker-tar, ~0.17 s of CPU); Docker 23 and later do it in a goroutine. docs/bench.md shows the rows
# on both. NEWER_ENGINE_DIR (default /tmp/ia-docker26: one engine at a time per folder), NEWER_ENGINE_SUITE
# (default trixie).
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${NEWER_ENGINE_DIR:-/tmp/ia-docker26}
SUITE=${NEWER_ENGINE_SUITE:-trixie}
PKG="$DIR/pkg"
export SECOND_ENGINE_DIR="$DIR/engine" SECOND_ENGINE_BRIDGE=iabr26 SECOND_ENGINE_SUBNET=10.253.0.1/24
export SECOND_ENGINE_DOCKERD="$PKG/usr/sbin/dockerd"

say() { echo "newer-engine: $*" >&2; }

fetch() {
  [ -x "$SECOND_ENGINE_DOCKERD" ] && return 0
  local apt="$DIR/apt"
  mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main" >"$apt/sources.list"
  # apt with every folder of its own: it checks the index's signature and the package's checksum.
  local opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/nonexistent
    -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache" -o Dir::State::status=/dev/null
    -o APT::Architecture=amd64 -o APT::Sandbox::User=root)
  say "fetching docker.io from Debian $SUITE"
  apt-get "${opts[@]}" -qq update
  rm -f "$apt"/docker.io_*.deb
  (cd "$apt" && apt-get "${opts[@]}" -qq download docker.io)
  dpkg-deb -x "$apt"/docker.io_*.deb "$PKG"
  say "unpacked $("$SECOND_ENGINE_DOCKERD" --version)"
}

case "${1:-}" in
  start) fetch && bash scripts/second-engine.sh start ;;
  stop) bash scripts/second-engine.sh stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
