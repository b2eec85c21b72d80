# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Compose projects: the fixes container_remediate applied, as a docker-compose.override.yml that keeps them.

Compose recreates a service from its files whenever its configuration changes (and on `docker compose
down && up -d`): without the fixes in those files, they are gone. Each setting a remedy changes maps to
one Compose key (COMPOSE_KEYS); the fixes applied to a project's containers are kept in a record in the
state directory (compose-<project>.json) so the override carries every fix of every run, not only the
last one's, and rendered as an override file.

How Compose merges an override decides what it can carry: scalars (mem_limit, read_only, user, ...)
replace the base file's value; lists (cap_add, cap_drop, security_opt, tmpfs, ports) are merged with the
base file's, and volumes are merged by their container path. So an override can add to a list and
replace a volume, never take an entry out: what a fix removed (apparmor:unconfined from security_opt, the
Docker socket volume, a capability) is listed as an edit to make in the compose file itself, in the
result and as comments in the override. Tested with docker-compose 1.29 (Compose v2 merges the same way).

Written on request only (compose_override_write), next to the compose file Compose reads it with
(com.docker.compose.project.working_dir and config_files), never over a file someone else wrote: an
existing override is replaced only when it is byte for byte the one written last time (its checksum is
in the record); otherwise it is left alone and the text is returned to merge by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import write_atomically

PROJECT = "com.docker.compose.project"
SERVICE = "com.docker.compose.service"
WORKING_DIR = "com.docker.compose.project.working_dir"
CONFIG_FILES = "com.docker.compose.project.config_files"

# (section, key) a remedy changes -> (Compose key, how it is written); None: nothing to write (why in the text).
COMPOSE_KEYS = {
    ("HostConfig", "Memory"): ("mem_limit", "scalar"),
    ("HostConfig", "MemorySwap"): ("memswap_limit", "scalar"),
    ("HostConfig", "CpuShares"): ("cpu_shares", "scalar"),
    ("HostConfig", "PidsLimit"): ("pids_limit", "scalar"),
    ("HostConfig", "RestartPolicy"): ("restart", "restart"),
    ("HostConfig", "ReadonlyRootfs"): ("read_only", "scalar"),
    ("HostConfig", "Tmpfs"): ("tmpfs", "tmpfs"),
    ("HostConfig", "SecurityOpt"): ("security_opt", "list"),
    ("HostConfig", "CapDrop"): ("cap_drop", "list"),
    ("HostConfig", "CapAdd"): ("cap_add", "list"),
    ("HostConfig", "Privileged"): ("privileged", "scalar"),
    ("HostConfig", "MaskedPaths"): (None, "the Engine's defaults come back with privileged: false"),
    ("HostConfig", "ReadonlyPaths"): (None, "the Engine's defaults come back with privileged: false"),
    ("HostConfig", "PidMode"): ("pid", "scalar"),
    ("HostConfig", "IpcMode"): ("ipc", "scalar"),
    ("HostConfig", "UTSMode"): ("uts", "scalar"),
    ("HostConfig", "UsernsMode"): ("userns_mode", "scalar"),
    ("HostConfig", "NetworkMode"): ("network_mode", "scalar"),
    ("HostConfig", "PortBindings"): ("ports", "ports"),
    ("Config", "ExposedPorts"): (None, "Compose exposes the ports it publishes"),
    ("HostConfig", "Binds"): ("volumes", "binds"),
    ("HostConfig", "Mounts"): ("volumes", "mounts"),
    ("Config", "User"): ("user", "scalar"),
}
# The override file Compose loads by itself next to each compose file name.
OVERRIDE_NAMES = {
    "compose.yaml": "compose.override.yaml", "compose.yml": "compose.override.yml",
    "docker-compose.yaml": "docker-compose.override.yaml", "docker-compose.yml": "docker-compose.override.yml",
}
PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./@+-]*$")
YAML_WORDS = frozenset(["y", "n", "yes", "no", "true", "false", "on", "off", "null", "~"])
PROJECT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def is_compose(container):
    return bool(container.labels.get(PROJECT)) and bool(container.labels.get(SERVICE))


# --- one container's changes as Compose settings -------------------------------------------------------

def restart_text(policy):
    name = (policy or {}).get("Name") or "no"
    if name == "on-failure" and (policy or {}).get("MaximumRetryCount"):
        return "on-failure:%d" % policy["MaximumRetryCount"]
    return name


def tmpfs_entries(tmpfs):
    return ["%s:%s" % (path, options) if options else path for path, options in sorted((tmpfs or {}).items())]


def port_entries(bindings):
    entries = []
    for container_port, hosts in sorted((bindings or {}).items()):
        port, _slash, protocol = container_port.partition("/")
        for host in hosts or []:
            prefix = "%s:" % host["HostIp"] if host.get("HostIp") else ""
            entries.append("%s%s:%s/%s" % (prefix, host.get("HostPort") or "", port, protocol or "tcp"))
    return entries


def _bind_destination(bind):
    parts = bind.split(":")
    return parts[1] if len(parts) > 1 else parts[0]


def _mount_entry(mount):
    entry = {"type": mount.get("Type") or "bind", "source": mount.get("Source") or "", "target": mount.get("Target")}
    if mount.get("ReadOnly"):
        entry["read_only"] = True
    return entry


def _by_target(entries, target_of):
    return dict((target_of(entry), entry) for entry in entries or [])


def _list_change(before, after):
    """(added, removed) items of a list a Compose override can only add to."""
    before, after = list(before or []), list(after or [])
    return [item for item in after if item not in before], [item for item in before if item not in after]


def _volume_change(before, after, target_of, entry_of):
    """(volume entries to write, removed targets): changed and new ones replace by target; removed ones cannot."""
    old, new = _by_target(before, target_of), _by_target(after, target_of)
    written = [entry_of(new[target]) for target in sorted(new) if old.get(target) != new[target]]
    return written, sorted(target for target in old if target not in new)


def service_settings(changes):
    """({Compose key: value}, [edit]) for one container's changes [(section, key, before, after)]."""
    settings, edits = {}, []
    for section, key, before, after in changes:
        compose_key, how = COMPOSE_KEYS[(section, key)]
        if compose_key is None:
            continue
        if how == "scalar":
            settings[compose_key] = "" if after is None else after
        elif how == "restart":
            settings[compose_key] = restart_text(after)
        elif how in ("list", "tmpfs", "ports"):
            convert = {"list": list, "tmpfs": tmpfs_entries, "ports": port_entries}[how]
            added, removed = _list_change(convert(before or []), convert(after or []))
            if added:
                settings[compose_key] = added
            edits.extend("remove %s from %s" % (_scalar(item), compose_key) for item in removed)
        else:
            target_of, entry_of = ((_bind_destination, lambda bind: bind) if how == "binds"
                                   else (lambda mount: mount.get("Target"), _mount_entry))
            written, removed = _volume_change(before, after, target_of, entry_of)
            if written:
                settings[compose_key] = settings.get(compose_key, []) + written
            edits.extend("remove the volume at %s" % target for target in removed)
    return settings, edits


# --- the record of a project's fixes ------------------------------------------------------------------------

def _volume_target(entry):
    return entry.get("target") if isinstance(entry, dict) else _bind_destination(entry)


def merge_settings(recorded, settings):
    """A service's recorded settings with new ones: scalars replaced, list additions kept, volumes by target."""
    merged = dict(recorded)
    for key, value in settings.items():
        if key == "volumes":
            kept = [entry for entry in merged.get(key, []) if _volume_target(entry) not in set(map(_volume_target, value))]
            merged[key] = kept + list(value)
        elif isinstance(value, list):
            merged[key] = list(merged.get(key, [])) + [item for item in value if item not in merged.get(key, [])]
        else:
            merged[key] = value
    return merged


def new_record(project):
    return {"project": project, "services": {}, "edits": {}, "written": None}


def add_fixes(record, service, settings, edits):
    record["services"][service] = merge_settings(record["services"].get(service, {}), settings)
    known = record["edits"].setdefault(service, [])
    known.extend(edit for edit in edits if edit not in known)
    if not record["edits"][service]:
        record["edits"].pop(service)


def record_path(state_dir, project):
    return os.path.join(state_dir, "compose-%s.json" % project)


def load_record(state_dir, project):
    """The project's record from the state directory (a new one when there is none or it is unreadable)."""
    if not PROJECT_NAME.match(project or ""):
        return new_record(project)
    try:
        with open(record_path(state_dir, project), "r", encoding="utf-8") as handle:
            record = json.load(handle)
    except (OSError, ValueError):
        return new_record(project)
    if not isinstance(record, dict) or not isinstance(record.get("services"), dict):
        return new_record(project)
    record.setdefault("edits", {})
    record.setdefault("written", None)
    return record


def save_record(state_dir, record):
    if PROJECT_NAME.match(record["project"] or ""):
        write_atomically(record_path(state_dir, record["project"]), json.dumps(record, indent=1, sort_keys=True) + "\n")


# --- the override file ------------------------------------------------------------------------------------

def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    text = str(value)
    if PLAIN.match(text) and text.lower() not in YAML_WORDS:
        return text
    return json.dumps(text)


def _setting_lines(key, value):
    if not isinstance(value, list):
        return ["    %s: %s" % (key, _scalar(value))]
    lines = ["    %s:" % key]
    for item in value:
        if isinstance(item, dict):
            pairs = sorted(item.items(), key=lambda pair: ("type", "source", "target", "read_only").index(pair[0]))
            lines.append("    - %s: %s" % (pairs[0][0], _scalar(pairs[0][1])))
            lines.extend("      %s: %s" % (name, _scalar(text)) for name, text in pairs[1:])
        else:
            lines.append("    - %s" % _scalar(item))
    return lines


def render_override(record):
    """The override text of a project's record (services and keys sorted, so the same fixes give the same bytes)."""
    lines = [
        "# Written by bulwark.hardening.container_remediate: the fixes it applied to Compose project %s." % record["project"],
        "# Keep it next to the compose file: `docker compose up -d` then recreates these services with the fixes",
        "# (once, as their configuration changed) and keeps them; without it, `docker compose down && up -d`",
        "# or any recreate brings back the compose file's settings alone.",
    ]
    edits = [(service, edit) for service in sorted(record.get("edits") or {}) for edit in record["edits"][service]]
    if edits:
        lines.append("# An override can only add to lists and replace volumes; make these edits in the compose file:")
        lines.extend("#   %s: %s" % (service, edit) for service, edit in edits)
    lines.append("services:")
    for service in sorted(record["services"]):
        settings = record["services"][service]
        lines.append("  %s:%s" % (_scalar(service), "" if settings else " {}"))
        for key in sorted(settings):
            lines.extend(_setting_lines(key, settings[key]))
    return "\n".join(lines) + "\n"


def override_path(labels):
    """(path Compose reads the override from, None) or (None, why it cannot be written there)."""
    working_dir = labels.get(WORKING_DIR) or ""
    files = [name for name in (labels.get(CONFIG_FILES) or "").split(",") if name]
    if not working_dir.startswith("/"):
        return None, "the container does not say where its project's directory is (%s)" % WORKING_DIR
    bases = [os.path.basename(name) for name in files if os.path.basename(name) in OVERRIDE_NAMES]
    others = [name for name in files if os.path.basename(name) not in OVERRIDE_NAMES
              and os.path.basename(name) not in OVERRIDE_NAMES.values()]
    if len(bases) != 1 or others:
        return None, ("Compose loads an override by itself only next to one compose.yaml or docker-compose.yml, and "
                      "this project was started from %s: add the override with -f" % (", ".join(files) or "unknown files"))
    return os.path.join(working_dir, OVERRIDE_NAMES[bases[0]]), None


def checksum(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def write_override(path, text, record):
    """(written, detail): the override written at path unless a file not written by us is there."""
    try:
        with open(path, "r", encoding="utf-8") as handle:
            current = handle.read()
    except FileNotFoundError:
        current = None
    except (OSError, ValueError) as error:
        return False, "not written: %s cannot be read (%s)" % (path, error)
    if current == text:
        record["written"] = checksum(text)
        return False, "%s already holds these fixes" % path
    if current is not None and checksum(current) != record.get("written"):
        return False, ("not written: %s exists and is not the one container_remediate wrote; merge the override "
                       "below into it by hand" % path)
    if not os.path.isdir(os.path.dirname(path)):
        return False, "not written: the project's directory %s is not on this host" % os.path.dirname(path)
    write_atomically(path, text, mode=0o644)
    record["written"] = checksum(text)
    return True, "written to %s" % path
