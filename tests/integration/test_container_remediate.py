"""container_remediate against the real Docker Engine of this machine.

Live fixes on 50 containers in one module call, a second run that changes
nothing, check mode that changes nothing; replacements that keep every
setting (inspect compared field by field), keep volume and bind data
byte for byte, keep published ports and network aliases; a replacement
that cannot start rolled back under its name. Every object carries the
label bulwark.test=1 and the prefix bulwark-rm-, and is removed at the
end whatever happens. Images are built locally (images.py): the sleeper,
and a userland image run with the host's /usr read-only (python3, sh).
"""

import hashlib
import io
import os
import secrets
import shutil
import tarfile
import tempfile
import time

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api, USERLAND_BIND, ensure_sleeper_image, ensure_userland_image

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
PREFIX = "bulwark-rm-"
LABELS = {"bulwark.test": "1"}
NETWORK, SECOND_NETWORK = PREFIX + "net", PREFIX + "net2"
SUBNET, STATIC_ADDRESS = "172.31.250.0/24", "172.31.250.10"
LIVE_COUNT = 50
LIVE_POLICY = {"memory": "64m", "cpu_shares": 512, "pids_limit": 64}


def _api():
    return docker_api(timeout=60)


def _remove_test_objects(api):
    for container in api.containers(all=True, filters={"label": "bulwark.test=1", "name": PREFIX}):
        api.remove_container(container["Id"], force=True, v=True)
    for network in api.networks(names=[NETWORK, SECOND_NETWORK]):
        api.remove_network(network["Id"])
    for volume in (api.volumes(filters={"label": "bulwark.test=1"}) or {}).get("Volumes") or []:
        api.remove_volume(volume["Name"], force=True)


@pytest.fixture(scope="module")
def api():
    client = _api()
    _remove_test_objects(client)  # leftovers of an interrupted run
    ensure_sleeper_image(client)
    ensure_userland_image(client)
    try:
        client.create_network(NETWORK, labels=LABELS, ipam={"Config": [{"Subnet": SUBNET}]})
        client.create_network(SECOND_NETWORK, labels=LABELS)
        yield client
    finally:
        _remove_test_objects(client)
        shutil.rmtree(STATE_DIR, ignore_errors=True)


# The replacement journal of these runs: a directory of their own, not the host's /var/lib/bulwark.
STATE_DIR = tempfile.mkdtemp(prefix="bulwark-rm-state-")


def remediate(args, check=False, diff=False):
    run = run_module("container_remediate", dict({"docker_host": DOCKER_HOST, "grace_period": 2, "state_dir": STATE_DIR},
                                                 **args), check=check, diff=diff)
    return run


def _run(api, name, image="bulwark-test/sleeper:latest", labels=None, config=None, **host):
    """Create and start a container; Config keys (command, user, ...) in config, HostConfig keys as keywords."""
    created = api.create_container(image, name=PREFIX + name, labels=dict(LABELS, **(labels or {})),
                                   stop_timeout=1, host_config=api.create_host_config(**host), **(config or {}))
    api.start(created["Id"])
    return created["Id"]


def _by_name(result):
    return dict((entry["name"], entry) for entry in result["containers"])


# --- live -------------------------------------------------------------------

@pytest.fixture(scope="module")
def live_fleet(api):
    names = ["live-%02d" % index for index in range(LIVE_COUNT)]
    return dict((PREFIX + name, _run(api, name)) for name in names)


LIVE_ARGS = {"containers": [PREFIX + "live-*"], "rules": ["5.11", "5.12", "5.29"], "policy": LIVE_POLICY}


def test_check_mode_plans_live_fixes_and_changes_nothing(api, live_fleet):
    run = remediate(LIVE_ARGS, check=True, diff=True)
    result = run.result
    assert result["changed"] is True and result["summary"]["live"] == LIVE_COUNT
    assert set(entry["status"] for entry in result["containers"]) == {"planned"}
    assert "HostConfig.Memory: 0" in result["diff"][0]["before"] and "HostConfig.Memory: 67108864" in result["diff"][0]["after"]
    for container_id in live_fleet.values():
        assert api.inspect_container(container_id)["HostConfig"]["Memory"] == 0


@pytest.fixture(scope="module")
def live_run(api, live_fleet):
    run = remediate(LIVE_ARGS)
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
    print("\n%d containers fixed live in one call: module %.2f s (ansible command %.2f s), %d API calls %s" % (
        LIVE_COUNT, run.result["duration_s"], run.seconds, run.result["api_calls"], run.result["api_calls_by_endpoint"]))
    return run


def test_fifty_containers_are_fixed_live_in_one_call(api, live_fleet, live_run):
    result = live_run.result
    assert result["summary"]["live"] == LIVE_COUNT and result["summary"]["fixed"] == 3 * LIVE_COUNT
    assert result["still_failing"] == [] and result["summary"]["recreated"] == 0
    for container_id in live_fleet.values():
        data = api.inspect_container(container_id)
        host = data["HostConfig"]
        assert (host["Memory"], host["MemorySwap"], host["CpuShares"], host["PidsLimit"]) == (64 << 20, 64 << 20, 512, 64)
        assert data["State"]["Running"] and data["State"]["StartedAt"] < result_started(live_run)


def result_started(run):
    """An ISO time after every fleet container started and before the live run changed anything."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() - run.seconds))


def test_second_live_run_changes_nothing(live_run):
    again = remediate(LIVE_ARGS).result
    assert again["changed"] is False and again["summary"]["live"] == 0 and again["fixed"] == []


# --- recreate ------------------------------------------------------------------

def _put_file(api, container_id, directory, name, data):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert api.put_archive(container_id, directory, buffer.getvalue())


def _checksum(api, container_id, path):
    stream, _stat = api.get_archive(container_id, path)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.extractfile(tar.getmembers()[0])
        return hashlib.sha256(member.read()).hexdigest()


@pytest.fixture(scope="module")
def data_container(api, tmp_path_factory):
    """A named volume, two anonymous volumes (declared, and a --mount without a source) and a bind mount,
    each holding 1 MiB of random data; compose labels."""
    import docker  # pylint: disable=import-outside-toplevel

    bind_dir = tmp_path_factory.mktemp("bind")
    (bind_dir / "blob").write_bytes(secrets.token_bytes(1 << 20))
    api.create_volume(PREFIX + "named", labels=LABELS)
    container_id = _run(api, "data", labels={"com.docker.compose.project": "shop", "com.docker.compose.service": "db"},
                        config={"volumes": ["/anon"]},
                        binds=[PREFIX + "named:/named", "%s:/bind" % bind_dir],
                        mounts=[docker.types.Mount("/anon-mount", None, type="volume")],
                        restart_policy={"Name": "on-failure", "MaximumRetryCount": 3})
    for directory in ("/named", "/anon", "/anon-mount"):
        _put_file(api, container_id, directory, "blob", secrets.token_bytes(1 << 20))
    before = dict((path, _checksum(api, container_id, path + "/blob")) for path in ("/named", "/anon", "/anon-mount", "/bind"))
    return container_id, before


@pytest.fixture(scope="module")
def recreated(api, data_container):
    old_id, _before = data_container
    run = remediate({"containers": [PREFIX + "data"], "policy": {"recreate": True, "cap_add": ["CHOWN"]}}, diff=True)
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg")
    return run, old_id


def test_check_mode_plans_a_recreate_and_changes_nothing(api, data_container):
    old_id, _before = data_container
    result = remediate({"containers": [PREFIX + "data"], "policy": {"recreate": True}}, check=True).result
    entry = _by_name(result)[PREFIX + "data"]
    assert entry["action"] == "recreate" and entry["status"] == "planned"
    assert {"5.13", "5.26", "BW-008"} <= set(entry["fixes"])
    assert api.inspect_container(PREFIX + "data")["Id"] == old_id


def test_recreate_fixes_the_rules_and_keeps_the_name(api, recreated):
    run, old_id = recreated
    entry = _by_name(run.result)[PREFIX + "data"]
    data = api.inspect_container(PREFIX + "data")
    assert entry["status"] == "changed" and data["Id"] != old_id and data["State"]["Running"]
    assert data["HostConfig"]["ReadonlyRootfs"] is True and data["HostConfig"]["CapDrop"] == ["ALL"]
    assert data["HostConfig"]["CapAdd"] == ["CHOWN"] and "no-new-privileges:true" in data["HostConfig"]["SecurityOpt"]
    assert {"5.13", "5.26", "BW-008"} <= set((f["rule"]) for f in run.result["fixed"])
    assert not api.containers(all=True, filters={"name": PREFIX + "data-bulwark-old"})
    assert "HostConfig.ReadonlyRootfs: False" in run.result["diff"][0]["before"]


def test_volume_and_bind_data_are_identical_after_recreate(api, data_container, recreated):
    _old_id, before = data_container
    new_id = api.inspect_container(PREFIX + "data")["Id"]
    after = dict((path, _checksum(api, new_id, path + "/blob")) for path in before)
    assert after == before
    assert api.inspect_volume(PREFIX + "named")


def test_compose_labels_and_restart_policy_are_kept(api, recreated):
    data = api.inspect_container(PREFIX + "data")
    assert data["Config"]["Labels"]["com.docker.compose.project"] == "shop"
    assert data["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 3}


def test_second_recreate_run_changes_nothing(recreated):
    again = remediate({"containers": [PREFIX + "data"], "policy": {"recreate": True, "cap_add": ["CHOWN"]}}).result
    assert again["changed"] is False
    assert "5.13" not in set(entry["rule"] for entry in again["still_failing"])


def test_a_replacement_that_cannot_start_is_rolled_back(api):
    # The service writes to its root filesystem at start (and cleans up): read-only, it exits at once.
    old_id = _run(api, "writer", image="bulwark-test/userland:latest", binds=[USERLAND_BIND],
                  config={"command": ["sh", "-c", "touch /state && rm /state || exit 3; exec sleep infinity"]},
                  restart_policy={"Name": "unless-stopped"})
    run = remediate({"containers": [PREFIX + "writer"], "policy": {"recreate": True}, "rules": ["5.13"]})
    entry = _by_name(run.result)[PREFIX + "writer"]
    assert run.result.get("failed") is True and entry["status"] == "rolled_back"
    assert "exit code 3" in entry["detail"] and "Read-only file system" in entry["logs"]
    data = api.inspect_container(PREFIX + "writer")
    assert data["Id"] == old_id and data["State"]["Running"]
    assert data["HostConfig"]["RestartPolicy"]["Name"] == "unless-stopped"
    assert not api.containers(all=True, filters={"name": PREFIX + "writer-bulwark-old"})
    assert run.result["still_failing"] and run.result["fixed"] == []


def test_swarm_tasks_are_never_changed(api):
    old_id = _run(api, "swarm-task", labels={"com.docker.swarm.task.id": "abc", "com.docker.swarm.service.id": "def"})
    result = remediate({"containers": [PREFIX + "swarm-task"], "policy": dict(LIVE_POLICY, recreate=True)}).result
    entry = _by_name(result)[PREFIX + "swarm-task"]
    assert entry["action"] == "none" and result["changed"] is False
    assert all("swarm service task" in skipped["reason"] or skipped["reason"].startswith("manual")
               for skipped in entry["skipped"])
    assert api.inspect_container(PREFIX + "swarm-task")["Id"] == old_id


def test_bad_policy_fails_before_any_change(api):
    result = remediate({"policy": {"memory": "lots"}}).result
    assert result.get("failed") is True and "policy.memory" in result["msg"]
    result = remediate({"rules": ["5.1O"]}).result
    assert result.get("failed") is True and "5.1O" in result["msg"]
