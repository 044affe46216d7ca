#!/usr/bin/env bash
# A second Docker engine on this machine, for the fleet tests and the bench: its own dockerd with its
# own socket, data root, exec root, pidfile and bridge, no iptables rules, and the Node base image
# loaded into it (nothing is pulled). Traffic stays on its unix socket.
#
#   scripts/second-engine.sh start   # prints the socket's URL (unix:///…) on its last line
#   scripts/second-engine.sh stop    # stops it (by its pidfile), removes its bridge and its folder
#   scripts/second-engine.sh status  # exit 0 when it answers
#
# SECOND_ENGINE_DIR (default /tmp/ia-engine2; short: the socket path must stay under 108 bytes),
# SECOND_ENGINE_BRIDGE (default iabr2), SECOND_ENGINE_SUBNET (default 10.250.0.1/24),
# NODE_IMAGE (the base image to copy from the first engine, default image-audit/node-base:20-bookworm),
# SECOND_ENGINE_DOCKERD (the dockerd to run, default the one on PATH; its folder goes first on PATH, so
# its own helpers such as docker-proxy are found: scripts/newer-engine.sh runs a newer one this way).
set -euo pipefail

DIR=${SECOND_ENGINE_DIR:-/tmp/ia-engine2}
BRIDGE=${SECOND_ENGINE_BRIDGE:-iabr2}
SUBNET=${SECOND_ENGINE_SUBNET:-10.250.0.1/24}
IMAGE=${NODE_IMAGE:-image-audit/node-base:20-bookworm}
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/docker.pid"
START_BOUND_S=${SECOND_ENGINE_START_BOUND_S:-60}
DOCKERD=${SECOND_ENGINE_DOCKERD:-dockerd}
# Its containers' cgroups live under a parent of their own: after a SIGKILL of this dockerd (a test
# does that), their processes are found there and ended, whatever the other engine runs.
CGROUP="ia-$(basename "$DIR")"

say() { echo "second-engine: $*" >&2; }

answers() { [ -S "$SOCK" ] && timeout 5 docker -H "unix://$SOCK" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

pid_of() { [ -f "$PIDFILE" ] && cat "$PIDFILE" 2>/dev/null || true; }

stop() {
  local pid
  pid=$(pid_of)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    # Its containers first (the tests' own are removed already; a killed test may have left some).
    if answers; then
      local left
      left=$(timeout 20 docker -H "unix://$SOCK" ps -aq 2>/dev/null || true)
      [ -n "$left" ] && timeout 30 docker -H "unix://$SOCK" rm -f $left >/dev/null 2>&1 || true
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then say "dockerd $pid still running after 30 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; sleep 1; fi
  fi
  # What a SIGKILLed dockerd leaves: its containers' processes (in its cgroup parent), the containerd
  # shims and the containerd it started (each with its own folder on the command line).
  local pids
  pids=$(cat $(find /sys/fs/cgroup -path "*/$CGROUP/*" -name cgroup.procs 2>/dev/null) /dev/null 2>/dev/null | sort -u)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null || true
  local p
  for p in /proc/[0-9]*; do
    if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$DIR/"; then kill -KILL "${p#/proc/}" 2>/dev/null || true; fi
  done
  sleep 0.5
  find /sys/fs/cgroup -depth -type d -path "*/$CGROUP*" -exec rmdir {} \; 2>/dev/null || true
  # Mounts under its roots (overlay layers, netns, shm) must go before the folder can.
  if [ -d "$DIR" ]; then
    { grep -o " $DIR/[^ ]*" /proc/self/mounts || true; } | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
  fi
  ip link show "$BRIDGE" >/dev/null 2>&1 && ip link delete "$BRIDGE" 2>/dev/null || true
  rm -rf "$DIR"
}

start() {
  if answers; then say "already running at unix://$SOCK"; echo "unix://$SOCK"; return 0; fi
  local found
  if ! found=$(command -v "$DOCKERD"); then say "no dockerd at $DOCKERD"; return 1; fi
  stop
  mkdir -p "$DIR/data" "$DIR/exec"
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add name "$BRIDGE" type bridge
    ip addr add "$SUBNET" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  # setsid: its own session, so a Ctrl-C of the test run does not reach it before the teardown does.
  # The dockerd's own folder first on PATH: its helpers (docker-proxy) are the ones next to it.
  PATH="$(dirname "$found"):$PATH" setsid "$DOCKERD" \
    --host "unix://$SOCK" \
    --data-root "$DIR/data" \
    --exec-root "$DIR/exec" \
    --pidfile "$PIDFILE" \
    --bridge "$BRIDGE" \
    --iptables=false \
    --ip-masq=false \
    --storage-driver overlay2 \
    --cgroup-parent "$CGROUP" \
    >"$DIR/dockerd.log" 2>&1 </dev/null &
  local waited=0
  until answers; do
    sleep 0.5
    waited=$((waited + 1))
    if [ "$waited" -ge $((START_BOUND_S * 2)) ]; then
      say "did not answer within ${START_BOUND_S} s; its log:"
      tail -n 30 "$DIR/dockerd.log" >&2 || true
      stop
      return 1
    fi
  done
  if ! docker -H "unix://$SOCK" image inspect "$IMAGE" >/dev/null 2>&1; then
    say "loading $IMAGE from the first engine"
    docker save "$IMAGE" | docker -H "unix://$SOCK" load >/dev/null
  fi
  say "running (pid $(pid_of)) at unix://$SOCK"
  echo "unix://$SOCK"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) answers ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
