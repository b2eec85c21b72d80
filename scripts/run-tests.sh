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

stage() {
    local name=$1; shift
    local started=$SECONDS
    echo
    echo "=== $name: $*"
    if "$@"; then
        passed+=("$name")
        echo "=== $name: passed in $((SECONDS - started)) s"
    else
        failed+=("$name")
        echo "=== $name: FAILED in $((SECONDS - started)) s"
    fi
}

stages=${BULWARK_STAGES:-yamllint ansible-lint sanity unit integration molecule vm}
for name in $stages; do
    case $name in
        yamllint) stage yamllint make --no-print-directory yamllint ;;
        ansible-lint) stage ansible-lint make --no-print-directory ansible-lint ;;
        sanity) stage sanity make --no-print-directory sanity ;;
        unit) stage unit make --no-print-directory unit ;;
        integration) stage integration make --no-print-directory integration ;;
        molecule) stage molecule make --no-print-directory molecule ;;
        vm) stage vm make --no-print-directory test-vm ;;
        *) echo "unknown stage $name" >&2; failed+=("$name") ;;
    esac
done

mkdir -p .cache
{
    echo
    echo "passed stages: ${passed[*]:-none}"
    [ ${#failed[@]} -eq 0 ] || echo "FAILED stages: ${failed[*]}"
    echo "test time: $SECONDS s"
    echo "stages: ${#passed[@]} passed, ${#failed[@]} failed"
} >.cache/test-summary
[ ${#failed[@]} -eq 0 ]
