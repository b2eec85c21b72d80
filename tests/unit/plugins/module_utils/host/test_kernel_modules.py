# -*- coding: utf-8 -*-
"""Unit tests for host.kernel_modules: what is never blacklisted (loaded, Docker's), and the file."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.host import kernel_modules

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.host_fixtures import host_env, reader

# /proc/modules as the kernel writes it: name size refcount users state address.
PROC_MODULES = (
    "usb_storage 81920 1 uas, Live 0x0000000000000000\n"
    "sctp 434176 2 - Live 0x0000000000000000\n"
    "overlay 196608 0 - Live 0x0000000000000000\n"
)
MODULES = reader({"/proc/modules": PROC_MODULES})


def plan(blacklist, tmp_path, read=MODULES, env=None):
    return kernel_modules.plan(blacklist, str(tmp_path / "bulwark.conf"), env or host_env(), read=read)


def test_loaded_modules_are_read_by_name_from_proc_modules():
    assert kernel_modules.loaded_modules(MODULES) == {"usb_storage", "sctp", "overlay"}
    assert kernel_modules.loaded_modules(reader({})) == set()


def test_a_loaded_module_is_never_blacklisted_because_it_is_in_use(tmp_path):
    area = plan(["cramfs", "sctp"], tmp_path)
    assert area.report["blacklisted"] == ["cramfs"]
    assert area.report["kept_loaded"] == ["sctp"]
    assert "not blacklisted, loaded now (in use): sctp" in area.notes
    assert "sctp" not in area.files[0].after


def test_dash_and_underscore_name_the_same_loaded_module(tmp_path):
    # modprobe treats usb-storage and usb_storage alike; /proc/modules spells it usb_storage.
    area = plan(["usb-storage", "cramfs"], tmp_path)
    assert area.report["kept_loaded"] == ["usb-storage"]
    assert area.report["blacklisted"] == ["cramfs"]


@pytest.mark.parametrize("name", ["overlay", "br_netfilter", "br-netfilter", "nf_conntrack", "veth", "xt_conntrack",
                                  "xt_MASQUERADE", "bridge", "ip_tables", "iptable_nat", "nf_nat", "vxlan"])
def test_modules_docker_needs_are_never_blacklisted_even_when_not_loaded(tmp_path, name):
    area = plan([name, "cramfs"], tmp_path, read=reader({}))
    assert area.report["kept_for_docker"] == [name]
    assert area.report["blacklisted"] == ["cramfs"]
    assert any(note.startswith("not blacklisted, Docker needs them: ") and name in note for note in area.notes)
    assert ("install %s " % name) not in area.files[0].after


def test_a_name_only_resembling_a_docker_module_is_blacklisted(tmp_path):
    # The Docker list is matched as whole names, not as prefixes.
    area = plan(["overlayfs_extra", "vethx"], tmp_path, read=reader({}))
    assert area.report["blacklisted"] == ["overlayfs_extra", "vethx"]


def test_render_installs_false_and_blacklists_each_name_in_order():
    assert kernel_modules.render(["cramfs", "dccp"]) == (
        kernel_modules.HEADER
        + "install cramfs /bin/false\nblacklist cramfs\n"
        + "install dccp /bin/false\nblacklist dccp\n")


def test_the_planned_file_holds_only_the_chosen_modules_once(tmp_path):
    area = plan(["cramfs", "dccp", "cramfs", "overlay", "sctp"], tmp_path)
    assert area.files[0].path == str(tmp_path / "bulwark.conf")
    assert area.files[0].after == kernel_modules.render(["cramfs", "dccp"])
    assert area.changed


def test_an_unchanged_file_plans_no_change(tmp_path):
    (tmp_path / "bulwark.conf").write_text(kernel_modules.render(["cramfs"]))
    area = plan(["cramfs"], tmp_path)
    assert not area.changed


def test_in_a_container_the_area_is_skipped_because_modules_belong_to_the_host(tmp_path):
    area = plan(["cramfs"], tmp_path, env=host_env(in_container="lxc"))
    assert area.skipped == "in a container (lxc): kernel modules belong to the host"
    assert area.files == [] and not area.changed
