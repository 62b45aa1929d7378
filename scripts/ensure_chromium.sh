#!/usr/bin/env bash
# Install Debian's Chromium (for the HTML report's browser test) when it is not on the machine.
# Used by `make test`; never fails the build itself: the test fails in CI, and skips elsewhere,
# when no Chromium could be installed.
set -u
for b in chromium chromium-browser google-chrome; do
  command -v "$b" >/dev/null 2>&1 && exit 0
done
if ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure_chromium: no apt-get here; install Chromium to run the HTML report's browser test" >&2
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo -n"
echo "ensure_chromium: installing Debian's chromium (once; about a minute)" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get install -y -q chromium >/dev/null 2>&1 \
  || { $SUDO apt-get update -q >/dev/null 2>&1 && $SUDO apt-get install -y -q chromium >/dev/null 2>&1; } \
  || echo "ensure_chromium: could not install chromium; the browser test will skip (fail in CI)" >&2
exit 0
