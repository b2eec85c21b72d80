"""Fixtures of the default scenario's verifier: the shared ones (daemon state,
probe and userland images), a running probe container, and a helper to run
a real ansible-playbook against the instance."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "tests"))
import instance_fixtures  # noqa: E402

# Fixtures are registered by being names in a conftest module.
docker_info = instance_fixtures.docker_info
probe_image = instance_fixtures.probe_image
docker_json = instance_fixtures.docker_json
userland_image = instance_fixtures.userland_image
probe_container = instance_fixtures.probe_container


def run_playbook(host, playbook, *extra_args):
    """Run a real ansible-playbook from the controller against this instance
    (playbook: a collection playbook name such as bulwark.hardening.harden)."""
    inventory = os.environ["MOLECULE_INVENTORY_FILE"]
    name = host.backend.get_hostname()
    cmd = ["ansible-playbook", "-i", inventory, "--limit", name, playbook, *extra_args]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=600)
