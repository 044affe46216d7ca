#!/usr/bin/env bash
# The main job on the bundled example: set up, then audit fixtures/service (the compliant service)
# and print the report. Extra arguments go to image-audit, e.g. `-f seed-build-fixed.Dockerfile`.
set -euo pipefail
cd "$(dirname "$0")/.."
node_image=$(bash scripts/setup.sh | tail -n 1)
npm run build --silent >/dev/null
exec node dist/cli/main.cjs fixtures/service --build-arg "NODE_IMAGE=$node_image" "$@"
