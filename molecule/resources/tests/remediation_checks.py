"""The containers role fixed the workload converge.yml started (bulwark-workload:
no limits, a writable root, Docker's default capabilities, its data in a named
volume), live and by a replacement, and the replacement kept the data.
Shared by the container and VM scenarios: a scenario's test module imports
these test functions, which makes pytest run them there."""

import json

import pytest

# Names converge.yml gives the workload, its label, volume and the file it wrote there.
WORKLOAD = "bulwark-workload"
WORKLOAD_LABEL = "bulwark.test.workload"
WORKLOAD_VOLUME = "bulwark-workload-data"
FIRST_CONTAINER_ID_FILE = "/data/first-container-id"
# The role's default policy (roles/containers/defaults/main.yml).
MEMORY = 1024 ** 3
CPU_SHARES = 512
PIDS_LIMIT = 1024


@pytest.fixture(scope="module")
def workload(host):
    """The workload's inspect data and the file in its volume, read in one command."""
    cmd = host.run(f"docker container inspect {WORKLOAD} && docker exec {WORKLOAD} cat {FIRST_CONTAINER_ID_FILE}")
    assert cmd.rc == 0, cmd.stderr
    inspect, _sep, first_id = cmd.stdout.rpartition("]")
    return json.loads(inspect + "]")[0], first_id.strip()


def test_the_workload_runs_under_its_name_with_its_label(workload):
    inspect, _first_id = workload
    assert inspect["Name"] == "/" + WORKLOAD
    assert inspect["State"]["Running"] is True
    assert inspect["Config"]["Labels"].get(WORKLOAD_LABEL) == "1"


def test_the_workload_was_replaced_and_its_volume_data_kept(workload):
    inspect, first_id = workload
    # The file was written into the named volume by the container converge.yml started.
    assert len(first_id) == 64, first_id
    assert inspect["Id"] != first_id, "the workload was never recreated"
    volumes = [(mount["Name"], mount["Destination"]) for mount in inspect["Mounts"] if mount["Type"] == "volume"]
    assert volumes == [(WORKLOAD_VOLUME, "/data")]


def test_recreate_fixes_are_in_place(workload):
    host_config = workload[0]["HostConfig"]
    assert host_config["ReadonlyRootfs"] is True
    assert host_config["CapDrop"] == ["ALL"]
    assert "/tmp" in (host_config.get("Tmpfs") or {})


def test_live_fixes_are_in_place(workload):
    host_config = workload[0]["HostConfig"]
    assert host_config["Memory"] == MEMORY
    assert host_config["MemorySwap"] == MEMORY  # no swap
    assert host_config["CpuShares"] == CPU_SHARES
    assert host_config["PidsLimit"] == PIDS_LIMIT
    assert host_config["RestartPolicy"]["Name"] == "no"  # compliant already: left as it was


def test_the_root_filesystem_is_read_only_and_tmp_writable(host):
    assert host.run(f"docker exec {WORKLOAD} sh -c 'echo x > /bulwark-root-write'").rc != 0
    assert host.run(f"docker exec {WORKLOAD} sh -c 'echo x > /tmp/bulwark-tmp-write'").rc == 0
