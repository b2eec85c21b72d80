# -*- coding: utf-8 -*-
"""image_audit's rules: image rules over the layer scan and history, and container rules' image forms.

Each rule has a passing and a failing case that differ only in what it reads.
"""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate_images
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import LayerScan
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, image, state, status

SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"
CLEAN_SCAN = LayerScan(files=120)
KEY_FILE = {"path": "/root/.ssh/id_rsa", "kind": "private key", "length": 411}


def scanned(scan, changes=None, history=None):
    view = image(changes, history=history)
    view.scan = scan
    return view


def history(*commands):
    return [{"CreatedBy": command} for command in commands]


def image_findings(audit_state, rule_id):
    return [finding for finding in evaluate_images(catalog.all_rules(), audit_state) if finding.rule.id == rule_id]


def image_status(rule_id, view, options=None):
    found = image_findings(state(images=[view], options=options), rule_id)
    assert len(found) == 1, [(item.target, item.status, item.evidence) for item in found]
    return found[0].status, found[0].evidence


# --- 4.1 in its image form ---------------------------------------------------

@pytest.mark.parametrize("user,expected", [
    ("65534:65534", "pass"), ("app", "pass"), ("1000", "pass"),
    ("", "fail"), ("root", "fail"), ("0", "fail"), ("0:0", "fail"), ("root:1000", "fail"),
])
def test_4_1_image_user(user, expected):
    assert image_status("4.1", image({"Config.User": user}))[0] == expected


def test_4_1_image_form_is_not_evaluated_by_container_audit():
    # container_audit evaluates 4.1 over containers only: no container, no finding.
    from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import findings  # pylint: disable=import-outside-toplevel
    assert findings("4.1", state(images=[image({"Config.User": "root"})])) == []


# --- 4.8 setuid and setgid -----------------------------------------------------

def test_4_8_setuid_and_setgid_files():
    assert status("4.8", state(images=[scanned(CLEAN_SCAN)])) == "pass"
    bits = scanned(LayerScan(setuid=["/usr/bin/su", "/usr/bin/passwd"], setgid=["/usr/bin/chage"], files=50))
    audit = state(images=[bits])
    assert status("4.8", audit) == "fail"
    assert "2 setuid (/usr/bin/su, /usr/bin/passwd); 1 setgid (/usr/bin/chage)" in evidence("4.8", audit)


def test_4_8_counts_beyond_the_listed_paths():
    many = scanned(LayerScan(setuid=["/bin/a%d" % n for n in range(3)], setuid_count=40))
    assert "40 setuid (/bin/a0, /bin/a1, /bin/a2, ...)" in evidence("4.8", state(images=[many]))


def test_4_8_skipped_without_a_layer_scan():
    audit = state()
    assert status("4.8", audit) == "skipped"
    assert "layer_scan" in evidence("4.8", audit)


# --- 4.10 secrets stored by the Dockerfile ------------------------------------------

def test_4_10_decided_from_config_history_and_files():
    clean = scanned(CLEAN_SCAN, history=history("CMD [\"/app\"]"))
    assert status("4.10", state(images=[clean])) == "pass"
    in_history = scanned(CLEAN_SCAN, history=history("ENV DB_PASSWORD=" + SECRET))
    assert status("4.10", state(images=[in_history])) == "fail"
    in_files = scanned(LayerScan(secret_files=[KEY_FILE]), history=[])
    audit = state(images=[in_files])
    assert status("4.10", audit) == "fail"
    assert "1 secret files in the layers (BW-010)" in evidence("4.10", audit)
    assert SECRET not in evidence("4.10", state(images=[in_history]))


def test_4_10_needs_history_or_scan_and_says_what_it_did_not_read():
    assert status("4.10", state()) == "skipped"
    only_history = image(history=history("RUN make"))
    assert status("4.10", state(images=[only_history])) == "pass"
    assert "not read: layer files" in evidence("4.10", state(images=[only_history]))


# --- BW-005 and BW-006 in their image forms -----------------------------------------

DIGEST = "registry.example.com/team/app@sha256:" + "ab" * 32


def test_bw_005_image_form_pinnable_by_digest():
    assert image_status("BW-005", image({"RepoDigests": [DIGEST], "RepoTags": ["registry.example.com/team/app:1.2"]}))[0] == "pass"
    verdict, text = image_status("BW-005", image({"RepoDigests": [], "RepoTags": ["app:latest"]}))
    assert verdict == "fail" and "`latest`: app:latest" in text
    verdict, text = image_status("BW-005", image({"RepoDigests": [], "RepoTags": ["app:1.2"]}))
    assert verdict == "fail" and "mutable tags app:1.2" in text and "latest" not in text
    verdict, text = image_status("BW-005", image({"RepoDigests": None, "RepoTags": ["<none>:<none>"]}))
    assert verdict == "fail" and "untagged" in text


def test_bw_006_image_form_origin_from_repo_digests_only():
    trusted = AuditOptions(trusted_registries=["registry.example.com"])
    assert image_status("BW-006", image({"RepoDigests": [DIGEST]}), trusted)[0] == "pass"
    retagged = image({"RepoDigests": [], "RepoTags": ["registry.example.com/team/app:1.2"]})
    assert image_status("BW-006", retagged, trusted)[0] == "fail"
    other = image({"RepoDigests": ["docker.io/library/debian@sha256:" + "cd" * 32]})
    assert image_status("BW-006", other, trusted)[0] == "fail"
    assert image_status("BW-006", image({"RepoDigests": [DIGEST]}))[0] == "skipped"


def test_image_forms_are_registered_once_and_documented():
    for rule_id in ("4.1", "BW-005", "BW-006"):
        rule = catalog.get(rule_id)
        assert rule.image_evaluate is not None and "image_audit:" in rule.reads


# --- BW-010 secret files -------------------------------------------------------------

def test_bw_010_secret_files_in_layers():
    assert status("BW-010", state(images=[scanned(CLEAN_SCAN)])) == "pass"
    audit = state(images=[scanned(LayerScan(secret_files=[KEY_FILE, {"path": "/app/.env", "kind": ".env file", "length": 40}]))])
    assert status("BW-010", audit) == "fail"
    assert "2 secret files: /root/.ssh/id_rsa (private key, 411 bytes), /app/.env (.env file, 40 bytes)" in evidence("BW-010", audit)


def test_bw_010_skipped_without_a_layer_scan():
    assert status("BW-010", state()) == "skipped"


# --- BW-011 secrets in the build history ----------------------------------------------

@pytest.mark.parametrize("command", [
    "/bin/sh -c #(nop)  ENV DB_PASSWORD=" + SECRET,
    "ENV API_TOKEN=" + SECRET,
    "ARG NPM_TOKEN=" + SECRET,
    "RUN |1 NPM_TOKEN=%s /bin/sh -c npm ci # buildkit" % SECRET,
    "RUN /bin/sh -c curl -u admin --password=%s https://example.com # buildkit" % SECRET,
    "/bin/sh -c git clone https://bot:%s@git.example.com/app.git" % SECRET,
    "RUN /bin/sh -c echo ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 > /token # buildkit",
])
def test_bw_011_history_secrets_fail_and_are_masked(command):
    audit = state(images=[image(history=history("CMD [\"/app\"]", command))])
    assert status("BW-011", audit) == "fail"
    text = evidence("BW-011", audit)
    assert SECRET not in text and "ghp_" not in text
    assert "entry 1" in text and "masked" in text


@pytest.mark.parametrize("command", [
    "RUN /bin/sh -c apt-get update && apt-get install -y curl # buildkit",
    "ENV PATH=/usr/local/bin:/usr/bin LANG=C.UTF-8",
    "ARG NPM_TOKEN",
    "RUN |1 NPM_TOKEN=$NPM_TOKEN /bin/sh -c npm ci # buildkit",
    "RUN --mount=type=secret,id=npm /bin/sh -c npm ci # buildkit",
    "ENV PASSWORD_FILE=/run/secrets/db",
])
def test_bw_011_clean_history_passes(command):
    assert status("BW-011", state(images=[image(history=history(command))])) == "pass"


def test_bw_011_skipped_without_history():
    assert status("BW-011", state()) == "skipped"


def test_evaluate_images_covers_every_image_rule_and_image_form_per_image():
    views = [scanned(CLEAN_SCAN, {"Id": "sha256:" + "1" * 64, "RepoTags": ["a:1"]}, history=[]),
             scanned(CLEAN_SCAN, {"Id": "sha256:" + "2" * 64, "RepoTags": ["b:1"]}, history=[])]
    found = evaluate_images(catalog.all_rules(), state(images=views))
    rule_ids = set(finding.rule.id for finding in found)
    image_rules = set(rule.id for rule in catalog.all_rules() if rule.kind == "image")
    assert rule_ids == image_rules | {"4.1", "BW-005", "BW-006"}
    assert set(finding.target for finding in found) == {"a:1", "b:1"}
    assert len(found) == 2 * len(rule_ids)
