# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Carry out a container's plan against the Engine: a live update, or a verified replacement.

Replacement, in this order, so that the service is down only between the
old container's stop and the new one's start, and never lost:

1. the old container is renamed aside (<name>-bulwark-old-<id>) and its
   restart policy set to `no` (a daemon restart must not bring it back
   next to its replacement), then stopped: its published ports and static
   addresses are free again;
2. the replacement is created under the original name, connected to the
   other networks and started;
3. it must keep running for the grace period and, with a health check,
   turn healthy (within health_timeout); only then is the old one removed,
   without its volumes (named, anonymous and bind data all stay).

Any failure after step 1 removes the replacement, renames the old
container back, restores its restart policy and starts it again, and
reports why with the replacement's last log lines.
"""

from __future__ import annotations

import time

from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import check_entry, env_pairs, mask_free_text
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import sdk
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.spec import create_request

UPDATE_PATH = "/containers/{0}/update"
CONNECT_PATH = "/networks/{0}/connect"
LOG_LINES = 20
POLL_SECONDS = 0.5
DEFAULT_STOP_TIMEOUT = 10


class ReplacementFailed(Exception):
    """The replacement did not come up as it should; the old container is back."""


class Outcome(object):
    """What happened to one container: status changed, unchanged, rolled_back or failed."""

    def __init__(self, status, detail="", new_id=None, logs=None):
        self.status = status
        self.detail = detail
        self.new_id = new_id
        self.logs = logs


def update_live(client, plan):
    """Apply a live plan with the Engine's container update (no restart)."""
    try:
        response = client.post_json("update_container", UPDATE_PATH, plan.update_body(), plan.id)
    except sdk().errors.APIError as error:
        return Outcome("failed", "update refused: %s" % (error.explanation or error))
    warnings = (response or {}).get("Warnings") or []
    return Outcome("changed", "; ".join(warnings))


def aside_name(name, container_id):
    return "%s-bulwark-old-%s" % (name, container_id[:12])


def wait_until_settled(client, container_id, grace, health_timeout, sleep=time.sleep, now=time.monotonic):
    """Return once the container ran for `grace` seconds (and is healthy, if it has a health check).

    Raises ReplacementFailed as soon as it exits, restarts, turns unhealthy,
    or stays unhealthy-or-starting past health_timeout.
    """
    started = now()
    while True:
        state = client.call("inspect_container", container_id).get("State") or {}
        if state.get("Restarting") or not state.get("Running"):
            raise ReplacementFailed("the replacement stopped (exit code %s%s)" % (
                state.get("ExitCode"), ", restarting" if state.get("Restarting") else ""))
        health = state.get("Health") or {}
        status = health.get("Status")
        if status == "unhealthy":
            raise ReplacementFailed("the replacement turned unhealthy: %s" % _last_probe(health))
        elapsed = now() - started
        if elapsed >= grace and status in (None, "healthy"):
            return
        if status is not None and elapsed >= max(grace, health_timeout):
            raise ReplacementFailed("the replacement was not healthy after %d s (health: %s)" % (elapsed, status))
        sleep(POLL_SECONDS)


def _last_probe(health):
    probes = health.get("Log") or []
    return (probes[-1].get("Output") or "").strip()[:200] if probes else "no probe output"


def last_logs(client, container_id, env=()):
    """The container's last log lines, secrets masked (its env's secret values among them); '' when
    they cannot be read."""
    try:
        raw = client.call("logs", container_id, tail=LOG_LINES)
    except sdk().errors.APIError:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    known = [value for name, value in env_pairs(env) if check_entry(name, value)]
    return mask_free_text(text.strip(), known)


def _stop_timeout(plan):
    timeout = (plan.container.config.get("StopTimeout"))
    return DEFAULT_STOP_TIMEOUT if timeout is None else timeout


def recreate(client, plan, image, grace, health_timeout, sleep=time.sleep):
    """Replace the container by one built from the plan's spec; Outcome changed or rolled_back."""
    name, old_id = plan.name, plan.id
    was_running = plan.container.running
    restart = plan.container.host_config.get("RestartPolicy") or {"Name": "no"}
    body, other_networks = create_request(plan.spec(image))
    new_id = None
    client.call("rename", old_id, aside_name(name, old_id))
    try:
        if restart.get("Name") not in (None, "", "no"):
            client.post_json("update_container", UPDATE_PATH, {"RestartPolicy": {"Name": "no"}}, old_id)
        if was_running:
            client.call("stop", old_id, timeout=_stop_timeout(plan))
        new_id = client.call("create_container_from_config", body, name=name)["Id"]
        for network, endpoint in sorted(other_networks.items()):
            client.post_json("connect_container_to_network", CONNECT_PATH,
                             {"Container": new_id, "EndpointConfig": endpoint}, network)
        if was_running:
            client.call("start", new_id)
            wait_until_settled(client, new_id, grace, health_timeout, sleep=sleep)
    except Exception as error:  # pylint: disable=broad-except  # whatever went wrong, the old one comes back
        reason = describe_failure(error)
        logs = last_logs(client, new_id, plan.container.config.get("Env")) if new_id else ""
        return _roll_back(client, plan, new_id, restart, was_running, reason, logs)
    try:
        client.call("remove_container", old_id, v=False)
    except sdk().errors.APIError as error:  # the replacement runs, verified: that stands
        return Outcome("changed", "the replacement runs; the old container %s could not be removed (%s): "
                       "remove it by hand (docker rm %s, never -v)" % (aside_name(name, old_id), describe_failure(error),
                                                                       aside_name(name, old_id)), new_id=new_id)
    return Outcome("changed", new_id=new_id)


def describe_failure(error):
    if isinstance(error, ReplacementFailed):
        return str(error)
    if isinstance(error, sdk().errors.APIError):
        return "Docker refused: %s" % (error.explanation or error)
    return "%s: %s" % (type(error).__name__, error)


def _roll_back(client, plan, new_id, restart, was_running, reason, logs):
    """Put the old container back as it was; report a roll back, or a failed one loudly."""
    name, old_id = plan.name, plan.id
    try:
        if new_id:
            client.call("remove_container", new_id, force=True, v=False)
        client.call("rename", old_id, name)
        if restart.get("Name") not in (None, "", "no"):
            client.post_json("update_container", UPDATE_PATH, {"RestartPolicy": restart}, old_id)
        if was_running:
            client.call("start", old_id)
    except Exception as error:  # pylint: disable=broad-except  # reported, never hidden
        return Outcome("failed", "%s; ROLL BACK FAILED (%s): the old container is %s, check it now" % (
            reason, describe_failure(error), old_id[:12]), logs=logs)
    return Outcome("rolled_back", "%s; the old container is back under its name%s. Fix what the replacement "
                   "needs (a writable path: policy.tmpfs; a capability: policy.cap_add) or exempt the rule for it"
                   % (reason, " and running" if was_running else ""), logs=logs)
