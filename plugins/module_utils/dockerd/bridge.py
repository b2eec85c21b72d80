# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The default bridge: which daemon settings shape it, how it shows them, and when a change waits.

dockerd builds the default `bridge` network from its settings at start
(daemon/daemon_unix.go, initBridgeDriver: icc, ip-masq, mtu, ip, bip,
fixed-cidr, default-gateway, ipv6, fixed-cidr-v6, default-gateway-v6 and
the interface name `bridge`). When it starts with containers still running
(live-restore kept them across the restart) it skips that step ("there are
running containers, updated network configuration will not take affect")
and the bridge keeps the settings it was made with: such a change waits,
whatever daemon.json says, until dockerd starts with no container running
(a reboot does that). It is not a failed change, and restarting again does
not help: the restart check calls it pending, the audit reads the bridge
itself.

Plain functions over `GET /networks/bridge` and `docker info`.
"""

from __future__ import annotations

import ipaddress

ICC_OPTION = "com.docker.network.bridge.enable_icc"
MASQUERADE_OPTION = "com.docker.network.bridge.enable_ip_masquerade"
BINDING_IP_OPTION = "com.docker.network.bridge.host_binding_ipv4"
NAME_OPTION = "com.docker.network.bridge.name"
MTU_OPTION = "com.docker.network.driver.mtu"


def _options(bridge):
    return bridge.get("Options") or {}


def _ipam_configs(bridge):
    return (bridge.get("IPAM") or {}).get("Config") or []


def _text_bool(value):
    return str(bool(value)).lower()


def _address(value):
    """The address part of an address or CIDR, normalised; None when it is not one."""
    try:
        return str(ipaddress.ip_interface(str(value)).ip)
    except ValueError:
        return None


def _network(value):
    try:
        return str(ipaddress.ip_network(str(value), strict=False))
    except ValueError:
        return None


def _gateways(bridge):
    return [_address(config.get("Gateway")) for config in _ipam_configs(bridge) if config.get("Gateway")]


def _subnets(bridge):
    return [_network(config.get("Subnet")) for config in _ipam_configs(bridge) if config.get("Subnet")]


def _ip_ranges(bridge):
    return [_network(config.get("IPRange")) for config in _ipam_configs(bridge) if config.get("IPRange")]


def _aux_addresses(bridge, name):
    return [_address(address) for config in _ipam_configs(bridge)
            for key, address in (config.get("AuxiliaryAddresses") or {}).items() if key == name]


# daemon.json key -> (what the bridge shows, whether that is the configured value).
# Every setting initBridgeDriver reads; nothing else of the daemon's configuration waits for the bridge.
SETTINGS = {
    "icc": (lambda bridge: _options(bridge).get(ICC_OPTION),
            lambda configured, observed: observed == _text_bool(configured)),
    "ip-masq": (lambda bridge: _options(bridge).get(MASQUERADE_OPTION),
                lambda configured, observed: observed == _text_bool(configured)),
    "mtu": (lambda bridge: _options(bridge).get(MTU_OPTION),
            lambda configured, observed: observed == str(configured)),
    "ip": (lambda bridge: _options(bridge).get(BINDING_IP_OPTION),
           lambda configured, observed: _address(observed) == _address(configured)),
    "bridge": (lambda bridge: _options(bridge).get(NAME_OPTION),
               lambda configured, observed: observed == configured),
    "bip": (_gateways,
            lambda configured, observed: _address(configured) in observed),
    "fixed-cidr": (_ip_ranges,
                   lambda configured, observed: _network(configured) in observed),
    "default-gateway": (lambda bridge: _aux_addresses(bridge, "DefaultGatewayIPv4"),
                        lambda configured, observed: _address(configured) in observed),
    "ipv6": (lambda bridge: bool(bridge.get("EnableIPv6")),
             lambda configured, observed: observed == bool(configured)),
    "fixed-cidr-v6": (_subnets,
                      lambda configured, observed: _network(configured) in observed),
    "default-gateway-v6": (lambda bridge: _aux_addresses(bridge, "DefaultGatewayIPv6"),
                           lambda configured, observed: _address(configured) in observed),
}
KEYS = frozenset(SETTINGS)


def observe(key, bridge):
    """What the bridge shows for a daemon.json key of SETTINGS."""
    return SETTINGS[key][0](bridge)


def shows(key, configured, bridge):
    """Whether the bridge shows the configured value of a daemon.json key of SETTINGS."""
    observe_key, compare = SETTINGS[key]
    return compare(configured, observe_key(bridge))


def unapplied(config, bridge):
    """[{key, configured, observed}] of config's bridge keys the bridge does not show."""
    return [{"key": key, "configured": config[key], "observed": observe(key, bridge)}
            for key in sorted(set(config) & KEYS) if not shows(key, config[key], bridge)]


def kept_by_live_restore(info):
    """Whether a dockerd start now would keep the bridge as it is: live-restore on, containers running."""
    info = info or {}
    return bool(info.get("LiveRestoreEnabled")) and (info.get("ContainersRunning") or 0) > 0


def waiting_reason(running_names, total_running=None):
    """Why a bridge setting waits, naming the running containers that keep the bridge as it is."""
    names = sorted(running_names)
    count = total_running if total_running is not None else len(names)
    shown = ", ".join(names[:5]) + (" and %d more" % (count - 5) if count > 5 else "")
    return ("dockerd keeps the default bridge as it was while containers run across its restart (live-restore): "
            "%d running (%s). It applies at the next dockerd start with no container running - a host reboot, "
            "or stopping them for the restart in a maintenance window." % (count, shown or "none listed"))
