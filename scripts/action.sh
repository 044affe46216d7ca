#!/usr/bin/env bash
# The logic of the GitHub Action (action.yml): run the audit (or the gate, with a baseline), write the
# JUnit, SARIF, HTML, JSON and Markdown reports, append the Markdown to $GITHUB_STEP_SUMMARY, and write
# verdict, exit code and report paths to $GITHUB_OUTPUT. Inputs come as INPUT_* variables, so the
# script runs the same locally (test/integration/action.test.ts) as in a workflow.
#
# The CLI: INPUT_CLI (a path to the bin, dist/cli/main.cjs) when given; else the action's own checkout when it is built
# (dist/cli/main.cjs); else `npx --yes node-image-audit@<the version of this checkout>`, so a workflow
# using the action at a tag runs the package published from that tag.
set -uo pipefail

action_path=${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}
target=${INPUT_TARGET:-}
if [ -z "$target" ]; then echo "image-audit action: the 'target' input is required" >&2; exit 2; fi
out=${INPUT_OUTPUT_DIR:-image-audit-report}
fail_on=${INPUT_FAIL_ON:-fail}
case "$fail_on" in fail | warn | never) ;; *) echo "image-audit action: fail-on must be fail, warn or never (got \"$fail_on\")" >&2; exit 2 ;; esac
mkdir -p "$out"
junit="$out/junit.xml"
sarif=${INPUT_SARIF:-$out/image-audit.sarif}
html="$out/report.html"
markdown="$out/summary.md"
json="$out/report.json"

if [ -n "${INPUT_CLI:-}" ]; then
  cli=(node -- "$INPUT_CLI")
elif [ -f "$action_path/dist/cli/main.cjs" ]; then
  cli=(node -- "$action_path/dist/cli/main.cjs")
else
  version=$(node -p "require(process.argv[1]).version" "$action_path/package.json")
  cli=(npx --yes "node-image-audit@$version")
fi

args=()
[ -n "${INPUT_BASELINE:-}" ] && args+=(gate)
args+=("$target" --no-color --report "junit=$junit" --report "sarif=$sarif" --report "html=$html" --report "markdown=$markdown" --report "json=$json")
[ -n "${INPUT_BASELINE:-}" ] && args+=(--baseline "$INPUT_BASELINE")
[ -n "${INPUT_SIZE_BUDGET:-}" ] && args+=(--size-budget "$INPUT_SIZE_BUDGET")
[ -n "${INPUT_SHUTDOWN_BUDGET:-}" ] && args+=(--shutdown-budget "$INPUT_SHUTDOWN_BUDGET")
[ -n "${INPUT_CONFIG:-}" ] && args+=(--config "$INPUT_CONFIG")
[ -n "${INPUT_DOCKERFILE:-}" ] && args+=(--dockerfile "$INPUT_DOCKERFILE")
# Further flags, whitespace-separated (e.g. "--only healthcheck --build-arg NODE_IMAGE=node:20-slim").
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a extra <<<"$INPUT_ARGS"
  args+=("${extra[@]}")
fi

echo "image-audit action: ${cli[*]} ${args[*]}" >&2
"${cli[@]}" "${args[@]}"
code=$?

# The verdict, from the JSON report when there is one (warnings are only there), else from the code.
verdict=error
warns=0
if [ -s "$json" ]; then
  read -r verdict warns < <(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const code = Number(process.argv[2]);
    const audit = r.candidate ?? r;
    const warns = audit.summary.warn;
    const verdict = code === 3 || code === 2 || code > 3 ? "error"
      : r.verdict ?? (audit.summary.fail ? "fail" : warns ? "warn" : "pass");
    console.log(verdict, warns);
  ' "$json" "$code")
fi

{
  if [ -s "$markdown" ]; then
    cat "$markdown"
  else
    echo "## 💥 image-audit: $target"
    echo
    echo "The audit could not run (exit $code): see the step's log."
  fi
  echo
} >>"${GITHUB_STEP_SUMMARY:-/dev/null}"

reported() { [ -s "$1" ] && echo "$1" || echo ""; }
{
  echo "verdict=$verdict"
  echo "exit-code=$code"
  echo "junit=$(reported "$junit")"
  echo "sarif=$(reported "$sarif")"
  echo "html=$(reported "$html")"
  echo "markdown=$(reported "$markdown")"
  echo "json=$(reported "$json")"
} >>"${GITHUB_OUTPUT:-/dev/null}"

case "$fail_on" in
  never) exit 0 ;;
  warn) if [ "$code" -eq 0 ] && [ "$warns" -gt 0 ]; then echo "image-audit action: $warns check(s) warned (fail-on: warn)" >&2; exit 1; fi; exit "$code" ;;
  *) exit "$code" ;;
esac
