# -*- coding: utf-8 -*-
"""4.2, 4.4 and 4.9 on real inputs: base images the Engine does not record, build dates that are not ages, and the
base image's rootfs ADD as builders really write it (fixtures/history_bases.json, fixtures/image_dates.json)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, ImageView
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import cis4_images

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, image, load, state, status

BASES = load("history_bases.json")
DATES = load("image_dates.json")
BUILDERS = ["classic", "buildkit"]


# --- 4.9: the base image's rootfs ADD is the oldest entry that writes files, whatever metadata precedes it ---

@pytest.mark.parametrize("builder", BUILDERS)
def test_4_9_an_ubuntu_style_base_with_arg_and_label_before_its_rootfs_passes(builder):
    for name in ("ubuntu_", "ubuntu_app_"):
        audit = state(images=[image(history=BASES[name + builder])])
        assert status("4.9", audit) == "pass", (name, evidence("4.9", audit))


@pytest.mark.parametrize("builder", BUILDERS)
def test_4_9_an_oldest_add_of_a_url_is_no_rootfs(builder):
    audit = state(images=[image(history=BASES["add_url_" + builder])])
    assert status("4.9", audit) == "warn", evidence("4.9", audit)
    text = evidence("4.9", audit)
    assert "history entries %d (into /)" % (len(BASES["add_url_" + builder]) - 1) in text
    assert "127.0.0.1" not in text and "rootfs.tar" not in text


def test_4_9_an_add_after_the_rootfs_still_warns_behind_the_metadata():
    # Metadata entries before the rootfs do not make a later ADD into / a rootfs.
    history = [{"CreatedBy": "ADD extra.tar / # buildkit", "Size": 2}] + BASES["ubuntu_buildkit"]
    audit = state(images=[image(history=history)])
    assert status("4.9", audit) == "warn"
    assert "history entries 0 (into /)" in evidence("4.9", audit)


# --- 4.4: a build date is an age only when it is a build time ---

NOW = datetime.datetime(2026, 12, 1, tzinfo=datetime.timezone.utc)


@pytest.fixture
def now(monkeypatch):
    monkeypatch.setattr(cis4_images, "_now", lambda: NOW)


def dated(name, with_history=True):
    real = DATES[name]
    return image({"Created": real["inspect"]["Created"]}, history=real["history"] if with_history else None)


@pytest.mark.parametrize("name", ["epoch", "undated"])
@pytest.mark.parametrize("with_history", [True, False])
def test_4_4_the_unix_epoch_or_no_date_is_not_an_age(now, name, with_history):
    audit = state(images=[dated(name, with_history)])
    assert status("4.4", audit) == "info", evidence("4.4", audit)
    text = evidence("4.4", audit)
    assert "not a build time" in text and "days" not in text


def test_4_4_a_source_date_epoch_stamp_is_not_an_age(now):
    audit = state(images=[dated("sde")])
    assert status("4.4", audit) == "info"
    assert "SOURCE_DATE_EPOCH" in evidence("4.4", audit) and "days ago" not in evidence("4.4", audit)


def test_4_4_a_real_build_time_is_an_age_and_says_it_is_not_a_patch_level(now):
    recent = state(images=[image({"Created": "2026-11-23T12:38:08.222599349Z"})])
    assert status("4.4", recent) == "pass"
    assert "not its patch level" in evidence("4.4", recent)
    old = state(images=[image({"Created": "2025-01-02T03:04:05.5Z"})])
    assert status("4.4", old) == "warn"
    assert "built 697 days ago (2025-01-02)" in evidence("4.4", old)


# --- 4.2: the base image is not in the Engine's data, unless a local image's layers are this one's first ---

DIGEST = "sha256:" + "b" * 64
BASE_IMAGES = load("base_images.json")
TRUSTED = AuditOptions(trusted_registries=["127.0.0.1:15731"])


def real_images(*names):
    return [ImageView(BASE_IMAGES[name]) for name in names]


@pytest.mark.parametrize("repo_digests", [[], ["registry.example.com/base/debian@" + DIGEST],
                                          ["docker.io/library/debian@" + DIGEST]])
@pytest.mark.parametrize("allowlist", [None, ["registry.example.com"]])
def test_4_2_says_the_base_image_is_not_recorded_instead_of_judging_the_origin(repo_digests, allowlist):
    audit = state(images=[image({"RepoDigests": repo_digests})], options=AuditOptions(trusted_registries=allowlist))
    assert status("4.2", audit) == "info"
    text = evidence("4.2", audit)
    assert "does not record its base image" in text
    assert ("BW-006" in text) == bool(allowlist)


def test_4_2_quotes_a_declared_base_as_unverified():
    declared = image({"Config.Labels": {"org.opencontainers.image.base.name": "docker.io/library/debian:bookworm"}})
    text = evidence("4.2", state(images=[declared]))
    assert "declares docker.io/library/debian:bookworm" in text and "unverified" in text


def test_4_2_a_local_image_from_a_trusted_registry_whose_layers_begin_this_one_is_its_base():
    audit = state(images=real_images("app", "base", "sleeper", "app_local"), options=TRUSTED)
    target = BASE_IMAGES["app"]["RepoTags"][0]
    assert status("4.2", audit, target=target) == "pass", evidence("4.2", audit, target=target)
    assert "127.0.0.1:15731/bwvd/base (its 2 layers are this image's first of 3)" in evidence("4.2", audit, target=target)


def test_4_2_a_base_proven_from_an_untrusted_registry_fails():
    audit = state(images=real_images("app", "base"), options=AuditOptions(trusted_registries=["registry.example.com"]))
    assert status("4.2", audit, target=BASE_IMAGES["app"]["RepoTags"][0]) == "fail"


def test_4_2_a_base_without_a_registry_digest_proves_no_trusted_source():
    # app_local's first layer is the imported sleeper's: a base, but from no registry.
    audit = state(images=real_images("app_local", "sleeper", "base"), options=TRUSTED)
    target = BASE_IMAGES["app_local"]["RepoTags"][0]
    assert status("4.2", audit, target=target) == "info"
    assert "bulwark-test/sleeper" in evidence("4.2", audit, target=target)
    assert "no registry digest" in evidence("4.2", audit, target=target)
