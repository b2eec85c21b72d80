# -*- coding: utf-8 -*-
"""The writable layer: which of its changes a replacement would lose or undo, and the refusal that names them."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.layer import (
    SHOWN_PATHS, changes_at_risk, is_disposable, layer_refusal, mount_points,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import DISPOSABLE_PATHS

from remediate_fixtures import neighbours, web_inspect


def test_the_donors_real_changes_keep_what_the_service_wrote_and_deleted():
    data = neighbours()
    # /srv/orders/1.json added, /etc/group deleted; /tmp/t and /var/cache/app/c are disposable; /scratch (tmpfs),
    # /shared (anonymous volume) are mount points; /srv, /etc, /data, /var... only hold listed entries.
    assert changes_at_risk(data["donor_changes"], data["donor"], DISPOSABLE_PATHS) == [
        ("deleted", "/etc/group"), ("added", "/srv/orders/1.json"), ("added", "/data/deep")]


def test_an_empty_directory_the_service_made_counts():
    # /data/deep above: an added directory with nothing below it is something the service made.
    assert changes_at_risk([{"Kind": 1, "Path": "/data/deep"}], {}, DISPOSABLE_PATHS) == [("added", "/data/deep")]


def test_nothing_is_at_risk_in_an_untouched_layer():
    assert changes_at_risk([], web_inspect(), DISPOSABLE_PATHS) == []
    assert changes_at_risk(None, web_inspect(), DISPOSABLE_PATHS) == []


def test_mount_points_of_every_kind_and_the_working_directory():
    inspect = web_inspect({"Config.WorkingDir": "/srv/app", "HostConfig.Tmpfs": {"/run": "", "/cache/": "size=1m"}})
    assert {"/etc/shop", "/var/log/shop", "/srv/media", "/var/cache/shop", "/run", "/cache", "/srv/app"} <= mount_points(inspect)


def test_the_engine_made_mount_point_parents_are_not_counted():
    inspect = web_inspect({"Config.WorkingDir": ""})
    changes = [{"Kind": 0, "Path": "/srv"}, {"Kind": 1, "Path": "/srv/media"}, {"Kind": 1, "Path": "/etc/shop"},
               {"Kind": 0, "Path": "/var"}, {"Kind": 1, "Path": "/var/log"}, {"Kind": 1, "Path": "/var/log/shop"}]
    assert changes_at_risk(changes, inspect, []) == []


def test_a_changed_file_and_a_changed_directory_without_entries_below_are_at_risk():
    changes = [{"Kind": 0, "Path": "/etc/nginx/nginx.conf"}, {"Kind": 0, "Path": "/opt"}]
    assert changes_at_risk(changes, {}, DISPOSABLE_PATHS) == [("changed", "/etc/nginx/nginx.conf"), ("changed", "/opt")]


@pytest.mark.parametrize("path", [
    "/tmp", "/tmp/a/b", "/var/tmp/x", "/run/nginx.pid", "/var/run/app/sock", "/var/lock/x", "/var/cache/apt/pkgcache.bin",
    "/var/lib/apt/lists/deb.debian.org_dists", "/root/.cache/pip/x", "/home/app/.cache/x",
    "/srv/app/__pycache__/m.cpython-311.pyc", "/__pycache__",
])
def test_default_disposable_paths(path):
    assert is_disposable(path, DISPOSABLE_PATHS)


@pytest.mark.parametrize("path", [
    "/tmpfile", "/srv/tmp/x", "/var/lib/postgresql/data/PG_VERSION", "/var/log/app.log", "/home/app/notes",
    "/var/cachex", "/etc/group", "/root/.bash_history", "/var/lib/apt/extended_states",
])
def test_not_disposable_by_default(path):
    assert not is_disposable(path, DISPOSABLE_PATHS)


def test_globs_match_within_a_segment_or_across_segments():
    assert is_disposable("/srv/spool/job/1", ["/srv/spool"])
    assert is_disposable("/srv/a1/spool", ["/srv/a*/spool"]) and not is_disposable("/srv/a/b/spool", ["/srv/a*/spool"])
    assert is_disposable("/srv/a/b/spool/x", ["/srv/**/spool"]) and is_disposable("/srv/spool", ["/srv/**/spool"])
    assert not is_disposable("/srv/spool", []) and not is_disposable("/srv/spool", None)


def test_the_refusal_names_the_paths_and_the_way_out():
    text = layer_refusal([("added", "/srv/orders/1.json"), ("deleted", "/etc/group")])
    assert text == ("its writable layer holds what a replacement would lose or undo (added /srv/orders/1.json, "
                    "deleted /etc/group): move that data to a volume, or name the paths in policy.disposable_paths "
                    "if they may go")
    assert layer_refusal([]) is None


def test_the_refusal_names_the_first_paths_and_counts_the_rest():
    at_risk = [("added", "/srv/f%02d" % index) for index in range(SHOWN_PATHS + 5)]
    text = layer_refusal(at_risk)
    assert "/srv/f09" in text and "/srv/f10" not in text and "and 5 more)" in text


def test_a_path_that_holds_a_token_is_masked():
    token = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789"
    assert token not in layer_refusal([("added", "/srv/" + token)])
