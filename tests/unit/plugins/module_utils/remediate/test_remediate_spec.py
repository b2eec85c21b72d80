# -*- coding: utf-8 -*-
"""The replacement's create request, rebuilt from the old container's inspect data."""

from __future__ import annotations

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.spec import (
    anonymous_volumes, apply_changes, build_spec, create_links, create_request, endpoint_settings, get_setting,
    image_reference, primary_network,
)

from remediate_fixtures import ANONYMOUS_VOLUME, WEB_ID, WEB_IMAGE_ID, audit_container, neighbours, web_image, web_inspect

OTHER_IMAGE_ID = "sha256:" + "e" * 64
ANONYMOUS_MOUNT = {"Type": "volume", "Source": ANONYMOUS_VOLUME, "Target": "/var/cache/shop"}
ANOTHER_VOLUME = "0f" * 32


# --- the whole spec -----------------------------------------------------------

def test_build_spec_reproduces_config_and_host_config():
    inspect = web_inspect()
    spec = build_spec(inspect, web_image())
    config = spec["config"]
    host_config = config.pop("HostConfig")
    expected_host_config = dict(inspect["HostConfig"])
    expected_host_config["Mounts"] = inspect["HostConfig"]["Mounts"] + [ANONYMOUS_MOUNT]
    assert host_config == expected_host_config
    assert config == inspect["Config"]


def test_build_spec_keeps_what_the_service_needs():
    config = build_spec(web_inspect(), web_image())["config"]
    assert config["Image"] == "shop/web:2.4"
    assert config["Entrypoint"] == ["docker-entrypoint.sh"]
    assert config["Cmd"] == ["gunicorn", "--bind", "0.0.0.0:8080", "shop.wsgi"]
    assert config["Env"][0] == "SHOP_ENV=production"
    assert config["Labels"]["com.docker.compose.service"] == "web"
    assert config["Healthcheck"]["Test"][0] == "CMD"
    assert config["StopTimeout"] == 20
    host_config = config["HostConfig"]
    assert host_config["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    assert host_config["RestartPolicy"] == {"Name": "unless-stopped", "MaximumRetryCount": 0}
    assert host_config["Binds"] == ["/srv/shop/config:/etc/shop:ro", "/var/log/shop:/var/log/shop:rw"]
    assert host_config["Mounts"][0] == {"Type": "volume", "Source": "shop_media", "Target": "/srv/media", "VolumeOptions": {}}
    assert host_config["LogConfig"]["Config"]["max-size"] == "10m"
    assert host_config["Init"] is True
    assert host_config["Tmpfs"] == {"/run": "rw,noexec,nosuid"}


def test_build_spec_does_not_change_the_inspect_data():
    inspect = web_inspect({"HostConfig.Links": ["/shop-db-1:/shop-web-1/db"]})
    before = web_inspect({"HostConfig.Links": ["/shop-db-1:/shop-web-1/db"]})
    spec = build_spec(inspect, web_image())
    spec["config"]["HostConfig"]["Binds"].append("/x:/x")
    spec["config"]["HostConfig"]["Mounts"][0]["ReadOnly"] = True
    spec["config"]["Labels"]["new"] = "1"
    assert inspect == before


def test_build_spec_networks_have_the_endpoint_settings():
    spec = build_spec(web_inspect(), web_image())
    assert spec["networks"] == {
        "shop_backend": {"Aliases": ["shop-web-1", "web"], "IPAMConfig": {"IPv4Address": "172.28.0.10"}},
        "shop_frontend": {"Aliases": ["shop-web-1", "web"], "Links": ["shop-db-1:db"],
                          "DriverOpts": {"com.docker.network.endpoint.sysctls": "net.ipv4.conf.IFNAME.log_martians=1"}},
    }


def test_build_spec_of_the_audit_fixture_without_image():
    inspect = audit_container("insecure").inspect
    spec = build_spec(inspect)
    assert spec["config"]["Image"] == inspect["Image"]
    assert spec["config"]["HostConfig"]["Binds"] == inspect["HostConfig"]["Binds"]
    assert spec["networks"] == {"bridge": {}}


# --- legacy links -----------------------------------------------------------------

@pytest.mark.parametrize("links, expected", [
    (["/db:/web/db"], ["db:db"]),
    (["/shop-db-1:/shop-web-1/database", "/cache:/shop-web-1/cache"], ["shop-db-1:database", "cache:cache"]),
    (["/db"], ["db:db"]),
    (None, []),
])
def test_create_links(links, expected):
    assert create_links(links) == expected


def test_build_spec_converts_legacy_links():
    inspect = audit_container("insecure", {"HostConfig.Links": ["/fixture-db:/fixture-insecure/db"]}).inspect
    assert build_spec(inspect)["config"]["HostConfig"]["Links"] == ["fixture-db:db"]


# --- anonymous volumes ----------------------------------------------------------------

def test_an_anonymous_volume_is_attached_by_name():
    body, _others = create_request(build_spec(web_inspect(), web_image()))
    assert body["HostConfig"]["Mounts"][-1] == ANONYMOUS_MOUNT
    assert volume_given_for(body, "/var/cache/shop") == [ANONYMOUS_VOLUME]
    assert [mount["Destination"] for mount in anonymous_volumes(web_inspect())] == ["/var/cache/shop"]


def test_a_read_only_anonymous_volume_stays_read_only():
    inspect = web_inspect()
    inspect["Mounts"][3]["RW"] = False
    assert build_spec(inspect)["config"]["HostConfig"]["Mounts"][-1] == dict(ANONYMOUS_MOUNT, ReadOnly=True)


def test_anonymous_volumes_are_added_to_empty_mounts():
    inspect = web_inspect({"HostConfig.Mounts": None})
    inspect["Mounts"] = [mount for mount in inspect["Mounts"] if mount.get("Name") != "shop_media"]
    assert build_spec(inspect)["config"]["HostConfig"]["Mounts"] == [ANONYMOUS_MOUNT]


def test_named_volumes_and_binds_are_not_anonymous():
    inspect = web_inspect()
    inspect["Mounts"] = inspect["Mounts"][:3]
    assert anonymous_volumes(inspect) == []
    host_config = build_spec(inspect)["config"]["HostConfig"]
    assert host_config["Binds"] == inspect["HostConfig"]["Binds"]
    assert host_config["Mounts"] == inspect["HostConfig"]["Mounts"]


def test_a_random_id_volume_given_by_a_bind_is_not_added_twice():
    inspect = web_inspect()
    inspect["HostConfig"]["Binds"].append("%s:/var/cache/shop" % ANONYMOUS_VOLUME)
    assert anonymous_volumes(inspect) == []
    body, _others = create_request(build_spec(inspect))
    assert volume_given_for(body, "/var/cache/shop") == [ANONYMOUS_VOLUME]


def test_a_random_id_volume_named_by_a_mount_is_not_added_twice():
    inspect = web_inspect()
    inspect["HostConfig"]["Mounts"].append({"Type": "volume", "Source": ANONYMOUS_VOLUME, "Target": "/var/cache/shop"})
    assert anonymous_volumes(inspect) == []
    body, _others = create_request(build_spec(inspect))
    assert volume_given_for(body, "/var/cache/shop") == [ANONYMOUS_VOLUME]


def test_a_volume_with_a_short_or_upper_case_name_is_not_anonymous():
    inspect = web_inspect()
    inspect["Mounts"][3]["Name"] = "cache"
    assert anonymous_volumes(inspect) == []
    inspect["Mounts"][3]["Name"] = ANONYMOUS_VOLUME.upper()
    assert anonymous_volumes(inspect) == []


def volume_given_for(body, destination):
    """The volume the create body mounts at destination: a Binds source or a Mounts Source ('' = a fresh one)."""
    host_config = body["HostConfig"]
    found = [bind.split(":")[0] for bind in host_config.get("Binds") or [] if bind.split(":")[1] == destination]
    found += [mount.get("Source") or "" for mount in host_config.get("Mounts") or [] if mount.get("Target") == destination]
    return found


def test_an_anonymous_volume_given_by_a_mount_without_source_keeps_its_data():
    inspect = web_inspect()
    inspect["HostConfig"]["Mounts"].append({"Type": "volume", "Target": "/data"})
    inspect["Mounts"].append({"Type": "volume", "Name": ANOTHER_VOLUME, "Destination": "/data", "Driver": "local",
                              "Source": "/var/lib/docker/volumes/%s/_data" % ANOTHER_VOLUME, "RW": True})
    body, _others = create_request(build_spec(inspect, web_image()))
    assert volume_given_for(body, "/data") == [ANOTHER_VOLUME]


# --- network endpoints ---------------------------------------------------------------

def test_endpoint_settings_drop_the_old_short_id_alias_and_runtime_fields():
    endpoint = web_inspect()["NetworkSettings"]["Networks"]["shop_backend"]
    assert endpoint_settings(endpoint, WEB_ID) == {"Aliases": ["shop-web-1", "web"], "IPAMConfig": {"IPv4Address": "172.28.0.10"}}


def test_endpoint_settings_drop_the_full_id_alias_too():
    assert endpoint_settings({"Aliases": [WEB_ID, "web"]}, WEB_ID) == {"Aliases": ["web"]}


def test_endpoint_settings_of_an_empty_endpoint():
    assert endpoint_settings({}, WEB_ID) == {}
    assert endpoint_settings({"IPAMConfig": {"IPv4Address": "", "IPv6Address": "", "LinkLocalIPs": []},
                              "Aliases": None, "Links": None, "DriverOpts": None}, WEB_ID) == {}


def test_endpoint_settings_keep_static_addresses():
    endpoint = {"IPAMConfig": {"IPv4Address": "10.1.0.5", "IPv6Address": "fd00::5", "LinkLocalIPs": ["169.254.1.1"]}}
    assert endpoint_settings(endpoint, WEB_ID) == {"IPAMConfig": endpoint["IPAMConfig"]}


def test_an_alias_that_happens_to_prefix_the_old_id_is_kept():
    old_id = "db4e57f6eb2f" + WEB_ID[12:]
    endpoint = {"Aliases": ["shop-db-1", "db", old_id[:12]]}
    assert endpoint_settings(endpoint, old_id) == {"Aliases": ["shop-db-1", "db"]}


# --- create request ------------------------------------------------------------------

def test_create_request_gives_the_network_mode_network_at_create_and_the_others_for_connect():
    spec = build_spec(web_inspect(), web_image())
    body, others = create_request(spec)
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"shop_backend": spec["networks"]["shop_backend"]}}
    assert others == {"shop_frontend": spec["networks"]["shop_frontend"]}
    assert body["HostConfig"]["NetworkMode"] == "shop_backend"


def test_create_request_does_not_change_the_spec():
    spec = build_spec(web_inspect(), web_image())
    create_request(spec)
    assert sorted(spec["networks"]) == ["shop_backend", "shop_frontend"]
    assert "NetworkingConfig" not in spec["config"]


def test_default_network_mode_is_the_bridge():
    spec = build_spec(audit_container("insecure").inspect)
    body, others = create_request(spec)
    assert body["NetworkingConfig"] == {"EndpointsConfig": {"bridge": {}}}
    assert others == {}


def test_default_network_mode_with_other_networks():
    inspect = audit_container("insecure").inspect
    inspect["NetworkSettings"]["Networks"]["appnet"] = {"Aliases": ["app"]}
    body, others = create_request(build_spec(inspect))
    assert list(body["NetworkingConfig"]["EndpointsConfig"]) == ["bridge"]
    assert others == {"appnet": {"Aliases": ["app"]}}


@pytest.mark.parametrize("mode", ["host", "none", "container:4b5e57f6eb2f"])
def test_modes_without_endpoints_give_no_networks(mode):
    inspect = web_inspect({"HostConfig.NetworkMode": mode})
    inspect["NetworkSettings"]["Networks"] = {mode.split(":")[0]: {}}
    body, others = create_request(build_spec(inspect))
    assert "NetworkingConfig" not in body
    assert others == {}


def test_the_host_network_fixture_gives_no_networks():
    body, others = create_request(build_spec(audit_container("hostnet").inspect))
    assert "NetworkingConfig" not in body and others == {}
    assert body["HostConfig"]["NetworkMode"] == "host"


def test_a_network_mode_changed_away_from_host_leaves_the_daemon_to_attach_it():
    # 5.10 sets NetworkMode to the policy's network; the old endpoint was the host's, which is not kept.
    spec = build_spec(audit_container("hostnet", {"HostConfig.NetworkMode": "appnet"}).inspect)
    body, others = create_request(spec)
    assert body["HostConfig"]["NetworkMode"] == "appnet"
    assert "NetworkingConfig" not in body and others == {}


@pytest.mark.parametrize("mode, networks, expected", [
    (None, {"bridge": {}}, "bridge"),
    ("default", {"bridge": {}, "other": {}}, "bridge"),
    ("default", {"other": {}}, None),
    ("appnet", {"appnet": {}, "bridge": {}}, "appnet"),
    ("appnet", {"bridge": {}}, None),
    ("host", {"host": {}}, None),
    ("container:abc", {}, None),
])
def test_primary_network(mode, networks, expected):
    assert primary_network({"NetworkMode": mode} if mode else {}, networks) == expected


# --- the image -------------------------------------------------------------------------

def test_image_reference_keeps_the_run_tag_while_it_points_at_the_image():
    assert image_reference(web_inspect(), web_image()) == "shop/web:2.4"


def test_image_reference_falls_back_to_the_id_when_the_tag_moved():
    # The tag now names a newer build: the image the container runs has lost it.
    assert image_reference(web_inspect(), web_image({"RepoTags": ["shop/web:2.3"]})) == WEB_IMAGE_ID
    assert image_reference(web_inspect(), web_image({"RepoTags": []})) == WEB_IMAGE_ID


def test_image_reference_falls_back_to_the_id_when_the_image_is_another_one():
    assert image_reference(web_inspect(), web_image({"Id": OTHER_IMAGE_ID})) == WEB_IMAGE_ID


def test_a_name_without_tag_means_latest():
    inspect = web_inspect({"Config.Image": "shop/web"})
    assert image_reference(inspect, web_image({"RepoTags": ["shop/web:latest"]})) == "shop/web"
    assert image_reference(inspect, web_image({"RepoTags": ["shop/web:2.4"]})) == WEB_IMAGE_ID


def test_a_registry_port_is_not_a_tag():
    inspect = web_inspect({"Config.Image": "registry.lan:5000/shop/web"})
    assert image_reference(inspect, web_image({"RepoTags": ["registry.lan:5000/shop/web:latest"]})) == \
        "registry.lan:5000/shop/web"
    assert image_reference(inspect, web_image()) == WEB_IMAGE_ID


def test_a_digest_reference_is_kept_while_the_image_has_that_digest():
    digest = web_image()["RepoDigests"][0]
    inspect = web_inspect({"Config.Image": digest})
    assert image_reference(inspect, web_image()) == digest
    assert image_reference(inspect, web_image({"RepoDigests": []})) == WEB_IMAGE_ID


def test_a_container_run_by_image_id_keeps_the_id():
    assert image_reference(web_inspect({"Config.Image": WEB_IMAGE_ID}), web_image()) == WEB_IMAGE_ID
    assert image_reference(web_inspect({"Config.Image": WEB_IMAGE_ID[7:19]}), web_image()) == WEB_IMAGE_ID[7:19]
    assert image_reference(web_inspect({"Config.Image": WEB_IMAGE_ID[7:19]}), None) == WEB_IMAGE_ID


def test_without_the_image_inspect_the_id_is_used():
    assert image_reference(web_inspect(), None) == WEB_IMAGE_ID


def test_without_a_config_image_the_id_is_used():
    assert image_reference(web_inspect({"Config.Image": ""}), web_image()) == WEB_IMAGE_ID


# --- changes ----------------------------------------------------------------------------

def test_apply_changes_sets_and_unsets_without_touching_the_spec():
    spec = build_spec(web_inspect(), web_image())
    changed = apply_changes(spec, [("HostConfig", "Memory", 512), ("Config", "User", "1000"),
                                   ("HostConfig", "Tmpfs", None)])
    assert get_setting(changed, "HostConfig", "Memory") == 512
    assert get_setting(changed, "Config", "User") == "1000"
    assert "Tmpfs" not in changed["config"]["HostConfig"]
    assert get_setting(spec, "HostConfig", "Memory") == 0
    assert get_setting(spec, "HostConfig", "Tmpfs") == {"/run": "rw,noexec,nosuid"}


@pytest.mark.parametrize("named", ["docker.io/library/nginx", "index.docker.io/library/nginx:latest",
                                   "registry-1.docker.io/library/nginx"])
def test_image_reference_keeps_a_docker_hub_spelling_of_the_same_image(named):
    # The audit's 5.28 and the replacement read "does this name still mean this image" the same way.
    inspect = {"Image": "sha256:" + "1" * 64, "Config": {"Image": named}}
    image = {"Id": "sha256:" + "1" * 64, "RepoTags": ["nginx:latest"], "RepoDigests": []}
    assert image_reference(inspect, image) == named
    assert image_reference(inspect, dict(image, RepoTags=["nginx:1.27"])) == "sha256:" + "1" * 64


# --- containers in another one's namespaces -------------------------------------------------------------

def test_a_dependant_in_the_donors_network_is_created_with_what_the_engine_takes():
    inspect = neighbours()["netuser"]
    donor = "container:" + neighbours()["donor"]["Id"]
    assert inspect["Config"]["Hostname"] and inspect["HostConfig"]["NetworkMode"] == donor
    body, networks = create_request(build_spec(inspect))
    assert networks == {} and "NetworkingConfig" not in body
    for key in ("Hostname", "Domainname", "MacAddress", "ExposedPorts"):
        assert key not in body, key
    for key in ("PortBindings", "PublishAllPorts", "Dns", "DnsSearch", "DnsOptions", "ExtraHosts", "Links"):
        assert key not in body["HostConfig"], key
    # It still joins the same donor, in every namespace it shared.
    assert (body["HostConfig"]["NetworkMode"], body["HostConfig"]["IpcMode"], body["HostConfig"]["PidMode"]) == (
        donor, donor, donor)


def test_the_hosts_network_takes_no_mac_address_but_keeps_the_rest():
    inspect = neighbours()["hostnet"]
    inspect["Config"]["MacAddress"] = "02:42:ac:11:00:02"
    body, networks = create_request(build_spec(inspect))
    assert "MacAddress" not in body and body["Hostname"] == inspect["Config"]["Hostname"] and networks == {}


def test_a_container_on_a_network_keeps_its_network_settings():
    body, _networks = create_request(build_spec(web_inspect({"Config.Domainname": "shop.internal"}), web_image()))
    assert body["Hostname"] == "4b5e57f6eb2f" and body["Domainname"] == "shop.internal"
    assert body["HostConfig"]["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}]}
    assert body["HostConfig"]["ExtraHosts"] == ["host.docker.internal:host-gateway"]
