"""container_audit against the real Docker Engine of this machine.

Starts a hardened container and variants of it that each add one known
weakness, runs the module once through `ansible localhost -m
bulwark.hardening.container_audit`, and checks the exact rule ids each
container fails. Every container carries the label bulwark.test=1 and is
removed at the end, whatever happens. Image: bulwark-test/sleeper, built
locally by images.py (no registry needed).
"""

import io
import os
import secrets
import tarfile

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api, ensure_sleeper_image
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand_all

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
PREFIX = "bulwark-it-"
NETWORK = PREFIX + "net"
TEST_LABELS = {"bulwark.test": "1"}
SECRET_ENV = secrets.token_urlsafe(18)
SECRET_LABEL = secrets.token_urlsafe(30)

# Each case: the change to the hardened baseline, and the rules it must fail (no more, no less).
HARDENED = {
    "read_only": True, "cap_drop": ["ALL"], "security_opt": ["no-new-privileges"], "mem_limit": "32m",
    "nano_cpus": 250000000, "cpu_shares": 256, "pids_limit": 32, "network_mode": NETWORK,
    "restart_policy": {"Name": "on-failure", "MaximumRetryCount": 5},
    "ulimits": [{"Name": "nofile", "Soft": 1024, "Hard": 2048}],
}
CASES = {
    "hardened": ({}, set()),
    "caps": ({"cap_add": ["SYS_ADMIN", "NET_ADMIN"]}, {"5.4"}),
    "hostnet": ({"network_mode": "host"}, {"5.10"}),
    "hostpid": ({"pid_mode": "host"}, {"5.16"}),
    "dockersock": ({"binds": ["/var/run/docker.sock:/var/run/docker.sock:ro"]}, {"5.32"}),
    "etc-rw": ({"binds": ["/etc:/host-etc:rw"]}, {"5.6"}),
    "nomemory": ({"mem_limit": None}, {"5.11"}),
    "secret": ({"environment": {"DB_PASSWORD": SECRET_ENV}, "labels": {"deploy.api_token": SECRET_LABEL}},
               {"BW-001", "BW-002"}),
    "root": ({"user": "root"}, {"4.1"}),
    "drift": ({"read_only": False, "labels": {"bulwark.immutable": "true"}}, {"5.13", "BW-004"}),
}


def _api():
    return docker_api(timeout=30)


# Keys of a case that belong to the container's Config rather than its HostConfig.
CONFIG_KEYS = ("user", "environment", "labels")
HEALTHCHECK = {"test": ["CMD", "/bin/sleep", "0"], "interval": 30 * 10 ** 9, "retries": 3}


def _create(api, image_id, name, change):
    import docker  # pylint: disable=import-outside-toplevel

    config = {"user": "65534:65534", "environment": None, "labels": dict(TEST_LABELS)}
    settings = dict(HARDENED)
    for key, value in change.items():
        if key == "labels":
            config["labels"].update(value)
        elif key in CONFIG_KEYS:
            config[key] = value
        elif value is None:
            settings.pop(key)
        else:
            settings[key] = value
    settings["ulimits"] = [docker.types.Ulimit(name=u["Name"], soft=u["Soft"], hard=u["Hard"]) for u in settings["ulimits"]]
    created = api.create_container(image_id, name=PREFIX + name, healthcheck=HEALTHCHECK,
                                   host_config=api.create_host_config(**settings), **config)
    api.start(created["Id"])
    return created["Id"]


def _drift(api, container_id):
    """Add a file to the container's filesystem, as an intruder (or a careless operator) would."""
    data = b"changed\n"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("bulwark-drift.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    api.put_archive(container_id, "/tmp", buffer.getvalue())


def _remove_test_objects(api):
    for container in api.containers(all=True, filters={"label": "bulwark.test=1", "name": PREFIX}):
        api.remove_container(container["Id"], force=True)
    for network in api.networks(names=[NETWORK]):
        api.remove_network(network["Id"])


@pytest.fixture(scope="module")
def lab():
    """The containers of CASES, running; removed afterwards even when a test fails."""
    api = _api()
    image_id = ensure_sleeper_image(api)
    _remove_test_objects(api)  # leftovers of an interrupted run
    try:
        api.create_network(NETWORK, labels=TEST_LABELS)
        ids = dict((name, _create(api, image_id, name, change)) for name, (change, _expected) in CASES.items())
        _drift(api, ids["drift"])
        yield api, ids
    finally:
        _remove_test_objects(api)


@pytest.fixture(scope="module")
def audit(lab):
    """One module run over the test containers."""
    run = run_module("container_audit", {
        "docker_host": DOCKER_HOST, "scope": ["images", "containers", "bulwark"],
        "name_filter": [PREFIX + "*"], "label_filter": ["bulwark.test=1"], "process_checks": True, "report": "all",
    })
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
    return run


def _failing(audit_run, name):
    return set(finding["rule"] for finding in audit_run.result["findings"]
               if finding["target"] == PREFIX + name and finding["status"] == "fail")


@pytest.mark.parametrize("name", sorted(CASES))
def test_exact_failing_rules_per_container(audit, name):
    assert _failing(audit, name) == CASES[name][1]


def test_hardened_container_has_no_failing_runtime_rule(audit):
    hardened = [f for f in expand_all(audit.result) if f["target"] == PREFIX + "hardened"]
    assert [f for f in hardened if f["section"] == "5" and f["status"] == "fail"] == []
    assert set(f["rule"] for f in hardened if f["section"] == "5") >= {"5.11", "5.13", "5.26", "5.27", "5.29", "5.30"}


def test_no_secret_value_anywhere_in_the_output(audit):
    assert SECRET_ENV not in audit.stdout and SECRET_LABEL not in audit.stdout
    assert "DB_PASSWORD=<masked, %d chars>" % len(SECRET_ENV) in audit.stdout


def test_api_calls_stay_within_the_budget(audit):
    result = audit.result
    calls = result["api_calls_by_endpoint"]
    assert result["containers"] == len(CASES)
    # The budget, plus the documented extras: top per running container (process_checks), diff per immutable one.
    assert calls["info"] + calls["containers"] + calls["inspect_container"] + calls["inspect_image"] \
        <= result["containers"] + result["images"] + 2
    assert calls.get("top") == len(CASES) and calls.get("diff") == 1
    assert result["api_calls"] == sum(calls.values())


def test_process_check_ran(audit):
    sshd = [f for f in audit.result["findings"] if f["rule"] == "5.7"]
    assert sshd and all(f["status"] == "pass" for f in sshd)


def test_check_mode_reports_the_same_and_changes_nothing(lab):
    run = run_module("container_audit", {"docker_host": DOCKER_HOST, "scope": ["containers"],
                                         "name_filter": [PREFIX + "hostpid"]}, check=True)
    assert run.result["changed"] is False
    assert _failing(run, "hostpid") == {"5.16"}


def test_waiver_from_the_module(lab):
    run = run_module("container_audit", {
        "docker_host": DOCKER_HOST, "scope": ["containers"], "name_filter": [PREFIX + "nomemory", PREFIX + "caps"],
        "waivers": [{"rule": "5.11", "target": PREFIX + "nomemory", "reason": "load test"},
                    {"rule": "5.4", "target": PREFIX + "*", "reason": "expired exception", "expires": "2020-01-01"}],
    })
    statuses = dict(((f["rule"], f["target"]), f) for f in run.result["findings"])
    assert statuses[("5.11", PREFIX + "nomemory")]["status"] == "waived"
    assert statuses[("5.4", PREFIX + "caps")]["status"] == "fail"
    assert "waiver expired on 2020-01-01" in statuses[("5.4", PREFIX + "caps")]["evidence"]


def test_unreachable_docker_host_fails_with_advice(tmp_path):
    run = run_module("container_audit", {"docker_host": "unix://%s/missing.sock" % tmp_path, "scope": ["daemon"]})
    assert run.result.get("failed") is True
    assert "missing.sock" in run.result["msg"] and "Start the Docker daemon" in run.result["msg"]
