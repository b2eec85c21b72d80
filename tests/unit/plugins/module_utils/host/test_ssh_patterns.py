# -*- coding: utf-8 -*-
"""Unit tests for host.ssh_patterns: sshd's wildcards, pattern lists, addresses with CIDR, user@host."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.host import ssh_patterns


@pytest.mark.parametrize("text, pattern, expected", [
    ("deploy", "deploy", True),
    ("deploy", "dep*", True),
    ("deploy", "d?ploy", True),
    ("deploy", "*", True),
    ("deploy", "alice", False),
    ("deploy", "deploy2", False),
    ("deploy", "[d]eploy", False),  # no character classes in sshd's patterns
    ("a.b", "a?b", True),
    ("axb", "a.b", False),  # a dot is a dot
])
def test_wildcards_are_star_and_question_mark_only(text, pattern, expected):
    assert ssh_patterns.wildcard_match(text, pattern) is expected


def test_names_are_compared_with_case_unless_told_otherwise():
    assert not ssh_patterns.wildcard_match("Deploy", "deploy")
    assert ssh_patterns.wildcard_match("Host.Example", "host.*", fold_case=True)


def test_a_negated_entry_wins_over_a_positive_one_whatever_the_order():
    assert ssh_patterns.pattern_list_match("deploy", "*,!deploy") == -1
    assert ssh_patterns.pattern_list_match("deploy", "!deploy,*") == -1
    assert ssh_patterns.pattern_list_match("alice", "*,!deploy") == 1
    assert ssh_patterns.pattern_list_match("alice", "!deploy") == 0


@pytest.mark.parametrize("address, patterns, expected", [
    ("192.0.2.10", "192.0.2.0/24", 1),
    ("192.0.2.10", "192.0.2.10", 1),
    ("192.0.2.10", "192.0.2.*", 1),
    ("192.0.2.10", "198.51.100.0/24", 0),
    ("192.0.2.10", "192.0.2.0/24,!192.0.2.10", -1),
    ("2001:db8::5", "2001:db8::/32", 1),
    ("2001:db8::5", "192.0.2.0/24", 0),
    ("192.0.2.10", "192.0.2.1/24", 1),  # host bits in a CIDR entry are ignored
    ("not-an-address", "*", 0),
])
def test_addresses_match_cidr_plain_and_wildcard_entries(address, patterns, expected):
    assert ssh_patterns.address_list_match(address, patterns) == expected


def test_from_matches_the_address_or_the_host_name_and_a_negation_refuses():
    assert ssh_patterns.host_and_address_match("192.0.2.10", "192.0.2.10", "192.0.2.0/24")
    assert ssh_patterns.host_and_address_match("laptop.example.org", "192.0.2.10", "*.EXAMPLE.org")
    assert not ssh_patterns.host_and_address_match("192.0.2.10", "192.0.2.10", "198.51.100.0/24")
    assert not ssh_patterns.host_and_address_match("192.0.2.10", "192.0.2.10", "*,!192.0.2.0/24")
    assert not ssh_patterns.host_and_address_match(None, None, "192.0.2.0/24")


def test_user_entries_with_a_host_part_need_both_to_match():
    assert ssh_patterns.user_entry_match("deploy", "192.0.2.10", "192.0.2.10", "deploy")
    assert ssh_patterns.user_entry_match("deploy", "192.0.2.10", "192.0.2.10", "dep*@192.0.2.0/24")
    assert not ssh_patterns.user_entry_match("deploy", "192.0.2.10", "192.0.2.10", "deploy@198.51.100.7")
    assert not ssh_patterns.user_entry_match("deploy", "192.0.2.10", "192.0.2.10", "alice@192.0.2.10")
    assert not ssh_patterns.user_entry_match("deploy", None, None, "deploy@192.0.2.10")
