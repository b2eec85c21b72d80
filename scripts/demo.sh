#!/usr/bin/env bash
# `make demo`: harden a disposable Debian 12 target that runs its own Docker
# Engine, showing the daemon's compliance before and after.
# KEEP=1 keeps the target (and a dockerd this script started) running.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
log=.cache/demo.log
keep=${KEEP:-0}

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

scripts/docker-engine.sh start
trap cleanup EXIT
molecule/resources/images/build.sh bookworm
mkdir -p .cache
: >"$log"
echo "creating the target and hardening it (full log: $log)"
molecule create -s demo >>"$log" 2>&1
if ! molecule converge -s demo >>"$log" 2>&1; then
    tail -n 40 "$log" >&2
    echo "hardening failed (full log: $log)" >&2
    exit 1
fi
# The converge prints the daemon settings before and after; show just those.
awk '/^TASK \[Show the daemon settings/ { line = $0; sub(/^TASK \[Show the daemon settings \(/, "", line); sub(/\)\].*/, "", line)
                                          print ""; print "== " line; show = 1; next }
     show && /^ *"(PASS|FAIL)/ { gsub(/^ *"|",?$/, ""); print "  " $0 }
     show && /^ *\]/ { show = 0 }' "$log"
grep -A3 '^PLAY RECAP' "$log" | grep bulwark-demo | tail -n 1 | sed 's/^/\nlast run: /'
