# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart dockerd through systemd, prove it runs as configured, or roll back to the checkpoint.

The daemon_restart module parses its arguments and shapes the result; the
steps are here. Every systemctl call and every wait is bounded by the
timeout. What "as configured" means is restart.unapplied_settings(); the
throwaway container is engine.probe.
"""

from __future__ import annotations

import time

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import host_state, restart
from ansible_collections.bulwark.hardening.plugins.module_utils.engine import probe
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import EngineError, guarded

# After the API answers, settings are final; a second look covers a reload still settling.
SETTLE_SECONDS = 2
RELOAD_SECONDS = 10


class RestartFailed(Exception):
    """dockerd did not come back as configured; the message says what was seen."""


class DockerService(object):
    """dockerd behind a systemd unit and the Engine API (client: engine.connection.CountingClient)."""

    def __init__(self, client, service="docker.service", timeout=60, run=host_state.run_command):
        self.client = client
        self.service = service
        self.timeout = timeout
        self.run = run

    def systemctl(self, *args):
        rc, out, err = self.run(["systemctl"] + list(args), timeout=self.timeout)
        if rc != 0:
            raise RestartFailed("systemctl %s: %s" % (" ".join(args), (err or out).strip() or "rc %d" % rc))

    def restart(self):
        """Reload units (drop-ins may have changed), clear the start limit, restart."""
        self.systemctl("daemon-reload")
        self.systemctl("reset-failed", self.service)
        self.systemctl("restart", self.service)

    def info(self):
        return guarded(self.client, self.client.call, "info")

    def optional(self, name, *args):
        """An API call whose failure only means "not known"."""
        try:
            return self.client.call(name, *args)
        except Exception:  # pylint: disable=broad-except
            return None

    def wait_for_api(self, what):
        """docker info once the API answers, within the timeout."""
        deadline = time.monotonic() + self.timeout
        last = "the Docker API did not answer"
        while time.monotonic() < deadline:
            try:
                return self.info()
            except EngineError as error:
                last = str(error)
            time.sleep(1)
        raise RestartFailed("%s within %d s: %s" % (what, self.timeout, last))

    def journal_since(self, started):
        rc, out, _err = self.run(["journalctl", "--unit", self.service, "--since", "@%d" % int(started),
                                  "--no-pager", "--output", "cat"], timeout=self.timeout)
        if rc != 0 or not out.strip():
            rc, out, _err = self.run(["systemctl", "status", "--no-pager", "--lines", "20", self.service],
                                     timeout=self.timeout)
        return out


def enable_live_restore_first(daemon, config, warn):
    """Switch live-restore on by a reload (SIGHUP), so the restart itself does not stop the containers."""
    if not config.get("live-restore"):
        return
    try:
        if daemon.info().get("LiveRestoreEnabled"):
            return
        daemon.systemctl("reload", daemon.service)
        # A reload applies at once or not at all (dockerd refused the file): no long wait.
        limit = min(daemon.timeout, RELOAD_SECONDS)
        deadline = time.monotonic() + limit
        while not daemon.info().get("LiveRestoreEnabled"):
            if time.monotonic() > deadline:
                raise RestartFailed("live-restore did not turn on by a reload within %d s" % limit)
            time.sleep(1)
    except (RestartFailed, EngineError) as error:
        warn("live-restore could not be turned on before the restart, so running containers were stopped by it: %s"
             % error)


def _mismatches(daemon, config, info, probe_inspect=None):
    bridge = daemon.optional("inspect_network", "bridge") if set(config) & restart.BRIDGE_KEYS else None
    return restart.unapplied_settings(config, info, bridge=bridge, probe=probe_inspect)


def restart_verified(daemon, config, run_probe=True, warn=None):
    """Restart, then prove the daemon shows every reported key of config and runs a container.

    Returns {verified, unverified, probe}; raises RestartFailed (or EngineError) otherwise.
    """
    warn = warn or (lambda message: None)
    daemon.restart()
    info = daemon.wait_for_api("dockerd did not come back with the new daemon.json")
    mismatches, _unverified = _mismatches(daemon, config, info)
    if mismatches:
        time.sleep(SETTLE_SECONDS)
        info = daemon.info()
        mismatches, _unverified = _mismatches(daemon, config, info)
    if mismatches:
        raise RestartFailed(restart.describe_mismatches(mismatches))
    result, probe_inspect = {}, None
    if run_probe and not probe.supported(info.get("Architecture")):
        warn("no probe container for architecture %s: containers were not tried" % info.get("Architecture"))
    elif run_probe:
        # guarded: an API or transport error while setting the probe up (the image import refused,
        # dockerd gone) is an EngineError, which the caller rolls back on, not a raw SDK error.
        started, result["probe"], probe_inspect = guarded(daemon.client, probe.run_probe, daemon.client.call,
                                                          info.get("Architecture"), daemon.timeout)
        if not started:
            raise RestartFailed("dockerd runs with the new configuration, but containers cannot run: %s" % result["probe"])
    mismatches, unverified = _mismatches(daemon, config, info, probe_inspect)
    if mismatches:
        raise RestartFailed(restart.describe_mismatches(mismatches))
    result["verified"] = sorted(set(config) - set(unverified))
    result["unverified"] = unverified
    return result


def roll_back(daemon, book, started):
    """Put the checkpoint back and start dockerd with it: (files restored, dockerd's words, what state it is in).

    dockerd is started again even when nothing could be restored: a daemon
    down is the one outcome this must not leave behind when it can help it.
    """
    said = restart.failure_lines(daemon.journal_since(started))
    restored, problem = [], None
    try:
        restored = book.restore()
    except (ValueError, OSError) as error:
        problem = "the checkpoint could not be restored (%s)" % error
    try:
        daemon.restart()
        daemon.wait_for_api("dockerd did not come back with the previous configuration either")
    except (RestartFailed, EngineError) as error:
        # The mark stays: the next run starts again from the same checkpoint.
        return restored, said, "Rolling back failed, dockerd may be DOWN: %s" % "; ".join(filter(None, [problem, str(error)]))
    if problem:
        return restored, said, "dockerd runs again, but %s: check the files it reads." % problem
    book.finish()
    return restored, said, "The previous configuration is back (%s) and dockerd runs with it." % (
        ", ".join(restored) or "unchanged files")
