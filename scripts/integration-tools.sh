#!/usr/bin/env bash
# Make sure the tools the integration tests drive are there: headless Chromium
# (the browser test of the HTML report, tests/integration/test_report_browser.py)
# and docker-compose (remediation of Compose services,
# tests/integration/test_remediate_compose.py). Nothing to do for a tool on
# PATH; else, as root on Debian, install its Debian package through
# apt-install.sh. Elsewhere it only says so: those tests then skip with the
# reason (a developer's machine without root), while `make test` on a fresh
# machine, which runs as root, installs them and runs every test.
set -euo pipefail

# command:package
tools=("chromium:chromium" "docker-compose:docker-compose")

missing=()
for tool in "${tools[@]}"; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "missing and this is not root on Debian: ${missing[*]}; the integration tests that need them will skip" >&2
    exit 0
fi
echo "installing from Debian's archive for the integration tests: ${missing[*]}"
"$(dirname "$0")/apt-install.sh" "${missing[@]}"
for tool in "${tools[@]}"; do
    command -v "${tool%%:*}" >/dev/null
done
