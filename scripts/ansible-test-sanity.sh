#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection, in ansible-test's
# own venvs (not its docker mode). Usage: scripts/ansible-test-sanity.sh [ansible-test args]
#
# ansible-test wants the collection under ansible_collections/<ns>/<name>,
# so the tree is copied to a folder of that shape outside the checkout.
# Set BULWARK_SANITY_ROOT to use another copy (parallel runs must not share one).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
venv=${VENV:-$top/.venv}
# Outside this checkout: inside it, ansible-test would see our .gitignore
# (which ignores .cache) and skip every file.
root=${BULWARK_SANITY_ROOT:-${TMPDIR:-/tmp}/bulwark-sanity-$(echo "$top" | md5sum | cut -c1-8)}
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

# ansible-test skips its shell lint test when the shellcheck tool is missing;
# on a root Debian machine it is one small package away.
ensure_shellcheck() {
    command -v shellcheck >/dev/null && return
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
        return 0
    fi
    echo "installing shellcheck for ansible-test's shellcheck test"
    "$top/scripts/apt-install.sh" shellcheck \
        || echo "could not install shellcheck; ansible-test will skip its shellcheck test" >&2
}

# Copy what git would commit (tracked plus untracked, not ignored files).
copy_tree() {
    rm -rf "$dest"
    mkdir -p "$dest"
    if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
        git -C "$top" ls-files -z --cached --others --exclude-standard \
            | (cd "$top" && tar --null -T - -c) | tar -x -C "$dest"
    else
        tar -C "$top" --exclude=./.venv --exclude=./.cache --exclude=./tests/output \
            --exclude='__pycache__' -c . | tar -x -C "$dest"
    fi
}

seed_get_pip
ensure_shellcheck
copy_tree
cd "$dest"
exec "$venv/bin/ansible-test" sanity --venv --python 3.11 "$@"
