#!/bin/sh
# The PDF tests read certificates and transcripts with poppler's pdftotext and pdftoppm. `make test` runs
# this first: when they are missing it installs Debian's `poppler-utils` (as root, or through sudo without
# a password prompt), and otherwise stops the run with one clear line and a non-zero exit, so the PDF
# checks are never skipped.
set -u
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && exit 0

if command -v apt-get >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    as_root=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then
    as_root="sudo -n"
  else
    as_root="none"
  fi
  if [ "$as_root" != "none" ]; then
    echo "make test: installing Debian's poppler-utils for the PDF tests (apt-get)" >&2
    $as_root apt-get update -qq >/dev/null 2>&1
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null 2>&1
  fi
fi
command -v pdftotext >/dev/null 2>&1 && command -v pdftoppm >/dev/null 2>&1 && exit 0

echo "make test: the PDF tests need pdftotext and pdftoppm and they could not be installed here:" \
  "run 'apt-get install poppler-utils' as root (Debian/Ubuntu), then make test again" >&2
exit 1
