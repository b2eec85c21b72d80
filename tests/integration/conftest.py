"""Integration tests run in two pytest-xdist workers (`make integration`), a test file per worker at a time.

The images several files share are built once, by the controller, before any worker starts: two workers
finding the same image missing would each build it, and the second build would retag the name away from
the image the first worker's containers already run.
"""

import pytest

from ansible_collections.bulwark.hardening.tests.integration.images import docker_api, ensure_sleeper_image, ensure_userland_image
from ansible_collections.bulwark.hardening.tests.integration.instances import ensure_image


def pytest_sessionstart(session):
    distributed = (session.config.getoption("numprocesses", default=None) or 0) > 0
    if not distributed or hasattr(session.config, "workerinput"):
        return  # one process builds what it needs as it goes; a worker finds the images built
    try:
        api = docker_api(timeout=120)
    except pytest.skip.Exception:
        return  # no Engine: every test says so itself
    ensure_sleeper_image(api)
    ensure_userland_image(api)
    ensure_image(api, "bookworm")
