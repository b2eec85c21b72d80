# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Restart dockerd safely: check what it applied, and put the last good files back.

- unapplied_settings(): compare the running daemon (docker info, the
  default bridge, a probe container) with the daemon.json on disk, for
  every key the Engine reports; keys it does not report are listed as
  unverified rather than assumed.
- Checkpoint: a copy of every file dockerd reads, taken while dockerd runs
  with them (the last known good set), and a mark that a change is in
  progress. On a failed restart the checkpoint is restored, files that did
  not exist are removed, and dockerd started again. A run that stops
  between writing and restarting leaves the mark: the next run keeps the
  older checkpoint, restarts, verifies and rolls back like the first.

Plain functions and one small class over paths; the module runs systemctl.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import bridge as default_bridge


# --- what the running daemon applied ------------------------------------------

def _security_options(info):
    options = {}
    for entry in info.get("SecurityOptions") or []:
        fields = dict(part.partition("=")[::2] for part in entry.split(","))
        options[fields.pop("name", entry)] = fields
    return options


def _seccomp_profile(info):
    seccomp = _security_options(info).get("seccomp")
    return None if seccomp is None else seccomp.get("profile", "")


def _registry(info):
    return info.get("RegistryConfig") or {}


def _insecure_registries(info):
    registry = _registry(info)
    names = [name for name, index in (registry.get("IndexConfigs") or {}).items() if not index.get("Secure", True)]
    return set(registry.get("InsecureRegistryCIDRs") or []) | set(names)


def _mirrors(values):
    return sorted(str(value).rstrip("/") for value in values or [])


# daemon.json key -> (default when the key is absent, observed value from docker info, comparison).
# A comparison returns True when the observation shows the configured value.
_OBSERVED_IN_INFO = {
    "live-restore": (False, lambda info: bool(info.get("LiveRestoreEnabled")), None),
    "log-driver": ("json-file", lambda info: info.get("LoggingDriver"), None),
    "debug": (False, lambda info: bool(info.get("Debug")), None),
    "experimental": (False, lambda info: bool(info.get("ExperimentalBuild")), None),
    "storage-driver": (None, lambda info: info.get("Driver"), None),
    "default-runtime": ("runc", lambda info: info.get("DefaultRuntime"), None),
    "userns-remap": ("", lambda info: "userns" in _security_options(info),
                     lambda configured, observed: bool(configured) == observed),
    "seccomp-profile": (None, _seccomp_profile,
                        lambda configured, observed: observed is not None and (
                            configured == observed or (configured == "builtin" and observed in ("builtin", "default")))),
    "insecure-registries": ([], _insecure_registries,
                            lambda configured, observed: set(configured) <= observed),
    "registry-mirrors": ([], lambda info: _mirrors(_registry(info).get("Mirrors")),
                         lambda configured, observed: _mirrors(configured) == observed),
    "authorization-plugins": ([], lambda info: sorted((info.get("Plugins") or {}).get("Authorization") or []),
                              lambda configured, observed: sorted(configured) == observed),
    "labels": ([], lambda info: sorted(info.get("Labels") or []),
               lambda configured, observed: set(configured) <= set(observed)),
    "runtimes": ({}, lambda info: sorted(info.get("Runtimes") or {}),
                 lambda configured, observed: set(configured) <= set(observed)),
}


def unapplied_settings(config, info, bridge=None, probe=None):
    """(mismatches, unverified) between daemon.json content and the running daemon.

    mismatches: [{key, configured, observed}] for keys the Engine reports
    that do not show the configured value. unverified: sorted keys the
    Engine does not report (they are checked by their effect only: the
    probe container starts).
    bridge: `docker network inspect bridge`; probe: the probe container's
    inspect (its LogConfig shows the default log options).
    """
    mismatches, unverified = [], []
    for key in sorted(config):
        configured = config[key]
        if key in _OBSERVED_IN_INFO:
            _default, observe, compare = _OBSERVED_IN_INFO[key]
            observed = observe(info)
            matches = compare(configured, observed) if compare else configured == observed
        elif key in default_bridge.KEYS and bridge is not None:
            observed = default_bridge.observe(key, bridge)
            matches = default_bridge.shows(key, configured, bridge)
        elif key == "log-opts" and probe is not None:
            observed = ((probe.get("HostConfig") or {}).get("LogConfig") or {}).get("Config") or {}
            matches = all(observed.get(name) == value for name, value in configured.items())
        else:
            unverified.append(key)
            continue
        if not matches:
            mismatches.append({"key": key, "configured": configured, "observed": observed})
    return mismatches, unverified


def split_pending(mismatches, info):
    """(failed, pending): settings of the default bridge wait, not fail, when dockerd kept the bridge
    because containers ran across its restart (dockerd/bridge.py); every other mismatch failed."""
    if not default_bridge.kept_by_live_restore(info):
        return list(mismatches), []
    pending = [item for item in mismatches if item["key"] in default_bridge.KEYS]
    return [item for item in mismatches if item["key"] not in default_bridge.KEYS], pending


# /proc's boot time is whole seconds: a process start read from it may be early by up to this.
START_TIME_SLACK = 1.0


def written_since_start(paths, started_at, modified_at):
    """The paths written after dockerd started (started_at, epoch seconds): files it has not read yet.

    modified_at(path) is the file's mtime or None (absent). None when the start is unknown.
    """
    if started_at is None:
        return []
    return [path for path in paths if (modified_at(path) or 0) > started_at + START_TIME_SLACK]


def describe_mismatches(mismatches):
    return "; ".join("%s is %s in daemon.json but the daemon reports %s"
                     % (item["key"], json.dumps(item["configured"]), json.dumps(item["observed"])) for item in mismatches)


# --- dockerd's own words --------------------------------------------------------

_TIME_FIELD = re.compile(r'^time="[^"]*"\s*')


def failure_lines(journal_text, limit=5):
    """The last lines of dockerd's log that say why it failed (errors when there are any), in time order, without repeats."""
    lines = [line.strip() for line in (journal_text or "").splitlines() if line.strip()]
    telling = [line for line in lines
               if any(word in line for word in ("level=fatal", "level=error", "failed to start", "unable to configure",
                                                "Failed to start", "invalid", "Error"))]
    unique, seen = [], set()
    for line in reversed(telling or lines[-limit:]):
        # systemd restarts a failing dockerd (StartLimitBurst): each attempt logs the same
        # message under a new time="..." stamp, which is still a repeat.
        message = _TIME_FIELD.sub("", line)
        if message not in seen:
            seen.add(message)
            unique.append(line)
    return list(reversed(unique[:limit]))


# --- the last known good files --------------------------------------------------

class Checkpoint(object):
    """Copies of the files dockerd reads, taken while it ran with them.

    directory/manifest.json maps each path to its digest, owner, group and
    mode (or to absent); the copies sit next to it. The directory is
    root-only (0700): it may hold the daemon's TLS key.
    """

    MANIFEST = "manifest.json"
    IN_PROGRESS = "change-in-progress"

    def __init__(self, directory):
        self.directory = directory

    def _manifest_path(self):
        return os.path.join(self.directory, self.MANIFEST)

    def manifest(self):
        try:
            with open(self._manifest_path(), "r", encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return None

    @staticmethod
    def describe(paths):
        """{path: {sha256, uid, gid, mode} or {"absent": true}} of the files as they are now."""
        described = {}
        for path in paths:
            try:
                found = os.stat(path)
            except FileNotFoundError:
                described[path] = {"absent": True}
                continue
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            described[path] = {"sha256": digest, "uid": found.st_uid, "gid": found.st_gid,
                               "mode": stat.S_IMODE(found.st_mode)}
        return described

    def matches(self, paths):
        return self.manifest() == self.describe(paths)

    def record(self, paths):
        """Copy the files as they are now; return True when the checkpoint changed."""
        described = self.describe(paths)
        if self.manifest() == described:
            return False
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        os.chmod(self.directory, 0o700)
        for path, entry in described.items():
            if not entry.get("absent"):
                shutil.copyfile(path, self._copy_of(path))
                os.chmod(self._copy_of(path), 0o600)
        temporary = self._manifest_path() + ".new"
        with open(temporary, "w", encoding="utf-8") as handle:
            json.dump(described, handle, indent=1, sort_keys=True)
        os.replace(temporary, self._manifest_path())
        return True

    def restore(self):
        """Put every recorded file back as it was; return the paths changed. Needs a manifest."""
        manifest = self.manifest()
        if manifest is None:
            raise ValueError("no checkpoint in %s to restore" % self.directory)
        changed = []
        current = self.describe(list(manifest))
        for path, entry in sorted(manifest.items()):
            if current[path] == entry:
                continue
            if entry.get("absent"):
                os.unlink(path)
            else:
                temporary = path + ".bulwark-restore"
                shutil.copyfile(self._copy_of(path), temporary)
                os.chown(temporary, entry["uid"], entry["gid"])
                os.chmod(temporary, entry["mode"])
                os.replace(temporary, path)
            changed.append(path)
        return changed

    def in_progress(self):
        """Whether a change began and was not finished (verified, rolled back, or found unneeded)."""
        return os.path.exists(os.path.join(self.directory, self.IN_PROGRESS))

    def begin(self):
        """Mark that files dockerd reads may change now."""
        os.makedirs(self.directory, mode=0o700, exist_ok=True)
        with open(os.path.join(self.directory, self.IN_PROGRESS), "w", encoding="utf-8") as handle:
            handle.write("a change to the files dockerd reads began; the restart that applies it has not run yet\n")

    def finish(self):
        """Clear the mark: dockerd runs with the files on disk."""
        try:
            os.unlink(os.path.join(self.directory, self.IN_PROGRESS))
        except FileNotFoundError:
            pass

    def _copy_of(self, path):
        return os.path.join(self.directory, hashlib.sha256(path.encode("utf-8")).hexdigest()[:16] + ".copy")
