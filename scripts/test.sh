#!/usr/bin/env bash
# The whole test suite: set up, then unit and integration tests on the real daemon.
set -euo pipefail
cd "$(dirname "$0")/.."
NODE_IMAGE=$(bash scripts/setup.sh | tail -n 1)
export NODE_IMAGE
bash scripts/ensure-chromium.sh
npm run build --silent
npx tsc -p tsconfig.json --noEmit
mkdir -p .vitest-results
status=0
rm -f .vitest-results/*.json
npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-results/results.json "$@" || status=$?
# No audit leaves a container behind: checked on each engine once its files ran.
check_left() {
  local left
  left=$(docker ps -aq --filter label=io.github.node-image-audit.session | wc -l)
  if [ "$left" -gt 0 ]; then echo "test: $left audit container(s) left on the daemon${DOCKER_HOST:+ at $DOCKER_HOST}" >&2; status=1; fi
}
check_left

# The files that meet what differs between engines (the BuildKit session and the context it lands, the
# image export's layout, archive reads, health and exit events) once more on a newer engine: Debian 13's
# dockerd 26.1 beside the machine's 20.10 (scripts/newer-engine.sh). Only for a whole run (no
# arguments); IMAGE_AUDIT_NEWER_ENGINE=off leaves it out.
NEWER_ENGINE_FILES=(
  test/integration/buildkit-session.test.ts
  test/integration/context-files.test.ts
  test/integration/context-build-policy.test.ts
  test/integration/content-checks.test.ts
  test/integration/compliant.test.ts
  test/integration/dev-deps-and-size.test.ts
  test/integration/user-and-init.test.ts
  test/integration/shutdown.test.ts
  test/integration/health.test.ts
)
if [ $# -eq 0 ] && [ "${IMAGE_AUDIT_NEWER_ENGINE:-on}" != off ]; then
  # Stopped however this script ends (an interrupted run included): it runs in a session of its own.
  trap 'bash scripts/newer-engine.sh stop || true' EXIT
  if newer=$(bash scripts/newer-engine.sh start | tail -n 1) && [ -n "$newer" ]; then
    echo "test: the engine-sensitive files again on $(DOCKER_HOST=$newer docker version --format 'dockerd {{.Server.Version}}')"
    DOCKER_HOST=$newer npx vitest run --project integration --reporter=default --reporter=json \
      --outputFile.json=.vitest-results/newer-engine.json "${NEWER_ENGINE_FILES[@]}" || status=$?
    DOCKER_HOST=$newer check_left
    bash scripts/newer-engine.sh stop || true
    trap - EXIT
  else
    echo "test: the newer engine (scripts/newer-engine.sh) did not start; IMAGE_AUDIT_NEWER_ENGINE=off leaves it out" >&2
    status=1
  fi
fi

# One plain closing line, whatever reads this log.
node -e '
  const fs = require("fs");
  const read = (f) => { try { return JSON.parse(fs.readFileSync(`.vitest-results/${f}`, "utf8")); } catch { return undefined; } };
  const main = read("results.json");
  const newer = read("newer-engine.json");
  const runs = [main, newer].filter(Boolean);
  const sum = (key) => runs.reduce((n, r) => n + r[key], 0);
  const tail = newer ? ` (of which on the newer engine: ${newer.numPassedTests} passed, ${newer.numFailedTests} failed)` : "";
  console.log(`tests: ${sum("numPassedTests")} passed, ${sum("numFailedTests")} failed, ${sum("numPendingTests") + sum("numTodoTests")} skipped${tail}`);
' || true
exit $status
