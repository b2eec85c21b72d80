# -*- coding: utf-8 -*-
"""The rules that look for secrets (BW-001, BW-002, BW-003, BW-011, 4.10) judge by meaning, not entropy.

secret_lookalike_images.json holds two real images (inspect and history, Docker 20.10): one sets
paths, a fingerprint, a version, a *_FILE pointer, a long WORKDIR and OCI labels - the old entropy
heuristic failed BW-001, BW-003, BW-011 and 4.10 on them as high - and one sets secrets in the forms
the old heuristic missed (JSON, -D options, base64: keys, a Redis URL without user, an htpasswd label,
a build argument). Failing evidence says what kind of secret under which name and how long, never the value.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ImageView

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import container, evidence, load, state, status

IMAGES = load("secret_lookalike_images.json")
# Every secret value set in the 'secrets' image: none may show in any evidence, nor a piece of it.
SECRET_VALUES = ["Spr1ng-S3cret-8", "J4va-0pts-pw", "AzSKmSTryU5IcfNfqYxLWkQ15vMQYHbx1G62JBU1m2k=", "R3d1s-pw-19",
                 "H6uskkkW", "n/x.iHIEApS2JB72hHUNo0", "npm_qTODgIOYKncMkrWKyubnIFZebUYFoQM5llkO", "qTODgIOYKncM"]


def image(name):
    return ImageView(IMAGES[name]["image"], history=IMAGES[name]["history"])


def audited(name):
    """The image, and a container of another image that sets the same environment and labels itself."""
    config = IMAGES[name]["image"]["Config"]
    own = container("hardened", {"Config.Env": config["Env"], "Config.Labels": config["Labels"]})
    return state([own], images=[image(name)])


def test_paths_versions_digests_and_pointers_pass_every_secret_rule():
    audit = audited("paths")
    for rule in ("BW-001", "BW-002", "BW-003", "BW-011", "4.10"):
        assert status(rule, audit) == "pass", (rule, evidence(rule, audit))


def test_the_old_heuristics_false_positives_are_in_the_fixture():
    # What the old entropy heuristic flagged, so that the test above proves something.
    config = IMAGES["paths"]["image"]["Config"]
    assert "JAVA_HOME=/usr/lib/jvm/java-17-openjdk-amd64" in config["Env"]
    assert config["WorkingDir"] == "/srv/shop/releases/20250314T101500Z-yKQoNAhTmJ2U/current/public/assets"
    assert any("WORKDIR /srv/shop/releases/" in entry["CreatedBy"] for entry in IMAGES["paths"]["history"])


def test_secrets_in_forms_the_old_heuristic_missed_fail_the_image_rules_naming_kind_key_and_length():
    audit = audited("secrets")
    config = IMAGES["secrets"]["image"]["Config"]
    values = dict(entry.split("=", 1) for entry in config["Env"])
    shown = evidence("BW-003", audit)
    assert status("BW-003", audit) == "fail"
    for name, reason in (("SPRING_APPLICATION_JSON", "password under the key password"),
                         ("JAVA_OPTS", "password under the key Dspring.datasource.password"),
                         ("APP_KEY", "application key (base64:)"),
                         ("REDIS_URL", "password in a redis URL")):
        assert "%s=<masked, %d chars> (%s)" % (name, len(values[name]), reason) in shown
    label = "traefik.http.middlewares.admin-auth.basicauth.users"
    assert "%s=<masked, %d chars> (password hash (htpasswd))" % (label, len(config["Labels"][label])) in shown
    history = evidence("BW-011", audit)
    assert status("BW-011", audit) == "fail"
    assert "NPM_TOKEN=<masked, 40 chars> (npm token)" in history
    assert "<word>=<masked, 15 chars> (password under the key password)" in history  # the JSON of an ENV spans words
    assert status("4.10", audit) == "fail"
    for rule in ("BW-003", "BW-011", "4.10"):
        assert not [value for value in SECRET_VALUES if value in evidence(rule, audit)]


def test_a_container_setting_the_same_secrets_itself_fails_bw_001_and_bw_002():
    config = IMAGES["secrets"]["image"]["Config"]
    own = container("hardened", {"Config.Env": config["Env"], "Config.Labels": config["Labels"]})
    audit = state([own])
    assert status("BW-001", audit) == "fail" and status("BW-002", audit) == "fail"
    for rule in ("BW-001", "BW-002"):
        assert not [value for value in SECRET_VALUES if value in evidence(rule, audit)]
    assert "REDIS_URL=<masked, 33 chars> (password in a redis URL)" in evidence("BW-001", audit)
