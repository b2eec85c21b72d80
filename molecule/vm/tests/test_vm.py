"""The hardened Docker daemon in a real (qemu) VM: dockerd runs under
systemd, `docker info` reports the hardened settings, and a container still
starts. Every host.run is an SSH round trip into an emulated CPU, so the
state is read once per module and the tests only look at it."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "tests"))
import instance_fixtures  # noqa: E402

# Fixtures are found by name in the test module's namespace.
docker_info = instance_fixtures.docker_info
probe_image = instance_fixtures.probe_image


def test_is_a_virtual_machine_not_a_container(host):
    assert host.run("systemd-detect-virt --container").rc != 0
    assert host.check_output("systemd-detect-virt") in ("qemu", "kvm")


def test_dockerd_runs_under_systemd(host):
    assert host.service("docker").is_running


def test_live_restore_is_enabled(docker_info):
    assert docker_info["LiveRestoreEnabled"] is True


def test_logging_driver_is_local(docker_info):
    assert docker_info["LoggingDriver"] == "local"


def test_user_namespaces_are_remapped(docker_info):
    assert any(opt.startswith("name=userns") for opt in docker_info["SecurityOptions"])


def test_apparmor_confines_containers(docker_info):
    # Only a real kernel gives this; the container scenario runs unconfined.
    assert "name=apparmor" in docker_info["SecurityOptions"]


def test_container_runs_as_remapped_root(host, probe_image):
    out = host.check_output(f"docker run --rm {probe_image} cat /proc/self/uid_map")
    inside, outside, _count = (int(field) for field in out.split()[:3])
    assert inside == 0
    assert outside >= 100000, out
