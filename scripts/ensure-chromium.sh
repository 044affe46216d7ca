#!/usr/bin/env bash
# The HTML report is tested in a real browser: Debian's chromium, installed when missing.
# Prints nothing on stdout; progress goes to stderr. Never downloads a browser build of its own.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-chromium: no chromium and no apt-get: the HTML browser test will be skipped" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-chromium: not root and no sudo: install Debian's chromium to run the HTML browser test" >&2
    exit 0
  fi
fi
echo "ensure-chromium: apt-get install chromium" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2
$SUDO apt-get install -y -qq --no-install-recommends chromium >&2
