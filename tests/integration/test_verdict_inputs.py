"""Verdicts that depend on what the Engine really reports, against the Docker Engine of this machine.

5.6: a named volume of the local driver bound to /etc (`type=none o=bind device=/etc`) shows in inspect .Mounts
only as the volume's _data directory; container_audit must read the volume list (one call) and fail 5.6, and a
plain named volume must not. 4.9: an image built like Ubuntu's (FROM scratch, ARG and LABEL before `ADD rootfs.tar
/`) and one built FROM it pass under image_audit, an `ADD` of an archive into / after that warns. Built without any
registry (the classic builder through the API, from the sleeper rootfs of images.py); every object is named
bwvd-*, carries the label bulwark.test=1 and is removed at the end.
"""

import os

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from ansible_collections.bulwark.hardening.tests.integration.images import build_image, docker_api, ensure_sleeper_image, rootfs_tarball, SLEEPER_REF

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
PREFIX = "bwvd-"
TEST_LABELS = {"bulwark.test": "1"}
UBUNTU_STYLE = ("FROM scratch\nARG RELEASE\nARG LAUNCHPAD_BUILD_ARCH\nLABEL org.opencontainers.image.ref.name=ubuntu\n"
                "LABEL org.opencontainers.image.version=24.04\nADD rootfs.tar /\nCMD [\"/bin/sleep\", \"infinity\"]\n")
IMAGES = {
    "ubuntu-style": UBUNTU_STYLE,
    "on-ubuntu-style": "FROM %sverdict:ubuntu-style\nCOPY rootfs.tar /srv/copied.tar\n" % PREFIX,
    "add-after-base": "FROM %sverdict:ubuntu-style\nADD rootfs.tar /\n" % PREFIX,
}
REPOSITORY = PREFIX + "verdict"


def _remove_test_objects(api):
    for container in api.containers(all=True, filters={"label": "bulwark.test=1", "name": PREFIX}):
        api.remove_container(container["Id"], force=True)
    for name in reversed(list(IMAGES)):  # images built on another first
        for image in api.images(name="%s:%s" % (REPOSITORY, name)):
            if (image.get("Labels") or {}).get("bulwark.test") == "1":
                api.remove_image(image["Id"], force=True)
    for volume in (api.volumes(filters={"label": "bulwark.test=1"}) or {}).get("Volumes") or []:
        if volume["Name"].startswith(PREFIX):
            api.remove_volume(volume["Name"], force=True)


@pytest.fixture(scope="module")
def lab():
    api = docker_api(timeout=60)
    ensure_sleeper_image(api)
    _remove_test_objects(api)
    try:
        api.create_volume(PREFIX + "etc", driver="local", labels=TEST_LABELS,
                          driver_opts={"type": "none", "o": "bind", "device": "/etc"})
        api.create_volume(PREFIX + "plain", labels=TEST_LABELS)
        for name, binds in (("etc", [PREFIX + "etc:/host-etc:ro", PREFIX + "plain:/data"]), ("plain", [PREFIX + "plain:/data"])):
            created = api.create_container(SLEEPER_REF, name=PREFIX + name, labels=TEST_LABELS,
                                           host_config=api.create_host_config(binds=binds, network_mode="none"))
            api.start(created["Id"])
        rootfs = (rootfs_tarball(), 0o644)
        for name, dockerfile in IMAGES.items():
            build_image(api, "%s:%s" % (REPOSITORY, name), dockerfile, {"rootfs.tar": rootfs})
        yield api
    finally:
        _remove_test_objects(api)


def test_5_6_reads_the_host_directory_a_named_volume_binds(lab):
    run = run_module("container_audit", {"docker_host": DOCKER_HOST, "scope": ["containers"], "report": "all",
                                         "name_filter": [PREFIX + "*"], "label_filter": ["bulwark.test=1"]})
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
    found = dict((f["target"], f) for f in run.result["findings"] if f["rule"] == "5.6")
    # Mounted :ro, so read-only: a warning naming the volume and the host directory behind it.
    assert found[PREFIX + "etc"]["status"] == "warn", found[PREFIX + "etc"]
    assert "/etc:/host-etc:ro (volume %setc)" % PREFIX in found[PREFIX + "etc"]["evidence"]
    assert found[PREFIX + "plain"]["status"] == "pass"
    assert run.result["api_calls_by_endpoint"]["volumes"] == 1


def test_4_9_judges_the_base_rootfs_behind_arg_and_label(lab):
    run = run_module("image_audit", {"docker_host": DOCKER_HOST, "images": [REPOSITORY + ":*"], "layer_scan": False,
                                     "report": "all"})
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
    found = dict((f["target"], f) for f in run.result["findings"] if f["rule"] == "4.9")
    assert found[REPOSITORY + ":ubuntu-style"]["status"] == "pass", found
    assert found[REPOSITORY + ":on-ubuntu-style"]["status"] == "pass", found
    assert found[REPOSITORY + ":add-after-base"]["status"] == "warn", found
    # Entry 0 is the LABEL the build adds (bulwark.test=1); the ADD is entry 1.
    assert "history entries 1 (into /)" in found[REPOSITORY + ":add-after-base"]["evidence"]
