# -*- coding: utf-8 -*-
"""5.3, 5.6 and 5.28 on real inspect data (fixtures/container_verdicts.json says how each was made): an unconfined
SELinux type, named volumes bound to host directories, and what a local tag can and cannot tell about the newest
image."""

from __future__ import annotations

import copy
import types

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ContainerView, ImageView

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import evidence, load, state, status

REAL = load("container_verdicts.json")
SELINUX = {"SecurityOptions": ["name=seccomp,profile=default", "name=selinux"]}


def real_container(rule_id, name, **changes):
    inspect = copy.deepcopy(REAL[rule_id]["containers"][name])
    inspect.update(changes)
    return ContainerView(inspect)


# --- 5.3: a label of an unconfined SELinux type confines nothing ---

@pytest.mark.parametrize("label_type", ["spc_t", "unconfined_t", "container_runtime_t"])
def test_5_3_an_unconfined_selinux_type_fails(label_type):
    # dockerd keeps the generated label and swaps in the type the option asks for.
    spc = real_container("5.3", "spc_t", ProcessLabel="system_u:system_r:%s:s0:c412,c703" % label_type)
    audit = state([spc], info_changes=SELINUX)
    assert status("5.3", audit) == "fail"
    assert "%s is an unconfined SELinux type" % label_type in evidence("5.3", audit)


def test_5_3_the_requested_type_counts_before_a_process_label_exists():
    audit = state([real_container("5.3", "spc_t")], info_changes=SELINUX)  # created, never started: no label yet
    assert status("5.3", audit) == "fail"
    assert "label=type:spc_t" in evidence("5.3", audit)


def test_5_3_the_confined_container_type_passes():
    confined = real_container("5.3", "spc_t", ProcessLabel="system_u:system_r:container_t:s0:c412,c703")
    confined.inspect["HostConfig"]["SecurityOpt"] = []
    assert status("5.3", state([confined], info_changes=SELINUX)) == "pass"


# --- 5.6: a named volume of the local driver bound to a host directory is a bind mount of it ---

VOLUMES = types.MappingProxyType(dict((volume["Name"], volume) for volume in REAL["5.6"]["volumes"]["Volumes"]))


def volume_state(name, volumes=VOLUMES):
    audit = state([real_container("5.6", name)])
    audit.volumes = volumes
    return audit


def test_5_6_a_local_volume_bound_to_etc_fails():
    audit = volume_state("etc")
    assert status("5.6", audit) == "fail"
    assert "/etc:/host-etc:rw (volume bwvd-etc)" in evidence("5.6", audit)
    assert "/srv" not in evidence("5.6", audit)  # the other bound volume is no system directory


def test_5_6_a_read_only_bind_option_makes_it_a_read_only_mount():
    # o=ro,bind: the container mounts it rw, but the bind itself is read-only.
    audit = volume_state("etc_ssh")
    assert status("5.6", audit) == "warn"
    assert "/etc/ssh:/ssh:ro (volume bwvd-etc-ssh)" in evidence("5.6", audit)


def test_5_6_without_the_volume_list_it_says_what_it_could_not_read():
    audit = volume_state("etc", volumes=None)
    assert status("5.6", audit) == "pass"
    assert "4 named volumes' host paths not read" in evidence("5.6", audit)


# --- 5.28: a tag that moved proves an old image; a tag that did not proves nothing about the registry ---

IMAGES_5_28 = REAL["5.28"]["images"]


def tag_state(container_name, image_name):
    return state([real_container("5.28", container_name)], images=[ImageView(IMAGES_5_28[image_name])])


def test_5_28_a_pulled_image_its_tag_still_names_is_not_proven_newest():
    audit = tag_state("tag", "pulled")
    assert status("5.28", audit) == "info"
    assert "registry was not asked" in evidence("5.28", audit)


def test_5_28_a_digest_reference_is_not_proven_newest_either():
    audit = tag_state("digest", "pulled")
    assert status("5.28", audit) == "info"
    assert "registry was not asked" in evidence("5.28", audit)


def test_5_28_the_tag_moved_here_so_the_container_runs_an_older_image():
    audit = tag_state("tag", "pulled_after")
    assert status("5.28", audit) == "fail"
    assert "127.0.0.1:15731/bwvd/app:1 now names another image" in evidence("5.28", audit)


def test_5_28_an_image_only_built_here_is_the_newest_its_tag_names():
    audit = state([real_container("5.28", "local")], images=[ImageView(IMAGES_5_28["local"])])
    assert status("5.28", audit) == "pass"
    assert "built or imported here" in evidence("5.28", audit)
