"""Make this checkout importable as ansible_collections.bulwark.hardening.

Unit tests import the collection's code by its real name, as Ansible does.
A symlink farm under .cache/pytest-collections points that name at this
checkout, so no install step is needed before running pytest.
"""

import os
import sys

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FARM = os.path.join(REPO_ROOT, ".cache", "pytest-collections")


def _link_collection():
    namespace_dir = os.path.join(FARM, "ansible_collections", "bulwark")
    link = os.path.join(namespace_dir, "hardening")
    os.makedirs(namespace_dir, exist_ok=True)
    if not os.path.islink(link):
        os.symlink(REPO_ROOT, link)
    if FARM not in sys.path:
        sys.path.insert(0, FARM)


_link_collection()
