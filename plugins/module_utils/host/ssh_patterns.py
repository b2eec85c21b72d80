# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""sshd's patterns, as sshd_config(5) and authorized_keys' from= define them.

A pattern has `*` (any run of characters) and `?` (one character) and
nothing else; a pattern list is comma-separated, an entry starting with `!`
negates, and a negated match wins over every positive one. Addresses also
match CIDR entries. sshd compares host names without case, user and group
names with case.
"""

from __future__ import annotations

import ipaddress
import re


def wildcard_match(text, pattern, fold_case=False):
    """Whether text matches one pattern (`*` and `?` only, the whole text)."""
    regex = "".join(".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    flags = re.DOTALL | (re.IGNORECASE if fold_case else 0)
    return re.match(regex + r"\Z", text, flags) is not None


def pattern_list_match(text, patterns, fold_case=False):
    """1 when an entry of the comma-separated list matches, -1 when a negated one does, else 0."""
    found = 0
    for entry in patterns.split(","):
        negated = entry.startswith("!")
        if wildcard_match(text, entry[1:] if negated else entry, fold_case):
            if negated:
                return -1
            found = 1
    return found


def _network(entry):
    """An address or CIDR entry as a network; None for a wildcard pattern."""
    try:
        return ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return None


def address_list_match(address, patterns):
    """pattern_list_match for an IP address: CIDR and plain addresses by value, other entries as patterns."""
    try:
        value = ipaddress.ip_address(address)
    except ValueError:
        return 0
    found = 0
    for entry in patterns.split(","):
        negated = entry.startswith("!")
        body = entry[1:] if negated else entry
        network = _network(body)
        if network is not None:
            hit = network.version == value.version and value in network
        else:
            hit = wildcard_match(address, body)
        if hit:
            if negated:
                return -1
            found = 1
    return found


def host_and_address_match(host, address, patterns):
    """Whether a client (its name, its address) is in the list, as for from= and user@host entries.

    host: the name sshd knows the client by (its address when UseDNS is no, the default).
    """
    by_address = address_list_match(address, patterns) if address else 0
    by_host = pattern_list_match(host.lower(), patterns, fold_case=True) if host else 0
    if by_address == -1 or by_host == -1:
        return False
    return by_address == 1 or by_host == 1


def user_entry_match(user, host, address, entry):
    """One AllowUsers/DenyUsers entry: a user pattern, or USER@HOST where HOST is matched as for from=."""
    user_pattern, at, host_pattern = entry.partition("@")
    if not wildcard_match(user, user_pattern):
        return False
    return not at or host_and_address_match(host, address, host_pattern)
