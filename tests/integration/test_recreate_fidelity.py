"""A replacement with an empty policy is the same container: inspect compared field by field.

One richly configured container (every setting container_remediate
promises to carry over is set) is replaced through the library's
recreate procedure with a plan that changes nothing. Its Config,
HostConfig, mounts and network endpoints must equal the old ones, ids and
timestamps aside; its published port must answer and its alias must
resolve from another container on the same network. Runs against the
real Docker Engine of this machine.
"""

import os
import socket
import time
import urllib.request

import pytest

from ansible_collections.bulwark.hardening.tests.integration.images import USERLAND_BIND, ensure_userland_image
from test_container_remediate import LABELS, PREFIX, _api

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import ContainerView
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import connect, connection_from
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate import execute
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.plan import ContainerPlan

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
NAME = PREFIX + "rich"
NETWORK, SECOND_NETWORK = NAME + "-net", NAME + "-net2"
SUBNET, STATIC_ADDRESS = "172.31.251.0/24", "172.31.251.10"
IMAGE = "bulwark-test/userland:latest"
SERVER = ["/usr/bin/python3", "-m", "http.server", "8000", "--bind", "0.0.0.0", "--directory", "/srv"]
HEALTH = ["CMD", "python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/')"]


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _clean(api):
    for container in api.containers(all=True, filters={"label": "bulwark.test=1", "name": PREFIX + "rich"}):
        api.remove_container(container["Id"], force=True, v=True)
    for network in api.networks(names=[NETWORK, SECOND_NETWORK]):
        api.remove_network(network["Id"])
    for volume in (api.volumes(filters={"label": "bulwark.test=1"}) or {}).get("Volumes") or []:
        if volume["Name"].startswith(NAME):
            api.remove_volume(volume["Name"], force=True)


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    """The old container's inspect data, the port it publishes, and the API client."""
    import docker  # pylint: disable=import-outside-toplevel

    api = _api()
    _clean(api)
    ensure_userland_image(api)
    bind_dir = tmp_path_factory.mktemp("rich-bind")
    port = _free_port()
    try:
        api.create_network(NETWORK, labels=LABELS, ipam={"Config": [{"Subnet": SUBNET}]})
        api.create_network(SECOND_NETWORK, labels=LABELS)
        api.create_volume(PREFIX + "rich-data", labels=LABELS)
        host_config = api.create_host_config(
            binds=[PREFIX + "rich-data:/data", "%s:/bind:ro" % bind_dir, USERLAND_BIND],
            tmpfs={"/scratch": "size=1m"},
            devices=["/dev/null:/dev/bulwark-null:rwm"],
            port_bindings={8000: ("127.0.0.1", port)},
            log_config=docker.types.LogConfig(type="json-file", config={"max-size": "1m", "max-file": "2"}),
            restart_policy={"Name": "on-failure", "MaximumRetryCount": 3},
            ulimits=[docker.types.Ulimit(name="nofile", soft=1024, hard=2048)],
            sysctls={"net.core.somaxconn": "1024"},
            extra_hosts={"bulwark.example": "10.1.2.3"},
            dns=["10.0.0.53"], dns_search=["example.internal"], dns_opt=["ndots:2"],
            init=True, mem_limit="256m", cpu_shares=256, pids_limit=128,
            network_mode=NETWORK,
        )
        networking = api.create_networking_config({NETWORK: api.create_endpoint_config(
            aliases=["rich-alias"], ipv4_address=STATIC_ADDRESS)})
        created = api.create_container(
            IMAGE, name=NAME, entrypoint=SERVER[:1], command=SERVER[1:], environment={"GREETING": "hello", "MODE": "rich"},
            working_dir="/srv", user="65534:65534", labels=dict(LABELS, **{"com.example.role": "web"}),
            hostname="rich-host", domainname="example.internal", volumes=["/anon"], ports=[8000],
            healthcheck={"test": HEALTH, "interval": 10 ** 9, "timeout": 2 * 10 ** 9, "retries": 3},
            stop_signal="SIGINT", stop_timeout=3, host_config=host_config, networking_config=networking)
        api.connect_container_to_network(created["Id"], SECOND_NETWORK, aliases=["second-alias"])
        api.start(created["Id"])
        _wait_healthy(api, created["Id"])
        yield api.inspect_container(created["Id"]), port, api
    finally:
        _clean(api)


def _wait_healthy(api, container_id, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if (api.inspect_container(container_id)["State"].get("Health") or {}).get("Status") == "healthy":
            return
        time.sleep(0.5)
    raise AssertionError("%s never turned healthy" % container_id[:12])


@pytest.fixture(scope="module")
def replaced(rich):
    old, _port, api = rich
    client = connect(connection_from({"docker_host": DOCKER_HOST}))
    plan = ContainerPlan(ContainerView(old))  # no fix: an empty policy
    outcome = execute.recreate(client, plan, api.inspect_image(old["Image"]), grace=2, health_timeout=30)
    assert outcome.status == "changed", outcome.detail
    return api.inspect_container(NAME)


def _mounts(data):
    return sorted((m["Type"], m.get("Name"), m["Source"], m["Destination"], m["Mode"], m["RW"], m["Propagation"])
                  for m in data["Mounts"])


def _without_anonymous_mode(mounts):
    # An anonymous volume attached by name shows mode "z" (dockerd's SELinux relabel mark for volumes it
    # mounts by name; nothing without SELinux) where the image-declared one showed "".
    return [mount[:4] + (None,) + mount[5:] if mount[3] == "/anon" else mount for mount in mounts]


def _endpoints(data):
    """Network endpoints without what belongs to one container instance (ids, the short-id alias, addresses of
    dynamic allocation)."""
    endpoints = {}
    for name, endpoint in data["NetworkSettings"]["Networks"].items():
        aliases = sorted(alias for alias in endpoint.get("Aliases") or [] if not data["Id"].startswith(alias))
        endpoints[name] = (aliases, endpoint.get("IPAMConfig"), endpoint.get("Links"), endpoint.get("DriverOpts"))
    return endpoints


def test_it_is_a_new_container_under_the_old_name(rich, replaced):
    old, _port, _api_client = rich
    assert replaced["Id"] != old["Id"] and replaced["Name"] == old["Name"] and replaced["State"]["Running"]
    assert replaced["Image"] == old["Image"] and replaced["Config"]["Image"] == IMAGE


def test_config_is_identical(rich, replaced):
    old, _port, _api_client = rich
    assert replaced["Config"] == old["Config"]


def test_host_config_is_identical_but_for_the_anonymous_volume_attached_by_name(rich, replaced):
    old, _port, _api_client = rich
    anonymous = [m for m in old["Mounts"] if m["Destination"] == "/anon"][0]
    attached = {"Type": "volume", "Source": anonymous["Name"], "Target": "/anon"}
    assert replaced["HostConfig"] == dict(old["HostConfig"], Mounts=[attached])


def test_mounts_are_identical_volumes_included(rich, replaced):
    old, _port, _api_client = rich
    assert _without_anonymous_mode(_mounts(replaced)) == _without_anonymous_mode(_mounts(old))
    assert [mount[4] for mount in _mounts(replaced) if mount[3] == "/anon"] == ["z"]


def test_networks_aliases_and_static_address_are_identical(rich, replaced):
    old, _port, _api_client = rich
    assert _endpoints(replaced) == _endpoints(old)
    assert replaced["NetworkSettings"]["Networks"][NETWORK]["IPAddress"] == STATIC_ADDRESS


def test_the_published_port_answers(rich, replaced):
    _old, port, _api_client = rich
    assert replaced["NetworkSettings"]["Ports"]["8000/tcp"] == [{"HostIp": "127.0.0.1", "HostPort": str(port)}]
    with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=10) as response:
        assert response.status == 200


def test_the_alias_resolves_from_another_container_on_the_network(rich, replaced):
    _old, _port, api = rich
    lookup = "import socket; print(socket.gethostbyname('rich-alias'), socket.gethostbyname('second-alias'))"
    created = api.create_container(IMAGE, name=NAME + "-client", labels=LABELS, command=["python3", "-c", lookup],
                                   host_config=api.create_host_config(binds=[USERLAND_BIND], network_mode=NETWORK))
    api.connect_container_to_network(created["Id"], SECOND_NETWORK)
    api.start(created["Id"])
    assert api.wait(created["Id"], timeout=30)["StatusCode"] == 0
    first, second = api.logs(created["Id"]).decode().split()
    assert first == STATIC_ADDRESS
    assert second == replaced["NetworkSettings"]["Networks"][SECOND_NETWORK]["IPAddress"]
