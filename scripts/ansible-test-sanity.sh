#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection, in ansible-test's
# own venvs (not its docker mode). Usage: scripts/ansible-test-sanity.sh [ansible-test args]
#
# ansible-test wants the collection under ansible_collections/<ns>/<name>,
# so the tree is copied (rsync) to .cache/sanity/ansible_collections/bulwark/hardening.
# Set BULWARK_SANITY_ROOT to use another copy (parallel runs must not share one).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$top/.venv}
root=${BULWARK_SANITY_ROOT:-$top/.cache/sanity}
dest=$root/ansible_collections/bulwark/hardening

# ansible-test bootstraps pip in its venvs with get-pip.py, downloaded from a
# host that may be unreachable. A stand-in in its cache does the same job
# with the interpreter's own ensurepip.
seed_get_pip() {
    local cache=$HOME/.ansible/test/cache
    local version
    # The pip version ansible-test pins for its venvs (24.2 in ansible-core 2.19).
    version=$(sed -n "s/^ *pip='\\([0-9.]*\\)',$/\\1/p" \
        "$("$venv/bin/python" -c 'import ansible_test, os; print(os.path.dirname(ansible_test.__file__))')/_internal/python_requirements.py" \
        | head -n 1 | tr . _)
    [ -n "$version" ] || { echo "cannot find ansible-test's pip version" >&2; exit 1; }
    mkdir -p "$cache"
    local stub=$cache/get_pip_${version}.py
    [ -f "$stub" ] && return  # a real get-pip.py works too
    cat >"$stub" <<'PY'
# bulwark stand-in for get-pip.py: ensurepip, then pip installs what was asked.
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
subprocess.check_call([sys.executable, "-m", "pip", "install", "--upgrade", *args])
PY
}

seed_get_pip
mkdir -p "$dest"
rsync -a --delete \
    --exclude .git --exclude .venv --exclude .cache --exclude tests/output \
    --exclude '__pycache__' --exclude '.pytest_cache' --exclude '*.tar.gz' \
    --exclude 'molecule/*/.molecule' \
    "$top/" "$dest/"
cd "$dest"
exec "$venv/bin/ansible-test" sanity --venv --python 3.11 "$@"
