# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""What a replacement would lose from the old container's writable layer.

A replacement starts from the image: whatever the old container added, changed or deleted outside its
volumes, binds and tmpfs mounts (its writable layer, the Engine's GET /containers/{id}/changes) is not
in it. Added and changed files would be lost; deleted image files would come back. Both are refused:
a deletion is a change the service made (a default config removed, a setup file consumed), and
bringing the file back would silently undo it. Only paths the policy names disposable (scratch,
runtime state, caches) may go.

Not counted: what the Engine makes itself and a replacement gets again (mount points of volumes, binds
and tmpfs mounts, the working directory, and their parent directories), and directories that are listed
only because an entry below them changed.
"""

from __future__ import annotations

import fnmatch

from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import mask_free_text

# GET /containers/{id}/changes: Kind of each entry.
KINDS = {0: "changed", 1: "added", 2: "deleted"}
# Paths named in a refusal; the rest are counted.
SHOWN_PATHS = 10


def _segments(path):
    return [part for part in path.split("/") if part]


def _covers(pattern, path):
    """Whether the pattern's segments match the path's first segments (the entry covers what is below it)."""
    if not pattern:
        return True
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_covers(rest, path[index:]) for index in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], head) and _covers(rest, path[1:])


def is_disposable(path, disposable_paths):
    """Whether a layer path is covered by one of the policy's disposable_paths globs."""
    segments = _segments(path)
    return any(_covers(_segments(glob), segments) for glob in disposable_paths or ())


def _ancestors(path):
    segments = _segments(path)
    return set("/" + "/".join(segments[:depth]) for depth in range(1, len(segments)))


def mount_points(inspect):
    """Container paths the Engine makes itself: mount points of volumes, binds and tmpfs (either way of giving
    them), and the working directory when the image lacks it. A replacement gets them again."""
    host_config = inspect.get("HostConfig") or {}
    points = set(mount.get("Destination") for mount in inspect.get("Mounts") or [])
    points.add((inspect.get("Config") or {}).get("WorkingDir"))
    points |= set(mount.get("Target") for mount in host_config.get("Mounts") or [])
    points |= set(host_config.get("Tmpfs") or {})
    points |= set(bind.split(":")[1] for bind in host_config.get("Binds") or [] if bind.count(":") >= 1)
    return set(point.rstrip("/") or "/" for point in points if point)


def changes_at_risk(changes, inspect, disposable_paths):
    """[(kind, path)] of the layer's changes a replacement would lose or undo, in the Engine's order."""
    changes = [change for change in changes or [] if change.get("Path")]
    listed = [change["Path"] for change in changes]
    parents = set()
    for path in listed:
        parents |= _ancestors(path)
    points = mount_points(inspect)
    for point in points:
        parents |= _ancestors(point)
    at_risk = []
    for change in changes:
        path = change["Path"]
        if path in points or path in parents or is_disposable(path, disposable_paths):
            continue
        at_risk.append((KINDS.get(change.get("Kind"), "changed"), path))
    return at_risk


def layer_refusal(at_risk):
    """Why the recreate is refused, naming the paths (the first SHOWN_PATHS of them), or None."""
    if not at_risk:
        return None
    shown = ", ".join("%s %s" % (kind, mask_free_text(path)) for kind, path in at_risk[:SHOWN_PATHS])
    more = " and %d more" % (len(at_risk) - SHOWN_PATHS) if len(at_risk) > SHOWN_PATHS else ""
    return ("its writable layer holds what a replacement would lose or undo (%s%s): move that data to a volume, "
            "or name the paths in policy.disposable_paths if they may go" % (shown, more))
