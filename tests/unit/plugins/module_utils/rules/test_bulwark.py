# -*- coding: utf-8 -*-
"""bulwark's own rules (BW-xxx), each with a passing and a failing case."""

from __future__ import annotations

import json

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.common.references import split_repository

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import (
    container, evidence, extras, findings, image, load, state, status,
)

SECRET_ENV_VALUE = "Xq7rT2mLp9vK4wZs8bN3cY6d"  # the DB_PASSWORD in the insecure fixture
SECRET_LABEL_VALUE = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"


def test_bw_001_env_secrets_are_found_and_masked():
    assert status("BW-001", state([container("hardened")])) == "pass"
    insecure = state([container("insecure")])
    assert status("BW-001", insecure) == "fail"
    text = evidence("BW-001", insecure)
    assert "DB_PASSWORD=<masked, 24 chars>" in text
    assert "AWS_KEY=<masked, 20 chars>" in text
    assert SECRET_ENV_VALUE not in text and "AKIA" not in text
    assert "LOG_LEVEL" not in text


def test_bw_001_ignores_env_inherited_from_the_image():
    # The image's own secret is BW-003's finding, reported once on the image.
    baked = ["API_TOKEN=" + SECRET_ENV_VALUE]
    audit = state([container("hardened", {"Config.Env": baked})], images=[image({"Config.Env": baked})])
    assert status("BW-001", audit) == "pass"
    assert status("BW-003", audit) == "fail"


def test_bw_002_label_secrets():
    assert status("BW-002", state([container("hardened")])) == "pass"
    insecure = state([container("insecure")])
    assert status("BW-002", insecure) == "fail"
    assert "api_token=<masked, 40 chars>" in evidence("BW-002", insecure)
    assert SECRET_LABEL_VALUE not in evidence("BW-002", insecure)


def test_bw_003_image_config_secrets():
    assert status("BW-003", state()) == "pass"
    leaky = image({"Config.Labels": {"deploy.key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk"}})
    assert status("BW-003", state(images=[leaky])) == "fail"


def test_bw_004_drift_only_for_immutable_containers():
    drift = [{"Path": "/etc", "Kind": 0}, {"Path": "/etc/passwd", "Kind": 0}]
    assert status("BW-004", state([container("hardened", diff=[])])) == "pass"
    assert status("BW-004", state([container("hardened", diff=drift)])) == "fail"
    assert findings("BW-004", state([container("hostnet", diff=drift)])) == []  # not labelled immutable


def test_bw_004_ignores_mount_points_docker_creates():
    # Real `docker diff` of the insecure fixture: only the bind mount points (and their parents).
    mount_points = extras()["diff"]["insecure"]
    assert status("BW-004", state([container("insecure", diff=mount_points)])) == "pass"
    tampered = mount_points + [{"Path": "/bin/sleep", "Kind": 0}]
    audit = state([container("insecure", diff=tampered)])
    assert status("BW-004", audit) == "fail"
    assert "1 filesystem changes: changed /bin/sleep" in evidence("BW-004", audit)


def test_bw_005_digest_or_image_id_is_pinned():
    assert status("BW-005", state([container("hardened")])) == "pass"  # created by image id
    by_digest = container("hardened", {"Config.Image": "registry.example.com/app@sha256:" + "a" * 64})
    assert status("BW-005", state([by_digest])) == "pass"
    by_tag = container("hardened", {"Config.Image": "bulwark-test/sleeper:latest"})
    assert status("BW-005", state([by_tag])) == "fail"


@pytest.mark.parametrize("reference,expected", [
    ("nginx", ("docker.io", "library/nginx")),
    ("nginx:1.25", ("docker.io", "library/nginx")),
    ("team/app:1", ("docker.io", "team/app")),
    ("index.docker.io/team/app", ("docker.io", "team/app")),
    ("registry.example.com:5000/app/web:2@sha256:" + "b" * 64, ("registry.example.com:5000", "app/web")),
    ("localhost/app", ("localhost", "app")),
])
def test_split_repository(reference, expected):
    assert split_repository(reference) == expected


DIGEST = "sha256:" + "c" * 64


def test_bw_006_trusted_registries():
    pulled = image({"RepoTags": ["registry.example.com/team/app:1"],
                    "RepoDigests": ["registry.example.com/team/app@" + DIGEST]})
    from_registry = container("hardened", {"Config.Image": "registry.example.com/team/app:1"})
    trusted = AuditOptions(trusted_registries=["registry.example.com/team"])
    assert status("BW-006", state([from_registry], images=[pulled], options=trusted)) == "pass"
    assert "registry.example.com/team/app" in evidence("BW-006", state([from_registry], images=[pulled], options=trusted))
    other = AuditOptions(trusted_registries=["docker.io"])
    assert status("BW-006", state([from_registry], images=[pulled], options=other)) == "fail"
    assert status("BW-006", state([from_registry], images=[pulled])) == "skipped"


def test_bw_006_locally_retagged_image_named_like_a_trusted_registry_fails():
    # `docker tag local/app registry.example.com/team/app:1`: a registry's name, no registry digest.
    retagged = image({"RepoTags": ["registry.example.com/team/app:1"], "RepoDigests": []})
    by_tag = container("hardened", {"Config.Image": "registry.example.com/team/app:1"})
    trusted = AuditOptions(trusted_registries=["registry.example.com"])
    for created in (by_tag, container("hardened")):  # created by the tag, or by image id
        audit = state([created], images=[retagged], options=trusted)
        assert status("BW-006", audit) == "fail"
        assert "no registry digest" in evidence("BW-006", audit)


def test_bw_006_imported_fixture_image_has_no_registry_origin():
    # The real fixture image was imported (`docker import`): a tag, no RepoDigests.
    trusted = AuditOptions(trusted_registries=["docker.io"])
    assert status("BW-006", state([container("hardened")], options=trusted)) == "fail"


def test_bw_006_pulled_image_with_a_trusted_repo_digest_passes_by_id_or_by_digest():
    pulled = image({"RepoTags": ["nginx:1.25"], "RepoDigests": ["nginx@" + DIGEST]})
    trusted = AuditOptions(trusted_registries=["docker.io/library"])
    by_digest = container("hardened", {"Config.Image": "docker.io/library/nginx@" + DIGEST})
    for created in (container("hardened"), by_digest):
        assert status("BW-006", state([created], images=[pulled], options=trusted)) == "pass"


def test_bw_006_digest_reference_decides_only_when_it_is_one_of_the_repo_digests():
    both = image({"RepoDigests": ["mirror.example.com/app@" + DIGEST, "untrusted.example.net/app@" + DIGEST]})
    trusted = AuditOptions(trusted_registries=["mirror.example.com"])
    from_untrusted = container("hardened", {"Config.Image": "untrusted.example.net/app@" + DIGEST})
    assert status("BW-006", state([from_untrusted], images=[both], options=trusted)) == "fail"
    # A digest reference that is not among the RepoDigests proves nothing: the RepoDigests decide.
    claimed = container("hardened", {"Config.Image": "untrusted.example.net/other@" + DIGEST})
    assert status("BW-006", state([claimed], images=[both], options=trusted)) == "pass"


def test_bw_007_default_bridge_with_icc():
    assert status("BW-007", state([container("hardened")])) == "pass"
    assert status("BW-007", state([container("insecure")])) == "fail"
    icc_off = DaemonConfig(cmdline={"icc": False})
    assert status("BW-007", state([container("insecure")], daemon=icc_off)) == "pass"


def test_bw_008_capabilities_dropped():
    assert status("BW-008", state([container("hardened")])) == "pass"
    assert status("BW-008", state([container("hostnet")])) == "fail"
    assert status("BW-008", state([container("hardened", {"HostConfig.Privileged": True})])) == "fail"


def test_bw_009_writable_sensitive_paths_and_sub_paths():
    assert status("BW-009", state([container("hardened")])) == "pass"
    assert status("BW-009", state([container("insecure")])) == "fail"  # /root rw
    containerd = container("hardened", {"Mounts": [
        {"Type": "bind", "Source": "/run/containerd/containerd.sock", "Destination": "/c.sock", "RW": True}]})
    assert status("BW-009", state([containerd])) == "fail"
    read_only = container("hardened", {"Mounts": [{"Type": "bind", "Source": "/root", "Destination": "/r", "RW": False}]})
    assert status("BW-009", state([read_only])) == "pass"
    # The Docker socket is 5.32's finding, not reported twice.
    socket = container("hardened", {"Mounts": [
        {"Type": "bind", "Source": "/var/run/docker.sock", "Destination": "/var/run/docker.sock", "RW": True}]})
    assert status("BW-009", state([socket])) == "pass"


def test_no_secret_value_in_any_finding():
    every_rule = [finding for rule_id in ("BW-001", "BW-002", "BW-003")
                  for finding in findings(rule_id, state([container("insecure")]))]
    text = json.dumps([finding.to_dict() for finding in every_rule])
    for secret in (SECRET_ENV_VALUE, SECRET_LABEL_VALUE, "AKIAIOSFODNN7EXAMPLE"):
        assert secret not in text
    assert load("containers.json")["insecure"]["Config"]["Env"]  # the fixture really holds them


# --- BW-012: package managers and downloaders running (one `docker top` per running container) ---

PROCESS_CHECKS = AuditOptions(process_checks=True)
TOKEN = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"


def top_with(*commands):
    """The fixture's real `docker top` answer plus processes running the given command lines."""
    base = extras()["top"]
    rows = [["root", str(100 + n), "1", "0", "12:49", "?", "00:00:00", command] for n, command in enumerate(commands)]
    return {"Titles": base["Titles"], "Processes": base["Processes"] + rows}


def test_bw_012_passes_on_the_real_process_list_and_on_downloader_names_in_arguments():
    assert status("BW-012", state([container("hardened", top=extras()["top"])], options=PROCESS_CHECKS)) == "pass"
    arguments = top_with("sleep curl", "/bin/sh -c wget", "/usr/bin/python3 /srv/app.py --fetch-with curl",
                         "/usr/local/bin/curlish", "python3 -c import pip")
    audit = state([container("hardened", top=arguments)], options=PROCESS_CHECKS)
    assert status("BW-012", audit) == "pass"
    assert "no package manager or downloader among 6 processes" in evidence("BW-012", audit)


@pytest.mark.parametrize("command,program", [
    ("/usr/bin/curl -fsSL https://example.com/install.sh", "curl"),
    ("wget -q http://mirror/x.tgz", "wget"),
    ("apt-get install -y gcc", "apt-get"),
    ("/usr/bin/dpkg --status-fd 23 --configure", "dpkg"),
    ("apk add --no-cache git", "apk"),
    ("/usr/bin/python3 -E /usr/bin/dnf install -y gcc", "dnf"),
    ("/usr/bin/python /usr/bin/yum update", "yum"),
    ("microdnf install jq", "microdnf"),
    ("zypper -n in git", "zypper"),
    ("python3 -m pip install requests", "pip"),
    ("/usr/local/bin/python3.11 -u -mpip install x", "pip"),
    ("/usr/bin/python3 /usr/local/bin/pip3.11 install x", "pip3.11"),
    ("node /usr/lib/node_modules/npm/bin/npm-cli.js install", "npm install"),
    ("/usr/bin/node /usr/bin/yarn add left-pad", "yarn add"),
    ("ruby /usr/bin/gem install rails", "gem"),
])
def test_bw_012_fails_on_the_program_name_of_a_package_manager_or_downloader(command, program):
    audit = state([container("hardened", top=top_with(command, command))], options=PROCESS_CHECKS)
    assert status("BW-012", audit) == "fail"
    assert "running: %s (2), among 3 processes" % program in evidence("BW-012", audit)


def test_bw_012_reports_program_names_and_counts_never_command_lines():
    top = top_with("curl -H 'Authorization: Bearer %s' https://example.com" % TOKEN, "apt-get update",
                   "/usr/bin/curl https://user:%s@example.com/x" % TOKEN)
    text = evidence("BW-012", state([container("hardened", top=top)], options=PROCESS_CHECKS))
    assert text == "package managers or downloaders running: apt-get (1), curl (2), among 4 processes"
    assert TOKEN not in text and "example.com" not in text


def test_bw_012_does_not_count_the_containers_own_health_check():
    exec_form = container("hostnet", {"Config.Healthcheck": {"Test": ["CMD", "curl", "-f", "http://localhost:8080/"]}},
                          top=top_with("curl -f http://localhost:8080/"))
    audit = state([exec_form], options=PROCESS_CHECKS)
    assert status("BW-012", audit) == "pass"
    assert "(1 health-check process not counted)" in evidence("BW-012", audit)
    shell_form = container("hostnet", {"Config.Healthcheck": {"Test": ["CMD-SHELL", "curl -f  http://localhost/ || exit 1"]}},
                           top=top_with("/bin/sh -c curl -f  http://localhost/ || exit 1", "curl -f http://localhost/"))
    assert status("BW-012", state([shell_form], options=PROCESS_CHECKS)) == "pass"
    # A different download in the same container still fails.
    fetching = container("hostnet", {"Config.Healthcheck": {"Test": ["CMD", "curl", "-f", "http://localhost/"]}},
                         top=top_with("curl -f http://localhost/", "curl -o /tmp/x https://example.com/x"))
    assert status("BW-012", state([fetching], options=PROCESS_CHECKS)) == "fail"


def test_bw_012_needs_process_checks_and_a_running_container():
    curl = top_with("curl https://example.com")
    assert status("BW-012", state([container("hardened", top=curl)])) == "skipped"
    assert "needs process_checks: true" in evidence("BW-012", state([container("hardened", top=curl)]))
    assert status("BW-012", state([container("stopped")], options=PROCESS_CHECKS)) == "skipped"
    assert status("BW-012", state([container("hardened")], options=PROCESS_CHECKS)) == "skipped"  # top not gathered


# --- BW-013: binaries and libraries changed inside the container (one `docker diff` per running container) ---

DRIFT_CHECKS = AuditOptions(drift_checks=True)


def test_bw_013_passes_without_changes_under_the_code_directories():
    assert status("BW-013", state([container("hostnet", diff=[])], options=DRIFT_CHECKS)) == "pass"
    # The real diff of the insecure fixture (bind mount points), and changes outside the code directories.
    elsewhere = extras()["diff"]["insecure"] + [
        {"Path": "/tmp", "Kind": 0}, {"Path": "/tmp/bin", "Kind": 1}, {"Path": "/usr/share/doc/x", "Kind": 1},
        {"Path": "/usr/libexec/x", "Kind": 1}, {"Path": "/binary", "Kind": 1}, {"Path": "/var/lib/app.db", "Kind": 0}]
    assert status("BW-013", state([container("insecure", diff=elsewhere)], options=DRIFT_CHECKS)) == "pass"


def test_bw_013_fails_on_added_changed_and_deleted_binaries_and_libraries():
    diff = [{"Path": "/usr", "Kind": 0}, {"Path": "/usr/local", "Kind": 0}, {"Path": "/usr/local/bin", "Kind": 1},
            {"Path": "/usr/local/bin/miner", "Kind": 1}, {"Path": "/bin", "Kind": 0}, {"Path": "/bin/sleep", "Kind": 0},
            {"Path": "/lib/x86_64-linux-gnu", "Kind": 0}, {"Path": "/lib/x86_64-linux-gnu/libc.so.6", "Kind": 0},
            {"Path": "/usr/sbin/nologin", "Kind": 2}]
    audit = state([container("hostnet", diff=diff)], options=DRIFT_CHECKS)
    assert status("BW-013", audit) == "fail"
    assert evidence("BW-013", audit) == (
        "binaries or libraries differ from the image: 1 added, 2 changed, 1 deleted: added /usr/local/bin/miner, "
        "changed /bin/sleep, changed /lib/x86_64-linux-gnu/libc.so.6, deleted /usr/sbin/nologin")
    # A changed directory with nothing below it in the diff is a change of its own (mode, owner).
    assert status("BW-013", state([container("hostnet", diff=[{"Path": "/usr/local/bin", "Kind": 0}])],
                                  options=DRIFT_CHECKS)) == "fail"


@pytest.mark.parametrize("path", ["/sbin/x", "/usr/sbin/x", "/usr/local/sbin/x", "/lib64/ld.so", "/usr/lib64/x.so",
                                  "/usr/lib/python3/dist-packages/x.py", "/usr/local/lib/libevil.so", "/usr/bin/x",
                                  "//usr/bin/./x", "/usr/local/bin/../bin/x"])
def test_bw_013_every_code_directory_in_normalised_spelling(path):
    audit = state([container("hostnet", diff=[{"Path": path, "Kind": 1}])], options=DRIFT_CHECKS)
    assert status("BW-013", audit) == "fail"


def test_bw_013_counts_at_most_five_examples():
    diff = [{"Path": "/usr/bin/tool%d" % n, "Kind": 1} for n in range(7)]
    text = evidence("BW-013", state([container("hostnet", diff=diff)], options=DRIFT_CHECKS))
    assert text.startswith("binaries or libraries differ from the image: 7 added: added /usr/bin/tool0")
    assert text.endswith("added /usr/bin/tool4, ...")


def test_bw_013_ignores_mount_points_docker_creates_under_code_directories():
    mounted = container("hostnet", {"Mounts": [{"Type": "bind", "Source": "/opt/tool", "Destination": "/usr/local/bin/tool",
                                                "RW": False}]},
                        diff=[{"Path": "/usr/local/bin", "Kind": 0}, {"Path": "/usr/local/bin/tool", "Kind": 1}])
    assert status("BW-013", state([mounted], options=DRIFT_CHECKS)) == "pass"


def test_bw_013_needs_drift_checks_and_a_gathered_diff():
    tampered = [{"Path": "/bin/sleep", "Kind": 0}]
    without = state([container("hostnet", diff=tampered)])
    assert status("BW-013", without) == "skipped"
    assert "needs drift_checks: true" in evidence("BW-013", without)
    assert evidence("BW-013", state([container("stopped")], options=DRIFT_CHECKS)) == "container not running"
    # BW-004 and BW-013 read the same diff of an immutable container.
    both = state([container("hardened", diff=tampered)], options=DRIFT_CHECKS)
    assert status("BW-004", both) == "fail" and status("BW-013", both) == "fail"
