#!/usr/bin/env bash
# Make sure headless Chromium is there for the browser test of the HTML report
# (tests/integration/test_report_browser.py): nothing to do when `chromium`
# is on PATH; else, as root on Debian, install Debian's chromium package.
# Elsewhere it only says so: the test then skips with the reason.
set -euo pipefail

command -v chromium >/dev/null && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "chromium is missing and this is not root on Debian: the browser test of the HTML report will skip" >&2
    exit 0
fi
echo "installing chromium from Debian's archive for the browser test of the HTML report"
"$(dirname "$0")/apt-install.sh" chromium
command -v chromium >/dev/null
