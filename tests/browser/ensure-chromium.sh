#!/bin/sh
# The browser tests drive a real Chromium at /usr/bin/chromium (Playwright's own browser download cannot
# be used). `make test` runs this first: when Chromium is missing it installs Debian's `chromium` package
# (as root, or through sudo without a password prompt), and otherwise stops the run with one clear line
# and a non-zero exit, so the browser tests are never skipped and never fail half-way
# (tests/ensure-debian-package.sh does the work). CHROMIUM names another path to check (the tests
# themselves always use /usr/bin/chromium).
chromium="${CHROMIUM:-/usr/bin/chromium}"
set -- chromium "the browser tests need Chromium at $chromium" "$chromium"
. "${0%/*}/../ensure-debian-package.sh"
