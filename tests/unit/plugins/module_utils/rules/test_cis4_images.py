# -*- coding: utf-8 -*-
"""CIS section 4 rules: container user, content trust, image config and build history."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import HostFacts

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import (
    container, evidence, extras, findings, image, load, state, status,
)

# `docker history` CreatedBy lines as the classic builder and BuildKit write them.
BASE_LAYER = "/bin/sh -c #(nop) ADD file:5d68d27cc15a80653c93d3a0b262a28112d47a46326ff5fc2dfbf7fa3b9a0ce8 in / "
UPDATE_ALONE = "/bin/sh -c apt-get update"
UPDATE_AND_INSTALL = "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends curl # buildkit"
ADD_URL = "ADD https://example.com/tool.tar.gz /opt/ # buildkit"
COPY = "COPY app /app # buildkit"


def history(*commands):
    return [{"CreatedBy": command} for command in commands]


@pytest.mark.parametrize("user,expected", [
    ("65534:65534", "pass"), ("app", "pass"), ("1000", "pass"),
    ("", "fail"), ("root", "fail"), ("0", "fail"), ("0:1000", "fail"), ("root:root", "fail"),
])
def test_4_1_container_user(user, expected):
    assert status("4.1", state([container("hardened", {"Config.User": user})])) == expected


def test_4_1_real_fixtures():
    assert status("4.1", state([container("hardened")])) == "pass"
    assert status("4.1", state([container("insecure")])) == "fail"


def test_4_5_content_trust():
    assert status("4.5", state(host=HostFacts(content_trust=["/etc/profile.d/docker-content-trust.sh"]))) == "pass"
    assert status("4.5", state(host=HostFacts())) == "fail"


def test_4_5_says_harden_leaves_it_off_where_running_containers_use_local_images():
    local = image({"RepoDigests": []})
    found = findings("4.5", state(containers=[container("hardened")], images=[local], host=HostFacts()))[0]
    assert found.status == "fail"
    assert "1 running container uses an image built or imported on this host" in found.left_open and "no registry origin" in found.left_open


def test_4_5_without_local_images_in_use_is_a_plain_failure():
    pulled = image({"RepoDigests": ["debian@sha256:" + "a" * 64]})
    found = findings("4.5", state(containers=[container("hardened")], images=[pulled], host=HostFacts()))[0]
    assert (found.status, found.left_open) == ("fail", None)


def test_4_6_image_healthcheck():
    assert status("4.6", state()) == "fail"  # the real fixture image has none
    healthy = image({"Config.Healthcheck": {"Test": ["CMD", "/bin/sleep", "0"]}})
    assert status("4.6", state(images=[healthy])) == "pass"
    disabled = image({"Config.Healthcheck": {"Test": ["NONE"]}})
    assert status("4.6", state(images=[disabled])) == "fail"


def test_4_7_update_alone():
    assert status("4.7", state(images=[image(history=extras()["history"])])) == "pass"
    assert status("4.7", state(images=[image(history=history(UPDATE_AND_INSTALL, BASE_LAYER))])) == "pass"
    lone = state(images=[image(history=history(UPDATE_ALONE, BASE_LAYER))])
    assert status("4.7", lone) == "warn"
    assert "apt-get update" in evidence("4.7", lone)


def test_4_9_add_instead_of_copy():
    assert status("4.9", state(images=[image(history=history(COPY, BASE_LAYER))])) == "pass"
    added = state(images=[image(history=history(COPY, ADD_URL, BASE_LAYER))])
    assert status("4.9", added) == "warn"
    assert "example.com" not in evidence("4.9", added)  # sources may carry tokens


# Real `docker history` of images built by dockerd 20.10 from one Dockerfile pair, with the classic
# builder and with BuildKit: a base `FROM scratch` + `ADD rootfs.tar /`, and on it
# `ADD app.tar.gz /opt/`, `ADD extra.tar /`, `COPY hello.txt /etc/hello.txt`, `RUN echo hi > /tmp/x`.
@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_4_9_base_images_of_both_builders_pass(builder):
    assert status("4.9", state(images=[image(history=load("history.json")[builder + "_base"])])) == "pass"


@pytest.mark.parametrize("builder", ["classic", "buildkit"])
def test_4_9_real_history_of_both_builders_flags_every_add_but_the_base_rootfs(builder):
    audit = state(images=[image(history=load("history.json")[builder])])
    assert status("4.9", audit) == "warn"
    text = evidence("4.9", audit)
    # history is newest first: RUN 0, COPY 1, ADD extra.tar / 2, ADD app.tar.gz /opt/ 3, CMD 4, base rootfs ADD 5.
    assert "in 2 layer(s): history entries 2 (into /), 3 (into /opt/)" in text
    assert "app.tar.gz" not in text and "extra.tar" not in text and "file:" not in text


@pytest.mark.parametrize("commands,expected", [
    # The base rootfs ADD counts only as the OLDEST entry, and only into / itself.
    ([COPY, BASE_LAYER], "pass"),
    ([BASE_LAYER, COPY], "warn"),
    (["/bin/sh -c #(nop) ADD file:5d68d27cc15a in /opt/app "], "warn"),
    (["ADD rootfs.tar /opt # buildkit"], "warn"),
    (["ADD alpine-minirootfs-3.19.1-x86_64.tar.gz / # buildkit"], "pass"),
    (["ADD a.tar b.tar / # buildkit"], "warn"),
    (["/bin/bash -o pipefail -c #(nop) ADD dir:0a1b in /srv "], "warn"),
    (["RUN /bin/sh -c echo ADD x / # buildkit", "COPY app /app # buildkit"], "pass"),
])
def test_4_9_only_the_oldest_rootfs_add_into_slash_is_exempt(commands, expected):
    assert status("4.9", state(images=[image(history=history(*commands))])) == expected


@pytest.mark.parametrize("rule_id", ["4.7", "4.9"])
def test_history_rules_skip_without_image_history(rule_id):
    assert status(rule_id, state()) == "skipped"


@pytest.mark.parametrize("rule_id", ["4.3", "4.11", "4.12"])
def test_manual_rules_report_info(rule_id):
    assert status(rule_id, state()) == "info"


# --- 4.4: rebuilt recently (4.2 and the fixed build dates: test_cis4_verdicts.py) ---

def test_4_4_warns_on_an_image_built_long_ago(monkeypatch):
    import datetime
    from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis4_images
    monkeypatch.setattr(cis4_images, "_now", lambda: datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc))
    assert status("4.4", state(images=[image({"Created": "2026-11-23T12:38:08.222599349Z"})])) == "pass"
    old = state(images=[image({"Created": "2025-01-02T03:04:05Z"})])
    assert status("4.4", old) == "warn"
    assert "built 697 days ago (2025-01-02), more than 90" in evidence("4.4", old)
    assert status("4.4", state(images=[image({"Created": "yesterday"})])) == "skipped"
