# -*- coding: utf-8 -*-
"""The remediation policy: sizes, validation naming the field, overrides in order, exemptions."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.policy import (
    DISPOSABLE_PATHS, POLICY_FIELDS, Policy, PolicyError, Selector, clean_policy, default_policy, parse_size,
)

MIB = 1024 ** 2
GIB = 1024 ** 3
KNOWN_RULES = ("5.2", "5.10", "5.11", "5.12", "5.29", "BW-008")
TODAY = datetime.date(2026, 11, 25)


# --- sizes ------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    ("512m", 512 * MIB),
    ("512M", 512 * MIB),
    ("1g", GIB),
    ("1G", GIB),
    ("1gb", GIB),
    ("64MiB", 64 * MIB),
    ("64mib", 64 * MIB),
    ("2GiB", 2 * GIB),
    ("100k", 100 * 1024),
    ("4096", 4096),
    ("4096b", 4096),
    (" 256 m ", 256 * MIB),
    (536870912, 512 * MIB),
    ("536870912", 512 * MIB),
])
def test_parse_size_forms(value, expected):
    assert parse_size(value, "policy.memory") == expected


@pytest.mark.parametrize("value", ["", "lots", "1.5g", "1t", "-512m", "m", "512 mm", True, False, None, 1.5, [512]])
def test_parse_size_refuses_bad_values_naming_the_field(value):
    with pytest.raises(PolicyError, match=r"^policy\.memory: expected a size such as 512m or 1g"):
        parse_size(value, "policy.memory")


def test_a_negative_memory_swap_other_than_minus_one_is_refused_as_an_int_too():
    with pytest.raises(PolicyError, match=r"policy\.memory_swap"):
        clean_policy({"memory_swap": -2})


def test_memory_swap_accepts_minus_one_as_text_and_int():
    assert clean_policy({"memory_swap": "-1"}) == {"memory_swap": -1}
    assert clean_policy({"memory_swap": -1}) == {"memory_swap": -1}
    assert clean_policy({"memory_swap": "2g"}) == {"memory_swap": 2 * GIB}


def test_memory_below_6m_is_refused():
    with pytest.raises(PolicyError, match=r"^policy\.memory: dockerd refuses memory limits below 6m"):
        clean_policy({"memory": "4m"})
    assert clean_policy({"memory": "6m"}) == {"memory": 6 * MIB}


def test_cpu_shares_of_1024_is_refused_as_the_default_weight_5_12_fails():
    # 5.12 counts CpuShares 1024 as no shares set (the weight every container gets): a policy giving it
    # would report the container fixed and leave it failing.
    with pytest.raises(PolicyError, match=r"^policy\.cpu_shares: 1024 is the default weight"):
        clean_policy({"cpu_shares": 1024})
    assert clean_policy({"cpu_shares": 512}) == {"cpu_shares": 512}


# --- validation of fields -----------------------------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("memory", "big", "expected a size"),
    ("memory_swap", "huge", "expected a size"),
    ("memory_headroom", 0, "expected an integer of at least 1"),
    ("memory_headroom", 101, "expected a percentage from 1 to 100"),
    ("memory_headroom", "most", "expected an integer"),
    ("cpu_shares", 0, "expected an integer of at least 1"),
    ("cpu_shares", "1.5", "expected an integer"),
    ("pids_limit", True, "expected an integer"),
    ("pids_limit", -1, "expected an integer of at least 1"),
    ("restart_retries", "three", "expected an integer"),
    ("restart_from_always", "maybe", "expected true or false"),
    ("recreate", 2, "expected true or false"),
    ("cap_add", [1], "expected a list of strings"),
    ("cap_add", {"NET_ADMIN": True}, "expected a list of strings"),
    ("cap_add", ["NET_ADMIN", "cap_fly"], "unknown capabilities FLY"),
    ("tmpfs", ["/tmp", "run"], "expected absolute paths, got run"),
    ("user", "  ", "expected a non-empty string"),
    ("user", 1000, "expected a non-empty string"),
    ("network", "", "expected a non-empty string"),
    ("disposable_paths", ["/tmp", "srv/spool"], "expected absolute paths or globs (such as /srv/spool or **/__pycache__), got srv/spool"),
    ("disposable_paths", [3], "expected a list of strings"),
])
def test_each_bad_value_names_its_field(field, value, message):
    with pytest.raises(PolicyError) as raised:
        clean_policy({field: value})
    assert str(raised.value).startswith("policy.%s: " % field)
    assert message in str(raised.value)


@pytest.mark.parametrize("index", [0, 1])
def test_an_override_error_names_its_index_and_field(index):
    overrides = [{"name": "web*", "policy": {"memory": "1g"}}] * index + [{"name": "db*", "policy": {"memory": "1x"}}]
    with pytest.raises(PolicyError, match=r"^overrides\[%d\]\.policy\.memory: expected a size" % index):
        Policy(overrides=overrides)


def test_a_defaults_error_names_the_field():
    with pytest.raises(PolicyError, match=r"^policy\.pids_limit: expected an integer"):
        Policy(defaults={"pids_limit": "many"})


def test_unknown_fields_are_refused_with_the_known_ones():
    with pytest.raises(PolicyError) as raised:
        clean_policy({"memroy": "1g", "cpus": 2})
    text = str(raised.value)
    assert text.startswith("policy: unknown fields cpus, memroy; known: ")
    assert "memory" in text and "pids_limit" in text


def test_unknown_fields_in_an_override_name_the_override():
    with pytest.raises(PolicyError, match=r"^overrides\[0\]\.policy: unknown fields swap"):
        Policy(overrides=[{"name": "*", "policy": {"swap": "1g"}}])


def test_a_policy_that_is_not_a_dict_is_refused():
    with pytest.raises(PolicyError, match=r"^policy: expected a dict of policy fields"):
        clean_policy(["memory", "1g"])


def test_none_values_are_left_out_and_none_is_an_empty_policy():
    # The module passes every option, unset ones as None.
    assert clean_policy(dict((name, None) for name in POLICY_FIELDS)) == {}
    assert clean_policy(None) == {}


def test_values_are_converted():
    assert clean_policy({"memory": "512m", "cpu_shares": "512", "pids_limit": 100, "recreate": "yes",
                         "restart_from_always": "off", "user": " 1000:1000 ", "tmpfs": "/run"}) == {
        "memory": 512 * MIB, "cpu_shares": 512, "pids_limit": 100, "recreate": True,
        "restart_from_always": False, "user": "1000:1000", "tmpfs": ["/run"]}


def test_capabilities_are_normalised_sorted_and_deduplicated():
    assert clean_policy({"cap_add": ["cap_net_admin", "NET_BIND_SERVICE", "CAP_NET_ADMIN", "chown"]}) == {
        "cap_add": ["CHOWN", "NET_ADMIN", "NET_BIND_SERVICE"]}


def test_all_is_not_a_capability_to_add():
    with pytest.raises(PolicyError, match=r"^policy\.cap_add: unknown capabilities ALL"):
        clean_policy({"cap_add": ["ALL"]})


def test_defaults():
    defaults = default_policy()
    assert defaults["memory"] is None and defaults["memory_swap"] is None
    assert defaults["memory_headroom"] == 80
    assert defaults["restart_retries"] == 5
    assert defaults["recreate"] is False and defaults["restart_from_always"] is False
    assert defaults["cap_add"] == [] and defaults["tmpfs"] == ["/tmp"]
    assert defaults["disposable_paths"] == list(DISPOSABLE_PATHS) and "/tmp" in DISPOSABLE_PATHS
    assert Policy().resolve("web", {}) == defaults


def test_disposable_paths_replace_the_default_per_container():
    policy = Policy(overrides=[{"name": "spooler", "policy": {"disposable_paths": ["/srv/spool", "**/__pycache__"]}}])
    assert policy.resolve("spooler", {})["disposable_paths"] == ["/srv/spool", "**/__pycache__"]
    assert policy.resolve("web", {})["disposable_paths"] == list(DISPOSABLE_PATHS)


# --- selectors and overrides ----------------------------------------------------

def test_an_override_needs_a_name_or_a_label():
    with pytest.raises(PolicyError, match=r"^overrides\[0\]: give `name` \(a glob\) or `label`"):
        Policy(overrides=[{"policy": {"memory": "1g"}}])


def test_an_override_must_be_a_dict():
    with pytest.raises(PolicyError, match=r"^overrides\[0\]: expected a dict"):
        Policy(overrides=["web*"])


@pytest.mark.parametrize("label", ["", "=value"])
def test_a_label_needs_a_key(label):
    with pytest.raises(PolicyError, match=r"^overrides\[0\]\.label: expected key or key=value"):
        Policy(overrides=[{"label": label, "policy": {}}])


def test_later_overrides_win():
    policy = Policy(defaults={"memory": "256m", "pids_limit": 100}, overrides=[
        {"name": "shop-*", "policy": {"memory": "512m", "cpu_shares": 512}},
        {"name": "shop-web-*", "policy": {"memory": "1g"}},
    ])
    resolved = policy.resolve("shop-web-1", {})
    assert resolved["memory"] == GIB
    assert resolved["cpu_shares"] == 512
    assert resolved["pids_limit"] == 100
    assert policy.resolve("shop-db-1", {})["memory"] == 512 * MIB
    assert policy.resolve("other", {})["memory"] == 256 * MIB


def test_resolve_does_not_change_the_defaults():
    policy = Policy(defaults={"memory": "256m"}, overrides=[{"name": "web", "policy": {"memory": "1g"}}])
    policy.resolve("web", {})
    assert policy.resolve("db", {})["memory"] == 256 * MIB


def test_name_glob_and_label_must_both_match():
    policy = Policy(overrides=[{"name": "shop-*", "label": "tier=frontend", "policy": {"pids_limit": 50}}])
    assert policy.resolve("shop-web-1", {"tier": "frontend"})["pids_limit"] == 50
    assert policy.resolve("shop-web-1", {"tier": "backend"})["pids_limit"] is None
    assert policy.resolve("blog-web-1", {"tier": "frontend"})["pids_limit"] is None
    assert policy.resolve("shop-web-1", {})["pids_limit"] is None


def test_a_label_key_matches_any_value():
    selector = Selector(label="com.docker.compose.project")
    assert selector.matches("web", {"com.docker.compose.project": "shop"})
    assert selector.matches("web", {"com.docker.compose.project": ""})
    assert not selector.matches("web", {"com.docker.compose.service": "web"})


def test_a_label_key_value_matches_that_value_only():
    selector = Selector(label="tier=frontend")
    assert selector.matches("web", {"tier": "frontend"})
    assert not selector.matches("web", {"tier": "frontend-2"})
    assert not selector.matches("web", {"tier": ""})
    assert not selector.matches("web", {})


def test_a_label_value_may_hold_an_equals_sign():
    assert Selector(label="opts=a=b").matches("web", {"opts": "a=b"})


def test_an_empty_label_value_matches_an_empty_label():
    selector = Selector(label="tier=")
    assert selector.matches("web", {"tier": ""})
    assert not selector.matches("web", {"tier": "frontend"})


def test_name_globs_are_case_sensitive_fnmatch():
    selector = Selector(name="web-[0-9]")
    assert selector.matches("web-1", {})
    assert not selector.matches("web-10", {})
    assert not selector.matches("WEB-1", {})


def test_an_override_without_policy_changes_nothing():
    assert Policy(overrides=[{"name": "*"}]).resolve("web", {}) == default_policy()


# --- exemptions -----------------------------------------------------------------

def exemptions_policy(*entries, **kwargs):
    return Policy(exemptions=list(entries), known_rules=KNOWN_RULES, today=kwargs.get("today", TODAY))


def test_an_exemption_covers_its_rules_for_matching_containers():
    policy = exemptions_policy({"name": "shop-*", "rules": ["5.10", "5.12"], "reason": " the vendor requires it "})
    assert policy.exemption_for("5.10", "shop-web-1", {}) == "the vendor requires it"
    assert policy.exemption_for("5.12", "shop-db-1", {}) == "the vendor requires it"
    assert policy.exemption_for("5.11", "shop-web-1", {}) is None
    assert policy.exemption_for("5.10", "blog", {}) is None


def test_an_exemption_without_rules_covers_every_rule():
    policy = exemptions_policy({"label": "legacy", "reason": "retired next quarter"})
    assert policy.exemption_for("5.2", "old", {"legacy": "yes"}) == "retired next quarter"
    assert policy.exemption_for("BW-008", "old", {"legacy": "yes"}) == "retired next quarter"
    assert policy.exemption_for("5.2", "new", {}) is None


def test_an_exemption_with_neither_name_nor_label_covers_every_container():
    policy = exemptions_policy({"rules": ["5.29"], "reason": "accepted fleet-wide"})
    assert policy.exemptions[0].selector.name == "*"
    assert policy.exemption_for("5.29", "anything", {}) == "accepted fleet-wide"
    assert policy.exemption_for("5.29", "else", {"a": "b"}) == "accepted fleet-wide"


def test_an_exemption_by_label_only_does_not_match_other_containers():
    policy = exemptions_policy({"label": "tier=db", "rules": ["5.29"], "reason": "forks a lot"})
    assert policy.exemptions[0].selector.name is None
    assert policy.exemption_for("5.29", "db", {"tier": "db"}) == "forks a lot"
    assert policy.exemption_for("5.29", "web", {"tier": "web"}) is None


def test_an_exemption_runs_until_its_expiry_date_included():
    entry = {"rules": ["5.11"], "reason": "load test", "expires": "2026-11-25"}
    assert exemptions_policy(entry, today=TODAY).exemption_for("5.11", "web", {}) == "load test"
    assert exemptions_policy(entry, today=TODAY + datetime.timedelta(days=1)).exemption_for("5.11", "web", {}) is None


def test_an_expired_exemption_no_longer_covers():
    policy = exemptions_policy({"rules": ["5.11"], "reason": "load test", "expires": "2026-11-01"})
    assert policy.exemption_for("5.11", "web", {}) is None


def test_an_expiry_date_from_yaml_is_accepted():
    # Unquoted YAML dates arrive as datetime.date.
    policy = exemptions_policy({"rules": ["5.11"], "reason": "r", "expires": datetime.date(2027, 1, 31)})
    assert policy.exemptions[0].expires == datetime.date(2027, 1, 31)


@pytest.mark.parametrize("expires", ["25.11.2026", "2026-13-01", "soon"])
def test_a_bad_expiry_date_is_refused(expires):
    with pytest.raises(PolicyError, match=r"^exemptions\[0\]\.expires: expected YYYY-MM-DD"):
        exemptions_policy({"rules": ["5.11"], "reason": "r", "expires": expires})


def test_the_first_covering_exemption_gives_the_reason():
    policy = exemptions_policy({"name": "web", "rules": ["5.11"], "reason": "first"},
                               {"name": "*", "rules": ["5.11"], "reason": "second"})
    assert policy.exemption_for("5.11", "web", {}) == "first"
    assert policy.exemption_for("5.11", "db", {}) == "second"


def test_an_expired_exemption_lets_a_later_one_cover():
    policy = exemptions_policy({"rules": ["5.11"], "reason": "old", "expires": "2020-01-01"},
                               {"rules": ["5.11"], "reason": "new"})
    assert policy.exemption_for("5.11", "web", {}) == "new"


def test_an_unknown_rule_id_is_refused_with_the_yaml_hint():
    with pytest.raises(PolicyError) as raised:
        exemptions_policy({"name": "web", "rules": ["5.2"], "reason": "r"}, {"name": "db", "rules": [5.1], "reason": "r"})
    text = str(raised.value)
    assert text.startswith("exemptions[1].rules: unknown rule ids 5.1 ")
    assert "5.10 unquoted is 5.1" in text


@pytest.mark.parametrize("reason", [None, "", "   ", 42])
def test_an_exemption_needs_a_reason(reason):
    entry = {"name": "web", "rules": ["5.2"]}
    if reason is not None:
        entry["reason"] = reason
    with pytest.raises(PolicyError, match=r"^exemptions\[0\]\.reason: say why"):
        exemptions_policy(entry)


def test_an_exemption_must_be_a_dict():
    with pytest.raises(PolicyError, match=r"^exemptions\[0\]: expected a dict"):
        exemptions_policy("5.2")


def test_without_known_rules_any_rule_id_is_accepted():
    policy = Policy(exemptions=[{"rules": ["9.99"], "reason": "r"}], today=TODAY)
    assert policy.exemption_for("9.99", "web", {}) == "r"


def test_today_defaults_to_the_current_date():
    assert Policy().today == datetime.date.today()
