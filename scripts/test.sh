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
npx vitest run --reporter=default --reporter=json --outputFile.json=.vitest-results/results.json "$@" || status=$?
# One plain closing line, whatever reads this log.
node -e '
  const r = JSON.parse(require("fs").readFileSync(".vitest-results/results.json", "utf8"));
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' || true
left=$(docker ps -aq --filter label=io.github.node-image-audit.session | wc -l)
if [ "$left" -gt 0 ]; then echo "test: $left audit container(s) left on the daemon" >&2; status=1; fi
exit $status
