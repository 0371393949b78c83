#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser tests (playwright-core drives it through
# executablePath; a test tool's own browser download cannot reach its CDN from these machines).
#
# Idempotent: does nothing when LAKEWATT_CHROMIUM (default /usr/bin/chromium) is already there.
set -euo pipefail

CHROMIUM="${LAKEWATT_CHROMIUM:-/usr/bin/chromium}"
step() { printf 'setup-browser: %s\n' "$*"; }
fail() {
  printf 'setup-browser: FAILED: %s\n' "$*" >&2
  exit 1
}

[ -x "$CHROMIUM" ] && exit 0
command -v apt-get >/dev/null || fail "$CHROMIUM is missing and there is no apt-get; install chromium and set LAKEWATT_CHROMIUM"
[ "$(id -u)" = 0 ] || fail "$CHROMIUM is missing; install it as root: apt-get install -y chromium"
export DEBIAN_FRONTEND=noninteractive
step "installing chromium from Debian's packages"
# The package lists of a fresh machine may be stale or absent: refresh them once if the first try fails.
if ! apt-get install -y -q chromium >/tmp/lakewatt-setup-browser.log 2>&1; then
  apt-get update -q >>/tmp/lakewatt-setup-browser.log 2>&1 || true
  apt-get install -y -q chromium >>/tmp/lakewatt-setup-browser.log 2>&1 ||
    { tail -n 20 /tmp/lakewatt-setup-browser.log >&2; fail "apt-get install chromium failed"; }
fi
[ -x "$CHROMIUM" ] || fail "chromium installed but $CHROMIUM is not there; set LAKEWATT_CHROMIUM"
step "$("$CHROMIUM" --version 2>/dev/null | head -n 1)"
