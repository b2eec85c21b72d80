# -*- coding: utf-8 -*-
"""Unit tests for host.docker_group (CIS 1.1.2): report without an allowlist, gpasswd -d with one."""

from __future__ import annotations

import collections

from ansible_collections.bulwark.hardening.plugins.module_utils.host import docker_group

User = collections.namedtuple("User", ["pw_name", "pw_gid"])
DOCKER_GID = 105
# The password database: ci's primary group is docker (useradd -g docker ci).
USERS = [User("root", 0), User("alice", 1000), User("mallory", 1001), User("ci", DOCKER_GID)]


def getpwall():
    return list(USERS)


def test_no_group_on_this_host_skips_the_area():
    area = docker_group.plan("docker", None, None, ["alice"], getpwall=getpwall)
    assert area.skipped == "no group docker on this host"
    assert area.actions == [] and not area.changed
    assert area.report == {"group": "docker", "members": []}


def test_without_an_allowlist_members_are_only_reported_in_a_note():
    area = docker_group.plan("docker", DOCKER_GID, ["alice", "mallory"], None, getpwall=getpwall)
    assert area.actions == [] and not area.changed and area.skipped is None
    assert area.notes == ["members of docker (root-equivalent), not changed without an allowlist: alice, mallory"]


def test_without_an_allowlist_an_empty_group_needs_no_note():
    area = docker_group.plan("docker", DOCKER_GID, [], None, getpwall=getpwall)
    assert area.notes == [] and area.actions == []


def test_with_an_allowlist_only_untrusted_supplementary_members_are_removed():
    area = docker_group.plan("docker", DOCKER_GID, ["alice", "bob", "mallory"], ["alice"], getpwall=getpwall)
    assert [action.argv for action in area.actions] == [
        ["gpasswd", "-d", "bob", "docker"], ["gpasswd", "-d", "mallory", "docker"]]
    assert area.report["removed"] == ["bob", "mallory"]
    assert area.changed


def test_allowlist_compares_whole_names():
    area = docker_group.plan("docker", DOCKER_GID, ["bob", "bobby"], ["bob"], getpwall=getpwall)
    assert [action.argv for action in area.actions] == [["gpasswd", "-d", "bobby", "docker"]]


def test_every_member_trusted_means_no_action():
    area = docker_group.plan("docker", DOCKER_GID, ["alice"], ["alice", "carol"], getpwall=getpwall)
    assert area.actions == [] and not area.changed and area.report["removed"] == []


def test_a_member_by_primary_group_is_noted_not_removed_because_gpasswd_cannot():
    area = docker_group.plan("docker", DOCKER_GID, ["alice", "ci"], ["alice"], getpwall=getpwall)
    assert area.actions == []
    assert area.report["removed"] == []
    assert area.notes == ["ci has docker as primary group: change it with usermod -g (not done)"]


def test_the_group_dockerd_names_is_the_one_changed():
    area = docker_group.plan("dockerusers", 2000, ["mallory"], [], getpwall=getpwall)
    assert [action.argv for action in area.actions] == [["gpasswd", "-d", "mallory", "dockerusers"]]


def test_primary_members_are_the_users_whose_primary_gid_it_is():
    assert docker_group.primary_members(DOCKER_GID, getpwall) == ["ci"]
    assert docker_group.primary_members(4242, getpwall) == []
