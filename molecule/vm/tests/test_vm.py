"""The hardened Docker daemon in a real (qemu) VM: dockerd runs under
systemd, `docker info` reports the hardened settings, ordinary workloads
still run, the collection's own audit passes every rule the roles fix, and
the workload the containers role replaced kept its data.
Every host.run is an SSH round trip into an emulated CPU, so the state is
read once per module and the tests only look at it."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "resources", "tests"))
import instance_fixtures  # noqa: E402
from audit_proof import (  # noqa: E402,F401  pylint: disable=unused-import
    audit,
    claimed,
    expected_left_open,
    test_every_rule_the_roles_fix_passes,
    test_every_rule_the_roles_fix_was_decided,
    test_rules_left_open_on_this_target_fail_with_their_reason,
    test_rules_left_open_say_why_in_the_report,
    test_the_containers_role_claims_rules_of_the_workload,
)
from daemon_checks import (  # noqa: E402,F401  pylint: disable=unused-import
    test_dockerd_runs_under_systemd,
    test_live_restore_is_enabled,
    test_logging_driver_is_local,
)
from remediation_checks import (  # noqa: E402,F401  pylint: disable=unused-import
    test_live_fixes_are_in_place,
    test_recreate_fixes_are_in_place,
    test_the_root_filesystem_is_read_only_and_tmp_writable,
    test_the_workload_runs_under_its_name_with_its_label,
    test_the_workload_was_replaced_and_its_volume_data_kept,
    workload,
)
from workload_checks import (  # noqa: E402,F401  pylint: disable=unused-import
    published,
    test_a_threaded_http_server_answers_on_a_published_port,
    test_a_web_server_answers_on_a_published_port,
    test_clone3_fails_with_enosys_not_eperm,
    test_threads_start,
)

# Fixtures are found by name in the test module's namespace.
docker_info = instance_fixtures.docker_info
probe_image = instance_fixtures.probe_image
userland_image = instance_fixtures.userland_image
probe_container = instance_fixtures.probe_container


def test_is_a_virtual_machine_not_a_container(host):
    assert host.run("systemd-detect-virt --container").rc != 0
    assert host.check_output("systemd-detect-virt") in ("qemu", "kvm")


def test_user_namespaces_are_remapped(docker_info):
    assert any(opt.startswith("name=userns") for opt in docker_info["SecurityOptions"])


def test_icc_is_off_on_the_default_bridge(host):
    # Nothing ran before harden here: the restart made the bridge anew with the setting.
    bridge = json.loads(host.check_output("docker network inspect bridge"))[0]
    assert bridge["Options"]["com.docker.network.bridge.enable_icc"] == "false"


def test_content_trust_is_on_for_login_shells(host):
    assert host.run("bash -lc 'echo $DOCKER_CONTENT_TRUST'").stdout.strip() == "1"


def test_apparmor_confines_containers(docker_info):
    # Only a real kernel gives this; the container scenario runs unconfined.
    assert "name=apparmor" in docker_info["SecurityOptions"]


def test_container_runs_as_remapped_root(host, probe_image):
    out = host.check_output(f"docker run --rm {probe_image} cat /proc/self/uid_map")
    inside, outside, _count = (int(field) for field in out.split()[:3])
    assert inside == 0
    assert outside >= 100000, out
