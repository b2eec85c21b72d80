"""BW-012 (package managers or downloaders running) and BW-013 (binaries or libraries changed) against the
real Docker Engine of this machine.

No network is needed: a process is "curl" because a copy of the host's own `sleep` runs under that name, and
"python3 -m pip" runs a stand-in module called pip. The userland image (images.py) gives the containers the
host's /usr read-only (python3, bash, coreutils); the drift cases use the sleeper image, whose /bin and /usr
are its own, and change them through the Engine's archive upload as an intruder would. One module run with
process_checks and drift_checks; every container carries the label bulwark.test=1 and is removed at the end.
"""

import io
import os
import tarfile

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api, USERLAND_BIND, ensure_sleeper_image, ensure_userland_image

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
PREFIX = "bulwark-rt-"
TEST_LABELS = {"bulwark.test": "1"}

# The containers running on the userland image: (command, BW-012's status). All of them keep the image's
# binaries (their /usr is the read-only bind; they write only in /tmp), so BW-013 passes.
PROCESSES = {
    # A program called sleep with a downloader's name among its arguments is not a downloader.
    "sleep-curl": (["/bin/bash", "-c", "exec -a sleep /usr/bin/python3 -c 'import time; time.sleep(10 ** 6)' curl"],
                   "pass"),
    "shell-wget": (["/bin/sh", "-c", "sleep 1000000 # wget"], "pass"),
    # A process whose program is named curl (the host's sleep, copied): fetching at run time.
    "curl": (["/bin/sh", "-c", "cp /bin/sleep /tmp/curl && exec /tmp/curl 1000000"], "fail"),
    # python3 -m pip, with a stand-in module that only sleeps.
    "pip": (["/bin/sh", "-c", "printf 'import time\\ntime.sleep(10 ** 6)\\n' > /tmp/pip.py && cd /tmp "
             "&& exec /usr/bin/python3 -m pip install --index-url https://user:s3cr3t-t0ken@example.invalid/ x"], "fail"),
}
# Sleeper containers (/bin/sleep infinity) and what is changed in them: (directory, file, BW-013's status).
DRIFTS = {
    "drift-bin": ("/bin", "busybox", "fail"),
    "drift-usr-local": ("/usr", "local/bin/tool", "fail"),
    "drift-tmp": ("/tmp", "notes.txt", "pass"),
    "immutable": ("/lib", "libpreload.so", "fail"),
}
TOKEN = "s3cr3t-t0ken"


def _api():
    return docker_api(timeout=30)


def _tar(path, data=b"#!/bin/sh\n"):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(path)
        info.size = len(data)
        info.mode = 0o755
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _remove_test_objects(api):
    for container in api.containers(all=True, filters={"label": "bulwark.test=1", "name": PREFIX}):
        api.remove_container(container["Id"], force=True)


def _start(api, image_id, name, command=None, binds=None, labels=None):
    created = api.create_container(image_id, name=PREFIX + name, command=command, labels=dict(TEST_LABELS, **(labels or {})),
                                   host_config=api.create_host_config(binds=binds, network_mode="none"))
    api.start(created["Id"])
    return created["Id"]


@pytest.fixture(scope="module")
def lab():
    api = _api()
    userland, sleeper = ensure_userland_image(api), ensure_sleeper_image(api)
    _remove_test_objects(api)
    try:
        ids = {}
        for name, (command, _status) in PROCESSES.items():
            ids[name] = _start(api, userland, name, command=command, binds=[USERLAND_BIND])
        for name, (directory, path, _status) in DRIFTS.items():
            labels = {"bulwark.immutable": "true"} if name == "immutable" else None
            ids[name] = _start(api, sleeper, name, labels=labels)
            api.put_archive(ids[name], directory, _tar(path))
        for container_id in ids.values():
            state = api.inspect_container(container_id)["State"]
            assert state["Running"], state
        yield api, ids
    finally:
        _remove_test_objects(api)


@pytest.fixture(scope="module")
def audit(lab):
    run = run_module("container_audit", {
        "docker_host": DOCKER_HOST, "scope": ["bulwark"], "name_filter": [PREFIX + "*"], "label_filter": ["bulwark.test=1"],
        "process_checks": True, "drift_checks": True, "report": "all",
    })
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
    return run


def _finding(audit_run, rule_id, name):
    found = [f for f in audit_run.result["findings"] if f["rule"] == rule_id and f["target"] == PREFIX + name]
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("name", sorted(PROCESSES))
def test_bw_012_matches_the_program_not_its_arguments(audit, name):
    finding = _finding(audit, "BW-012", name)
    assert finding["status"] == PROCESSES[name][1], finding["evidence"]
    assert _finding(audit, "BW-013", name)["status"] == "pass"


def test_bw_012_names_programs_and_counts_only(audit):
    assert _finding(audit, "BW-012", "curl")["evidence"].startswith("package managers or downloaders running: curl (1)")
    assert _finding(audit, "BW-012", "pip")["evidence"].startswith("package managers or downloaders running: pip (1)")
    assert TOKEN not in audit.stdout and "example.invalid" not in audit.stdout


@pytest.mark.parametrize("name", sorted(DRIFTS))
def test_bw_013_changed_binaries_and_libraries(audit, name):
    directory, path, expected = DRIFTS[name]
    finding = _finding(audit, "BW-013", name)
    assert finding["status"] == expected, finding["evidence"]
    if expected == "fail":
        assert finding["evidence"] == "binaries or libraries differ from the image: 1 added: added %s/%s" % (directory, path)
    assert _finding(audit, "BW-012", name)["status"] == "pass"


def test_immutable_container_is_diffed_once_for_both_rules(audit):
    assert _finding(audit, "BW-004", "immutable")["status"] == "fail"
    calls = audit.result["api_calls_by_endpoint"]
    running = len(PROCESSES) + len(DRIFTS)
    assert audit.result["containers"] == running
    assert calls["diff"] == running and calls["top"] == running


def test_without_the_options_both_rules_are_skipped_and_nothing_extra_is_called(lab):
    run = run_module("container_audit", {
        "docker_host": DOCKER_HOST, "scope": ["bulwark"], "name_filter": [PREFIX + "curl", PREFIX + "drift-bin"],
        "label_filter": ["bulwark.test=1"], "report": "all",
    })
    skipped = dict((f["rule"], f["evidence"]) for f in run.result["findings"] if f["target"] == PREFIX + "curl")
    assert skipped["BW-012"].startswith("needs process_checks: true")
    assert skipped["BW-013"].startswith("needs drift_checks: true")
    assert "top" not in run.result["api_calls_by_endpoint"] and "diff" not in run.result["api_calls_by_endpoint"]
