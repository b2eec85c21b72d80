# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Restart dockerd through systemd, prove it runs as configured, or roll back to the checkpoint.

The daemon_restart module parses its arguments and shapes the result; the
steps are here. Every systemctl call and every wait is bounded by the
timeout. What "as configured" means is restart.unapplied_settings(); the
throwaway container is engine.probe.
"""

from __future__ import annotations

import json
import os
import time

from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import bridge as default_bridge
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
    """Switch live-restore on by a reload (SIGHUP), so the restart itself does not stop the containers.

    True when the running daemon has live-restore now, or config does not ask for it; False (after a
    warning saying why) when it could not be turned on: the caller must not restart over running containers.
    """
    if not config.get("live-restore"):
        return True
    try:
        if daemon.info().get("LiveRestoreEnabled"):
            return True
        daemon.systemctl("reload", daemon.service)
        # A reload applies at once or not at all (dockerd refused the file): no long wait.
        limit = min(daemon.timeout, RELOAD_SECONDS)
        deadline = time.monotonic() + limit
        while not daemon.info().get("LiveRestoreEnabled"):
            if time.monotonic() > deadline:
                raise RestartFailed("live-restore did not turn on by a reload within %d s" % limit)
            time.sleep(1)
    except (RestartFailed, EngineError) as error:
        warn("live-restore could not be turned on before the restart: %s" % error)
        return False
    return True


def _mismatches(daemon, config, info, probe_inspect=None):
    bridge = daemon.optional("inspect_network", "bridge") if set(config) & default_bridge.KEYS else None
    return restart.unapplied_settings(config, info, bridge=bridge, probe=probe_inspect)


def running_containers(daemon):
    """[(id, name)] of the containers running now: what a restart must leave running."""
    return [(summary["Id"], (summary.get("Names") or ["/" + summary["Id"][:12]])[0].lstrip("/"))
            for summary in daemon.client.call("containers")]


def start_again(daemon, running_before):
    """Start the containers of running_before that are not running now; their names.

    A restart (or a roll-back) without live-restore stops every container, and
    restart policies bring back only some (no and on-failure never): whatever
    ran before the change runs after it. RestartFailed names those that would not start.
    """
    running = set(container_id for container_id, _name in running_containers(daemon))
    started, failed = [], []
    for container_id, name in running_before:
        if container_id in running:
            continue
        try:
            daemon.client.call("start", container_id)
            started.append(name)
        except Exception as error:  # pylint: disable=broad-except  # each one is tried; all are reported
            failed.append("%s (%s)" % (name, getattr(error, "explanation", None) or error))
    if failed:
        raise RestartFailed("could not start again %s; started again: %s" % (", ".join(failed), ", ".join(started) or "none"))
    return started


def _pending_with_reason(daemon, pending):
    names = [name for _id, name in running_containers(daemon)]
    reason = default_bridge.waiting_reason(names)
    return [dict(item, reason=reason) for item in pending]


def out_of_step(daemon, config):
    """The settings of config the running daemon reports otherwise ([{key, configured, observed}]), except
    those of the default bridge while dockerd keeps the bridge (pending: a restart would not apply them)."""
    info = daemon.info()
    failed, _pending = restart.split_pending(_mismatches(daemon, config, info)[0], info)
    return failed


def restart_verified(daemon, config, run_probe=True, warn=None):
    """Restart, then prove the daemon shows every reported key of config and runs a container.

    Returns {verified, unverified, probe}; raises RestartFailed (or EngineError) otherwise.
    """
    warn = warn or (lambda message: None)
    daemon.restart()
    info = daemon.wait_for_api("dockerd did not come back with the new daemon.json")
    failed, _pending = restart.split_pending(_mismatches(daemon, config, info)[0], info)
    if failed:
        time.sleep(SETTLE_SECONDS)
        info = daemon.info()
        failed, _pending = restart.split_pending(_mismatches(daemon, config, info)[0], info)
    if failed:
        raise RestartFailed(restart.describe_mismatches(failed))
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
    failed, pending = restart.split_pending(mismatches, info)
    if failed:
        raise RestartFailed(restart.describe_mismatches(failed))
    result["verified"] = sorted(set(config) - set(unverified) - set(item["key"] for item in pending))
    result["unverified"] = unverified
    if pending:
        result["pending"] = _pending_with_reason(daemon, pending)
    return result


def keep_live_restore(config_path):
    """Turn live-restore on in the daemon.json at config_path (made when absent); True when it was off.

    The file keeps its owner and mode and is replaced atomically; every other key stays as it is.
    """
    text = host_state.read_text(config_path)
    config = json.loads(text) if text and text.strip() else {}
    if config.get("live-restore") is True:
        return False
    config["live-restore"] = True
    temporary = config_path + ".bulwark-live-restore"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(config, handle, indent=2, sort_keys=True)
        handle.write("\n")
    if text is not None:
        found = os.stat(config_path)
        os.chown(temporary, found.st_uid, found.st_gid)
        os.chmod(temporary, found.st_mode & 0o7777)
    else:
        os.chmod(temporary, 0o644)
    os.replace(temporary, config_path)
    return True


def roll_back(daemon, book, started, config_path=None, running_before=()):
    """Put the checkpoint back and start dockerd with it: (files restored, dockerd's words, what state it is in).

    dockerd is started again even when nothing could be restored: a daemon
    down is the one outcome this must not leave behind when it can help it.
    With containers running (running_before), live-restore stays on in the
    restored daemon.json: dockerd starting without it stops every running
    container, which the change being undone had kept running.
    """
    said = restart.failure_lines(daemon.journal_since(started))
    restored, problem, kept = [], None, False
    try:
        restored = book.restore()
        if running_before and config_path:
            kept = keep_live_restore(config_path)
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
    state = "The previous configuration is back (%s) and dockerd runs with it." % (", ".join(restored) or "unchanged files")
    if kept:
        state += (" live-restore kept on in %s (the previous configuration did not set it), so the %d container(s) "
                  "that ran before keep running." % (config_path, len(running_before)))
    return restored, said, state
