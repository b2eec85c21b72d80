# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Containers that depend on another one, which a replacement of that one would cut off.

A container joined with `--network container:X` (or `--ipc`, `--pid`) lives in X's namespace: when X is
removed the namespace dies, and the dependant's NetworkMode names an id that no longer exists, so it
cannot start again. A legacy link (`--link X`) follows X's rename aside and ends with it; `--volumes-from
X` is resolved against X at every create of the dependant. So a container others depend on is not
replaced: container_remediate refuses it and names the dependants (recreating the group is left to its
owner, who knows the order it starts in). Dependants themselves can be replaced: their replacement
joins the same donor (spec.py leaves out what the Engine refuses for a `container:` network mode).
"""

from __future__ import annotations

import re

NAMESPACE_MODES = (("NetworkMode", "network namespace"), ("IpcMode", "IPC namespace"), ("PidMode", "PID namespace"))
HEX = re.compile(r"^[0-9a-f]+$")


def _names_it(reference, container):
    """Whether a reference (`container:<ref>`, a link target, a volumes-from source) means this container."""
    reference = (reference or "").lstrip("/")
    if not reference:
        return False
    if reference in (container.name, container.id):
        return True
    return bool(HEX.match(reference)) and container.id.startswith(reference)


def _dependencies(other):
    """[(reference, how)] of what one container depends on."""
    host_config = other.host_config
    found = []
    for key, how in NAMESPACE_MODES:
        mode = host_config.get(key) or ""
        if mode.startswith("container:"):
            found.append((mode[len("container:"):], how))
    for link in host_config.get("Links") or []:
        found.append((link.split(":", 1)[0], "link"))
    for source in host_config.get("VolumesFrom") or []:
        found.append((source.split(":", 1)[0], "volumes-from"))
    return found


def dependants_of(container, others):
    """[(name, how)] of the other containers (ContainerViews, stopped ones included) that depend on it."""
    found = []
    for other in others:
        if other.id == container.id:
            continue
        for reference, how in _dependencies(other):
            if _names_it(reference, container) and (other.name, how) not in found:
                found.append((other.name, how))
    return found


def dependants_refusal(dependants):
    """Why a container others depend on is kept, naming them, or None."""
    if not dependants:
        return None
    named = {}
    for name, how in dependants:
        named.setdefault(name, []).append(how)
    listed = ", ".join("%s (%s)" % (name, ", ".join(hows)) for name, hows in sorted(named.items()))
    return ("other containers depend on it - %s - and a replacement would cut them off: recreate them together "
            "with their owner (docker compose up -d --force-recreate), or exempt the rule for it" % listed)
