# -*- coding: utf-8 -*-
"""CIS section 6 rules: image and container sprawl, from the image list and the list of every container."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.operations_state import status_age
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis6_operations import SPRAWL_WARN_ABOVE

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, load, operations, state, status


def with_operations(facts):
    audit_state = state()
    audit_state.operations = facts
    return audit_state


def fixture_lists():
    data = load("operations.json")
    return data["images"], data["containers"]


def clones(summary, count, key, prefix):
    """count copies of a summary with distinct ids (and names, for containers)."""
    made = []
    for number in range(count):
        clone = copy.deepcopy(summary)
        clone[key] = "%s%s-%d" % (prefix, clone[key][:20], number)
        if "Names" in clone:
            clone["Names"] = ["/%s-%d" % (clone["Names"][0].lstrip("/"), number)]
        made.append(clone)
    return made


# --- 6.1 image sprawl ------------------------------------------------------------

def test_6_1_every_image_used_passes():
    images, containers = fixture_lists()
    used = set(summary["ImageID"] for summary in containers)
    kept = [summary for summary in images if summary["Id"] in used]
    audit_state = with_operations(operations(images=kept))
    assert status("6.1", audit_state) == "pass"
    assert "all 2 images are used by containers" in evidence("6.1", audit_state)


def test_6_1_some_unused_images_are_info_with_the_numbers_and_the_oldest():
    audit_state = with_operations(operations())
    assert status("6.1", audit_state) == "info"
    said = evidence("6.1", audit_state)
    assert "5 images, 2 used by containers, 3 unused (1 untagged)" in said
    # oldest first, by build date, with its age
    assert said.index("debian:bookworm-slim (built 203 days ago)") < said.index("registry.example.com/shop/app:2.0 (built 41 days ago)")
    assert "untagged" in said


def test_6_1_more_unused_images_than_the_threshold_warns():
    images, containers = fixture_lists()
    many = images + clones(images[1], SPRAWL_WARN_ABOVE, "Id", "sha256:")
    audit_state = with_operations(operations(images=many))
    assert status("6.1", audit_state) == "warn"
    assert "%d unused" % (SPRAWL_WARN_ABOVE + 3) in evidence("6.1", audit_state)
    assert "more than %d unused images" % SPRAWL_WARN_ABOVE in evidence("6.1", audit_state)


def test_6_1_an_image_only_a_stopped_container_uses_is_in_use():
    # redis:7 is only used by the exited cache-old: still in use (CIS: images of running or stopped containers).
    audit_state = with_operations(operations())
    assert "redis:7" not in evidence("6.1", audit_state)


def test_6_1_no_images_passes_and_not_gathered_is_skipped():
    assert status("6.1", with_operations(operations(images=[], containers=[]))) == "pass"
    assert status("6.1", state()) == "skipped"


# --- 6.2 container sprawl ----------------------------------------------------------

def test_6_2_all_running_passes():
    _images, containers = fixture_lists()
    running = [summary for summary in containers if summary["State"] in ("running", "paused")]
    audit_state = with_operations(operations(containers=running))
    assert status("6.2", audit_state) == "pass"
    assert "2 containers: 1 running, 1 paused, 0 stopped" in evidence("6.2", audit_state)


def test_6_2_some_stopped_is_info_longest_stopped_first():
    audit_state = with_operations(operations())
    assert status("6.2", audit_state) == "info"
    said = evidence("6.2", audit_state)
    assert "5 containers: 1 running, 1 paused, 3 stopped (exited 2, created 1)" in said
    assert said.index("cache-old (Exited (0) 3 weeks ago)") < said.index("scratchpad (created 1 day ago, never started)") \
        < said.index("migrate (Exited (1) 2 hours ago)")


def test_6_2_more_stopped_containers_than_the_threshold_warns():
    _images, containers = fixture_lists()
    many = containers + clones(containers[1], SPRAWL_WARN_ABOVE, "Id", "")
    audit_state = with_operations(operations(containers=many))
    assert status("6.2", audit_state) == "warn"
    assert "%d stopped" % (SPRAWL_WARN_ABOVE + 3) in evidence("6.2", audit_state)


def test_6_2_no_containers_passes_and_not_gathered_is_skipped():
    assert status("6.2", with_operations(operations(containers=[]))) == "pass"
    assert status("6.2", state()) == "skipped"


@pytest.mark.parametrize("status_text,seconds", [
    ("Exited (0) Less than a second ago", 0),
    ("Exited (0) 1 second ago", 1),
    ("Exited (137) About a minute ago", 60),
    ("Exited (0) About an hour ago", 3600),
    ("Exited (1) 2 hours ago", 7200),
    ("Exited (0) 3 weeks ago", 21 * 86400),
    ("Exited (0) 14 months ago", 14 * 30 * 86400),
    ("Created", None),
    ("Up 3 days (healthy)", None),
])
def test_docker_ps_status_ages(status_text, seconds):
    assert status_age(status_text) == seconds
