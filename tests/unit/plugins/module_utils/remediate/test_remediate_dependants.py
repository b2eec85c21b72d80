# -*- coding: utf-8 -*-
"""Containers that depend on another: found from real inspect data, and the refusal that names them."""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.dependants import dependants_of, dependants_refusal

from remediate_fixtures import neighbour, web

FAMILY = ("donor", "netuser", "linked", "volumes", "hostnet")


def everyone():
    return [neighbour(name) for name in FAMILY] + [web()]


def test_the_donors_dependants_by_namespace_link_and_volumes_from():
    assert dependants_of(neighbour("donor"), everyone()) == [
        ("bwrm-fx-netuser", "network namespace"), ("bwrm-fx-netuser", "IPC namespace"), ("bwrm-fx-netuser", "PID namespace"),
        ("bwrm-fx-linked", "link"), ("bwrm-fx-volumes", "volumes-from"),
    ]


def test_containers_nobody_depends_on():
    for name in ("netuser", "linked", "volumes", "hostnet"):
        assert dependants_of(neighbour(name), everyone()) == [], name
    assert dependants_of(web(), everyone()) == []


def test_references_by_name_full_id_and_id_prefix():
    donor = neighbour("donor")
    by_name = neighbour("volumes", {"HostConfig.VolumesFrom": ["bwrm-fx-donor"]})
    by_prefix = neighbour("linked", {"HostConfig.Links": None, "HostConfig.VolumesFrom": [donor.id[:12] + ":ro"]})
    by_id = neighbour("hostnet", {"HostConfig.NetworkMode": "container:" + donor.id})
    assert dependants_of(donor, [donor, by_name, by_prefix, by_id]) == [
        ("bwrm-fx-volumes", "volumes-from"), ("bwrm-fx-linked", "volumes-from"), ("bwrm-fx-hostnet", "network namespace")]


def test_a_name_that_only_starts_like_it_is_someone_else():
    donor = neighbour("donor")
    other = neighbour("volumes", {"HostConfig.VolumesFrom": ["bwrm-fx-donor-2"]})
    assert dependants_of(donor, [other]) == []


def test_network_aliases_by_name_are_no_dependency():
    # EndpointSettings.Links on a user-defined network resolve by name: a replacement keeps the name.
    assert web().networks["shop_frontend"]["Links"] == ["shop-db-1:db"]
    db = neighbour("donor", {"Name": "/shop-db-1"})
    assert dependants_of(db, [web()]) == []


def test_the_refusal_names_each_dependant_once_with_how():
    text = dependants_refusal(dependants_of(neighbour("donor"), everyone()))
    assert text.startswith("other containers depend on it - bwrm-fx-linked (link), bwrm-fx-netuser (network namespace, "
                           "IPC namespace, PID namespace), bwrm-fx-volumes (volumes-from) - and a replacement would cut "
                           "them off: ")
    assert dependants_refusal([]) is None
