# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""A container's create request, rebuilt from its inspect data.

The Engine's create endpoint takes Config and HostConfig in the very shape
inspect returns them, so the replacement is created from the old
container's own Config and HostConfig, not from a list of settings someone
remembered to copy: image, command, entrypoint, env, working dir, user,
labels (compose's included), hostname, healthcheck, stop signal and timeout
(Config); binds, mounts, tmpfs, devices, ports, restart policy, logging,
ulimits, sysctls, extra hosts, dns, init, resources (HostConfig). What
inspect shows differently from what create takes is translated here:

- legacy links: `/db:/web/db` in inspect, `db:db` at create;
- anonymous volumes (named by a random id and given by no bind or mount)
  are attached to the replacement by name at the same path (a
  HostConfig.Mounts entry), so their data stays with the service; a fresh
  anonymous volume would be empty;
- networks: the one of NetworkMode at create, the others connected before
  start (the API takes one at create), each with its aliases (without the
  old container's short id, which the daemon adds for the new one), static
  addresses, links and driver options;
- the image: the name it was run with, when that name still points at the
  same image id; otherwise the id itself, so a re-tagged name never swaps
  the software under the service;
- a container in another one's network namespace (`--network container:X`)
  shows the settings of X's network (its hostname, ports, DNS, extra hosts)
  that the Engine refuses at create for such a container: they are left out
  of the request (the replacement gets them from X again, as the old one
  did); with the host's network, a MAC address is left out the same way.

A spec is a dict {"config": create body, "networks": {name: endpoint}}; the
changes a fix makes are (section, key, value) triples applied to it.
"""

from __future__ import annotations

import copy
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import reference_names_image

ANONYMOUS_VOLUME = re.compile(r"^[0-9a-f]{64}$")
# Networks that are modes, not networks one can give endpoint settings for.
NETWORK_MODES_WITHOUT_ENDPOINTS = ("host", "none")


def image_reference(inspect, image):
    """The image to create from: the name it was run with while that name means the same id, else the id."""
    wanted = inspect.get("Image", "")
    named = (inspect.get("Config") or {}).get("Image") or ""
    if not named or image is None:
        return wanted or named
    if named == wanted or wanted.replace("sha256:", "").startswith(named.replace("sha256:", "")):
        return named
    if image.get("Id") == wanted and reference_names_image(named, image):
        return named
    return wanted


def create_links(links):
    """Inspect's `/db:/web/db` as create's `db:db`."""
    converted = []
    for link in links or []:
        target, _sep, alias = link.partition(":")
        converted.append("%s:%s" % (target.lstrip("/"), alias.rsplit("/", 1)[-1] if alias else target.lstrip("/")))
    return converted


def anonymous_volumes(inspect):
    """Mounts of anonymous volumes: a random-id name, at a path no bind or mount of HostConfig gives by name.

    A HostConfig.Mounts volume entry without a Source (`--mount type=volume,dst=/data`) asks for an
    anonymous volume too: it is named by attach_anonymous_mounts, not counted as given.
    """
    host_config = inspect.get("HostConfig") or {}
    given = set(bind.split(":")[1] for bind in host_config.get("Binds") or [] if bind.count(":") >= 1)
    given |= set(mount.get("Target") for mount in host_config.get("Mounts") or [] if mount.get("Source"))
    return [mount for mount in inspect.get("Mounts") or []
            if mount.get("Type") == "volume" and ANONYMOUS_VOLUME.match(mount.get("Name") or "")
            and mount.get("Destination") not in given]


def attach_anonymous_volumes(host_config, anonymous):
    """HostConfig.Mounts naming each anonymous volume: its own source-less entry gets the name, the
    others (declared by the image or `-v /path`) get an entry of their own."""
    by_target = dict((mount["Destination"], mount) for mount in anonymous)
    mounts = []
    for entry in host_config.get("Mounts") or []:
        if entry.get("Type") == "volume" and not entry.get("Source") and entry.get("Target") in by_target:
            entry = dict(entry, Source=by_target.pop(entry["Target"])["Name"])
        mounts.append(entry)
    return mounts + [volume_mount(mount) for mount in anonymous if mount["Destination"] in by_target]


def volume_mount(mount):
    """A HostConfig.Mounts entry attaching an anonymous volume by name (a Binds entry would show mode z)."""
    attached = {"Type": "volume", "Source": mount["Name"], "Target": mount["Destination"]}
    if not mount.get("RW", True):
        attached["ReadOnly"] = True
    return attached


def endpoint_settings(endpoint, old_id):
    """The create/connect shape of one network endpoint of the old container."""
    settings = {}
    aliases = [alias for alias in endpoint.get("Aliases") or [] if alias not in (old_id, old_id[:12])]
    if aliases:
        settings["Aliases"] = aliases
    ipam = endpoint.get("IPAMConfig") or {}
    ipam = dict((key, value) for key, value in ipam.items() if value)
    if ipam:
        settings["IPAMConfig"] = ipam
    for key in ("Links", "DriverOpts"):
        if endpoint.get(key):
            settings[key] = endpoint[key]
    return settings


def primary_network(host_config, networks):
    """The network given at create: the one NetworkMode names (default: bridge)."""
    mode = host_config.get("NetworkMode") or "default"
    if mode in NETWORK_MODES_WITHOUT_ENDPOINTS or mode.startswith("container:"):
        return None
    if mode == "default":
        return "bridge" if "bridge" in networks else None
    return mode if mode in networks else None


def build_spec(inspect, image=None):
    """{"config": create body, "networks": {name: endpoint settings}} reproducing the container."""
    config = copy.deepcopy(inspect.get("Config") or {})
    host_config = copy.deepcopy(inspect.get("HostConfig") or {})
    config["Image"] = image_reference(inspect, image)
    if host_config.get("Links"):
        host_config["Links"] = create_links(host_config["Links"])
    anonymous = anonymous_volumes(inspect)
    if anonymous:
        host_config["Mounts"] = attach_anonymous_volumes(host_config, anonymous)
    old_id = inspect.get("Id", "")
    networks = dict((name, endpoint_settings(endpoint, old_id))
                    for name, endpoint in ((inspect.get("NetworkSettings") or {}).get("Networks") or {}).items())
    config["HostConfig"] = host_config
    return {"config": config, "networks": networks}


# What the Engine refuses at create with NetworkMode container:<X> (it comes from X), and with host.
FROM_THE_DONOR = (("Config", "Hostname"), ("Config", "Domainname"), ("Config", "MacAddress"), ("Config", "ExposedPorts"),
                  ("HostConfig", "PortBindings"), ("HostConfig", "PublishAllPorts"), ("HostConfig", "Dns"),
                  ("HostConfig", "DnsSearch"), ("HostConfig", "DnsOptions"), ("HostConfig", "ExtraHosts"),
                  ("HostConfig", "Links"))
FROM_THE_HOST = (("Config", "MacAddress"),)


def without_network_settings(body, mode):
    """The create body without what the network mode gives the container itself (the Engine refuses it)."""
    dropped = FROM_THE_DONOR if mode.startswith("container:") else FROM_THE_HOST if mode == "host" else ()
    for section, key in dropped:
        (body["HostConfig"] if section == "HostConfig" else body).pop(key, None)
    return body


def create_request(spec):
    """(create body, {network: endpoint} to connect before start) for a spec."""
    body = copy.deepcopy(spec["config"])
    mode = body["HostConfig"].get("NetworkMode") or "default"
    if mode in NETWORK_MODES_WITHOUT_ENDPOINTS or mode.startswith("container:"):
        return without_network_settings(body, mode), {}
    networks = dict((name, endpoint) for name, endpoint in spec["networks"].items()
                    if name not in NETWORK_MODES_WITHOUT_ENDPOINTS)
    primary = primary_network(body["HostConfig"], networks)
    if primary is not None:
        body["NetworkingConfig"] = {"EndpointsConfig": {primary: networks.pop(primary)}}
    return body, networks


# --- changes --------------------------------------------------------------

def get_setting(spec, section, key):
    """A setting of a spec: section is Config or HostConfig."""
    config = spec["config"]
    return (config["HostConfig"] if section == "HostConfig" else config).get(key)


def set_setting(spec, section, key, value):
    config = spec["config"]
    target = config["HostConfig"] if section == "HostConfig" else config
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def apply_changes(spec, changes):
    """A copy of spec with every (section, key, value) change set (value None removes the key)."""
    changed = copy.deepcopy(spec)
    for section, key, value in changes:
        set_setting(changed, section, key, value)
    return changed
