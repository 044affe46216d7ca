#!/usr/bin/env bash
# Everything a fresh machine needs before an audit or the tests: dependencies (and the built CLI),
# a running Docker engine, and the Node base image the fixtures build FROM.
# Prints the base image reference on its last line (stdout); progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
[ -f dist/cli/main.cjs ] || npm run build >&2
bash scripts/ensure-docker.sh >&2
bash scripts/node-base-image.sh
