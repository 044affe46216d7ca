#!/usr/bin/env bash
# Makes sure Podman's Docker-compatible API answers on a unix socket, rootful, for the Podman job
# (test/integration/podman.test.ts, docs/podman.md):
# - installs Debian's podman package when missing (it installs next to docker.io: no package removed,
#   runc and containerd untouched; the script checks that dockerd still answers afterwards);
# - starts `podman system service --time=0` on the socket (log: /var/log/podman-service.log) unless
#   it already answers;
# - loads the fixtures' Node base image from the Docker daemon into Podman's store (nothing is pulled:
#   this workplace has no container registry) — Podman names it localhost/<ref>.
# Progress goes to stderr; stdout is only the socket address, e.g. unix:///run/podman/podman.sock.
# `ensure-podman.sh stop` stops the service and the health-check timer this script started.
set -euo pipefail

socket=${PODMAN_SOCKET:-/run/podman/podman.sock}
pidfile=$(dirname "$socket")/podman-service.pid
log() { echo "ensure-podman: $*" >&2; }
answers() { curl -fsS --max-time 3 --unix-socket "$socket" http://d/_ping >/dev/null 2>&1; }

if [ "${1:-}" = stop ]; then
  for f in "$(dirname "$socket")/image-audit-health-timer.pid" "$pidfile"; do
    [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null && log "stopped $(basename "$f" .pid) ($(cat "$f"))"
    rm -f "$f"
  done
  exit 0
fi

docker0_before=no
ip link show docker0 >/dev/null 2>&1 && docker0_before=yes
if ! command -v podman >/dev/null 2>&1; then
  log "installing podman (Debian package)"
  export DEBIAN_FRONTEND=noninteractive
  # Refuse an install that would remove anything (e.g. a runc/containerd swap that could break dockerd).
  if apt-get install -s podman 2>/dev/null | grep -q '^Remv'; then
    log "installing podman would remove packages; not forcing it:"
    apt-get install -s podman | grep '^Remv' >&2
    exit 1
  fi
  # Others may be installing packages on the same machine: wait for dpkg's lock (bounded) instead of failing.
  apt=(apt-get -o DPkg::Lock::Timeout=600)
  "${apt[@]}" install -y -qq podman >/dev/null || { "${apt[@]}" update -qq && "${apt[@]}" install -y -qq podman >/dev/null; }
  if command -v docker >/dev/null 2>&1 && ! DOCKER_HOST= docker info >/dev/null 2>&1; then
    log "warning: docker info no longer answers after installing podman"
    exit 1
  fi
fi

# The fixtures build FROM the base image the Docker daemon has; give Podman the same one.
base=${NODE_IMAGE:-$(DOCKER_HOST= bash "$(dirname "$0")/node-base-image.sh")}
if ! podman image exists "$base" && ! podman image exists "localhost/$base"; then
  log "loading $base from the Docker daemon into podman's store"
  DOCKER_HOST= docker save "$base" | podman load >&2
fi
podman image exists "$base" || base="localhost/$base"

# Rootful Podman gives every container RLIMIT_NOFILE=1048576 and a large RLIMIT_NPROC. Where root lacks
# CAP_SYS_RESOURCE (this sandbox) runc cannot raise the limits and every start fails with
# "error setting rlimit type 7: operation not permitted". Then the service gets a containers.conf of
# its own (CONTAINERS_CONF, nothing under /etc changes) with limits the service already has.
conf=$(dirname "$socket")/image-audit-containers.conf
# /run/podman exists only once a service ran: on a fresh machine it is made here.
mkdir -p "$(dirname "$socket")"
if probe=$(podman run --rm --network none "$base" true 2>&1); then
  service_env=()
elif grep -q 'error setting rlimit' <<<"$probe"; then
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu); [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ] && nproc=32768
  printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' "$nofile" "$nofile" "$nproc" "$nproc" >"$conf"
  log "root cannot raise rlimits here; the service uses $conf (nofile=$nofile nproc=$nproc)"
  CONTAINERS_CONF=$conf podman run --rm --network none "$base" true >&2 || { log "a container still cannot start"; exit 1; }
  service_env=("CONTAINERS_CONF=$conf")
else
  log "podman cannot run a container: $probe"
  exit 1
fi

if ! answers; then
  mkdir -p "$(dirname "$socket")"
  rm -f "$socket"
  log "starting podman system service on unix://$socket (log: /var/log/podman-service.log)"
  env "${service_env[@]}" nohup podman system service --time=0 "unix://$socket" >/var/log/podman-service.log 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 1 30); do
    answers && break
    sleep 1
  done
  if ! answers; then
    log "podman did not answer on $socket within 30 s; last log lines:"
    tail -n 20 /var/log/podman-service.log >&2
    exit 1
  fi
fi
log "podman $(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version) answers on $socket"
# Podman runs HEALTHCHECK probes from transient systemd timers (`podman healthcheck run <id>`); with no
# systemd (this sandbox: the service logs "unable to get systemd connection to add healthchecks") no
# probe ever runs and every container stays "starting". Stand in for those timers, as systemd would
# schedule them: first probe one interval after the start, then one interval after each probe ended.
timer_pidfile=$(dirname "$socket")/image-audit-health-timer.pid
if [ ! -d /run/systemd/system ] && ! { [ -f "$timer_pidfile" ] && kill -0 "$(cat "$timer_pidfile")" 2>/dev/null; }; then
  log "no systemd: starting the health-check timer stand-in (log: /var/log/podman-health-timer.log)"
  PODMAN_SOCKET=$socket nohup node - >/var/log/podman-health-timer.log 2>&1 <<'EOF_TIMER' &
const http = require('node:http');
const socketPath = process.env.PODMAN_SOCKET;
const call = (path, timeoutMs = 10_000) =>
  new Promise((resolve, reject) => {
    const req = http.get({ socketPath, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => (res.statusCode < 300 ? resolve(body ? JSON.parse(body) : undefined) : reject(new Error(`${path}: HTTP ${res.statusCode} ${body.trim()}`))));
    });
    req.on('timeout', () => req.destroy(new Error(`${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
  });
const due = new Map(); // id → { startedAt, intervalMs, timeoutMs, nextAt, running }
async function tick() {
  const running = await call('/v4.0.0/libpod/containers/json');
  const ids = new Set(running.map((c) => c.Id));
  for (const id of due.keys()) if (!ids.has(id)) due.delete(id);
  for (const id of ids) {
    let entry = due.get(id);
    if (!entry) {
      const c = await call(`/v1.41/containers/${id}/json`).catch(() => undefined);
      const hc = c?.Config?.Healthcheck;
      const test = hc?.Test ?? [];
      if (!c || !test.length || test[0] === 'NONE') { due.set(id, { none: true }); continue; }
      const intervalMs = (hc.Interval || 30e9) / 1e6;
      entry = { intervalMs, timeoutMs: (hc.Timeout || 30e9) / 1e6, nextAt: Date.parse(c.State.StartedAt) + intervalMs, running: false };
      due.set(id, entry);
    }
    if (entry.none || entry.running || Date.now() < entry.nextAt) continue;
    entry.running = true;
    call(`/v4.0.0/libpod/containers/${id}/healthcheck`, entry.timeoutMs + 10_000)
      .then((r) => console.log(new Date().toISOString(), id.slice(0, 12), r?.Status))
      .catch((e) => console.log(new Date().toISOString(), id.slice(0, 12), e.message))
      .finally(() => { entry.running = false; entry.nextAt = Date.now() + entry.intervalMs; });
  }
}
(async () => {
  for (;;) {
    await tick().catch((e) => console.log(new Date().toISOString(), e.message));
    await new Promise((r) => setTimeout(r, 250));
  }
})();
EOF_TIMER
  echo $! >"$timer_pidfile"
fi

if [ "$docker0_before" = yes ] && ! ip link show docker0 >/dev/null 2>&1; then
  log "docker0 disappeared while podman was set up: Docker containers on the bridge network cannot start (see docs/podman.md)"
  exit 1
fi
echo "unix://$socket"
