#!/usr/bin/env bash
# Run every test stage, keep going after a failure, and write the closing
# `stages: N passed, N failed` line to .cache/test-summary (make prints it
# last, after stopping what it started). Each stage's own output, pytest's
# counts included, is printed as it runs. Called by `make test` once the
# venv, the collection and the Docker Engine are in place.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
passed=() failed=()

# Each stage's limit in seconds: about three times what it takes on a fresh 2-core machine
# (docs/performance.md), so a slow machine passes and a stage that hangs is interrupted like
# Ctrl-C (Molecule destroys its instances, pytest prints where it waited) and the next one runs.
# BULWARK_STAGE_LIMIT (seconds) overrides every limit, for trying this out.
declare -A limit=([yamllint]=300 [ansible-lint]=900 [sanity]=1200 [unit]=900 [integration]=1800
                  [molecule]=1800 [vm]=2400)
if [ -n "${BULWARK_STAGE_LIMIT:-}" ]; then
    for name in "${!limit[@]}"; do limit[$name]=$BULWARK_STAGE_LIMIT; done
fi

# timeout runs a stage in a process group of its own, which a Ctrl-C at the terminal does not reach:
# the stage runs in the background and this script, waiting for it, passes the interrupt on to its
# whole group (Molecule destroys its instances), then stops after it.
interrupted='' skipped=''
limited() {
    local seconds=$1; shift
    timeout --signal=INT --kill-after=120 "$seconds" "$@" &
    local pid=$! rc
    trap 'interrupted=1; kill -INT -- -'"$pid"' 2>/dev/null' INT TERM
    wait "$pid"; rc=$?
    while kill -0 "$pid" 2>/dev/null; do wait "$pid"; rc=$?; done  # a wait cut short by the trap
    trap - INT TERM
    return "$rc"
}

stage() {
    local name=$1; shift
    local started=$SECONDS
    echo
    echo "=== $name: $* (limit ${limit[$name]} s)"
    if limited "${limit[$name]}" "$@"; then
        passed+=("$name")
        echo "=== $name: passed in $((SECONDS - started)) s"
    else
        failed+=("$name")
        echo "=== $name: FAILED in $((SECONDS - started)) s$( ((SECONDS - started < limit[$name])) || echo " (its limit)")"
    fi
}

# The images of the later stages (Molecule's and the brownfield app's, then the two VM images) are
# built in the background while the first stages run, which keep one core busy at most: about 4 min
# off the run. A stage that needs them waits for its build and shows its log; when a build failed,
# the stage's own make target builds again and fails with the reason in its own output.
mkdir -p .cache/prebuild
rm -f .cache/prebuild/*.rc
stages=${BULWARK_STAGES:-yamllint ansible-lint sanity unit integration molecule vm}
wants() { [[ " $stages " == *" $1 "* ]]; }
if wants integration || wants molecule || wants vm; then
    # In a process group of its own (set -m), so that the EXIT trap stops the whole build, its make and
    # debootstrap included, if the run ends before it does (Ctrl-C, or a stage that stopped waiting).
    set -m
    (
        if wants integration || wants molecule; then
            make --no-print-directory images >.cache/prebuild/images.log 2>&1
            echo $? >.cache/prebuild/images.rc
        fi
        if wants vm; then
            make --no-print-directory vm-images >.cache/prebuild/vm-images.log 2>&1
            echo $? >.cache/prebuild/vm-images.rc
        fi
    ) &
    prebuild=$!
    set +m
    trap 'kill -- -$prebuild 2>/dev/null' EXIT
    echo "building images in the background (.cache/prebuild/)"
fi

# Wait for a background build (never longer than its stage's limit) and show how it went.
prebuilt() {
    local build=$1 waited=0
    wants "$2" || return 0
    until [ -f ".cache/prebuild/$build.rc" ] || ((waited >= limit[$2])); do sleep 2; ((waited += 2)); done
    echo
    echo "=== $build (built in the background; waited $waited s): exit $(cat ".cache/prebuild/$build.rc" 2>/dev/null || echo '?')"
    tail -n 5 ".cache/prebuild/$build.log"
}

for name in $stages; do
    [ -z "$interrupted" ] || { skipped="$name and the stages after it did not run (interrupted)"; break; }
    case $name in
        yamllint) stage yamllint make --no-print-directory yamllint ;;
        ansible-lint) stage ansible-lint make --no-print-directory ansible-lint ;;
        sanity) stage sanity make --no-print-directory sanity ;;
        unit) stage unit make --no-print-directory unit ;;
        integration) prebuilt images integration; stage integration make --no-print-directory integration ;;
        molecule) prebuilt images molecule; stage molecule make --no-print-directory molecule ;;
        vm) prebuilt vm-images vm; stage vm make --no-print-directory test-vm ;;
        *) echo "unknown stage $name" >&2; failed+=("$name") ;;
    esac
done

{
    echo
    echo "passed stages: ${passed[*]:-none}"
    [ ${#failed[@]} -eq 0 ] || echo "FAILED stages: ${failed[*]}"
    [ -z "$skipped" ] || echo "$skipped"
    echo "test time: $SECONDS s"
    echo "stages: ${#passed[@]} passed, ${#failed[@]} failed"
} >.cache/test-summary
[ ${#failed[@]} -eq 0 ] && [ -z "$interrupted" ]
