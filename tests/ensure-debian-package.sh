#!/bin/sh
# Usage: ensure-debian-package.sh PACKAGE NEED FILE...
# Some tests drive real programs from Debian (Chromium for the browser tests, poppler's pdftotext and
# pdftoppm for the PDF tests). `make test` runs this first for each: when any FILE (an absolute path that
# must be executable, or a command name on PATH) is missing it installs PACKAGE with apt-get (as root, or
# through sudo without a password prompt), and otherwise stops the run with one clear line ("make test:
# NEED and it could not be installed here: ...") and a non-zero exit, so those tests are never skipped and
# never fail half-way. Also sourced, after `set -- PACKAGE NEED FILE...` (ensure-chromium.sh).
set -u
package="$1"
need="$2"
shift 2

present() {
  for file in "$@"; do
    case "$file" in
      /*) [ -x "$file" ] || return 1 ;;
      *) command -v "$file" >/dev/null 2>&1 || return 1 ;;
    esac
  done
  return 0
}

present "$@" && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    as_root="sudo -n"
  else
    as_root="none"
  fi
  if [ "$as_root" != "none" ]; then
    echo "make test: installing Debian's $package for the tests (apt-get)" >&2
    $as_root apt-get update -qq >/dev/null 2>&1
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null 2>&1
  fi
fi
present "$@" && exit 0

echo "make test: $need and it could not be installed here:" \
  "run 'apt-get install $package' as root (Debian/Ubuntu), then make test again" >&2
exit 1
