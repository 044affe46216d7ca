#!/usr/bin/env bash
# Release gate for a pipeline: may IMAGE ship? Copy this into your CI.
#   examples/release-gate.sh myorg/api:1.4.0
# Audits the candidate, compares it with the previous release found in the daemon (the highest
# semver tag of the same repository below the candidate's), writes JUnit and SARIF for the CI to
# display, and exits 0 to ship, 1 not to ship, 2 on bad configuration, 3 when it could not audit.
# Thresholds and waivers come from image-audit.config.json (or package.json "imageAudit") here.
set -euo pipefail

candidate=${1:?usage: release-gate.sh IMAGE[:TAG] [extra image-audit gate flags]}
shift
reports=${REPORTS_DIR:-image-audit-reports}
mkdir -p "$reports"

# The previous release must be in the daemon for --baseline auto: pull it first where you can, e.g.
#   docker pull "myorg/api:1.3.2"
set +e
npx --yes node-image-audit gate "$candidate" --baseline "${BASELINE:-auto}" \
  --report "junit=$reports/image-audit.junit.xml" \
  --report "sarif=$reports/image-audit.sarif" \
  --report "json=$reports/image-audit.json" \
  "$@"
code=$?
set -e

case $code in
  0) echo "release-gate: $candidate may ship" ;;
  1) echo "release-gate: $candidate must not ship (see $reports/)" >&2 ;;
  2) echo "release-gate: bad configuration" >&2 ;;
  *) echo "release-gate: could not audit $candidate" >&2 ;;
esac
exit $code
