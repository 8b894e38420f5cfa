#!/bin/sh
# The browser tests drive a real Chromium at /usr/bin/chromium (Playwright's own browser download cannot
# be used). `make test` runs this first: when Chromium is missing it installs Debian's `chromium` package
# (as root, or through sudo without a password prompt), and otherwise stops the run with one clear line
# and a non-zero exit, so the browser tests are never skipped and never fail half-way.
# CHROMIUM names another path to check (the tests themselves always use /usr/bin/chromium).
set -u
chromium="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$chromium" ] && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    as_root="sudo -n"
  else
    as_root="none"
  fi
  if [ "$as_root" != "none" ]; then
    echo "make test: installing Debian's chromium for the browser tests (apt-get)" >&2
    $as_root apt-get update -qq >/dev/null 2>&1
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1
  fi
fi
[ -x "$chromium" ] && exit 0

echo "make test: the browser tests need Chromium at $chromium and it could not be installed here:" \
  "run 'apt-get install chromium' as root (Debian/Ubuntu), then make test again" >&2
exit 1
