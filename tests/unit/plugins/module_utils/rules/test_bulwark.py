# -*- coding: utf-8 -*-
"""bulwark's own rules (BW-xxx), each with a passing and a failing case."""

from __future__ import annotations

import json

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.effective import DaemonConfig
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.bulwark import split_reference

from rule_fixtures import container, evidence, extras, findings, image, load, state, status

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
def test_split_reference(reference, expected):
    assert split_reference(reference) == expected


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
