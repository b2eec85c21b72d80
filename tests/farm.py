"""Make this checkout importable as ansible_collections.bulwark.hardening.

Ansible, the unit tests, the integration tests, the benchmarks and the doc
generators all import the collection by its real name. A symlink farm under
.cache/pytest-collections points that name at this checkout, so no install
step is needed. This is the one helper that makes it; everything else calls
link().
"""

import os
import sys

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FARM = os.path.join(TOP, ".cache", "pytest-collections")


def link():
    """Create the farm if needed, put it first on sys.path, and return its path."""
    namespace_dir = os.path.join(FARM, "ansible_collections", "bulwark")
    os.makedirs(namespace_dir, exist_ok=True)
    target = os.path.join(namespace_dir, "hardening")
    if not os.path.islink(target):
        os.symlink(TOP, target)
    if FARM not in sys.path:
        sys.path.insert(0, FARM)
    return FARM
