#!/usr/bin/env bash
# `make demo`: harden a disposable Debian 12 target that runs its own Docker
# Engine, and show the collection's own audit of it before and after:
# score, counts per section, the failing rules by id and title with why each
# is still open, and the rules that do not apply to the target. The demo fails
# when a rule still fails after hardening without a reason (the summary then
# has a "no reason given for:" line, report/text.py).
# KEEP=1 keeps the target (and a dockerd this script started) running.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p .cache
log=.cache/demo.log
keep=${KEEP:-0}
: >"$log"

# Set before anything is started, so an interrupted or failed demo still
# removes the target and stops a dockerd it started.
cleanup() {
    local rc=$?
    if [ "$keep" = 1 ] && [ $rc = 0 ]; then
        cat <<MSG

The target is kept: docker exec -it bulwark-demo bash
(or: molecule login -s demo). Remove it with: make demo-clean
MSG
        return
    fi
    molecule destroy -s demo >>"$log" 2>&1 || echo "could not remove the demo target (see $log)" >&2
    scripts/docker-engine.sh stop
    exit $rc
}
trap cleanup EXIT

scripts/docker-engine.sh start
molecule/resources/images/build.sh bookworm
echo "creating the target, auditing it, hardening it, auditing it again (full log: $log)"
rm -rf .cache/demo-report
molecule create -s demo >>"$log" 2>&1
if ! molecule converge -s demo >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "hardening failed (full log: $log)" >&2
    exit 1
fi
# The converge audits the target before and after hardening (playbooks/audit.yml)
# and writes each summary into .cache/demo-report.
for label in before-hardening after-hardening; do
    echo
    cat ".cache/demo-report/bulwark-demo-$label.txt"
done
grep -A3 '^PLAY RECAP' "$log" | grep bulwark-demo | tail -n 1 | sed 's/^/\nlast run: /'
unexplained=$(grep -h '^ *no reason given for:' .cache/demo-report/bulwark-demo-after-hardening.txt || true)
if [ -n "$unexplained" ]; then
    echo "after hardening, rules still fail without a reason:${unexplained#*:}" >&2
    exit 1
fi
echo "every rule that still fails after hardening says why (and what closes it)"
# The HTML report of the audit after hardening (its trend shows the audit before it too).
# Report names start with their UTC time, so the last in name order is the newest.
html=$(find .cache/demo-report -maxdepth 1 -name 'bulwark-report-*-after-hardening.html' | sort | tail -n 1)
[ -n "$html" ] && echo "HTML report of the target: $top/$html (open it in a browser)"
