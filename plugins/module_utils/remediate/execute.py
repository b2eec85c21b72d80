# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Carry out a container's plan against the Engine: a live update, or a verified replacement.

Replacement, in this order, so that the service is down only between the
old container's stop and the new one's start, and never lost; each step is
recorded in the journal (journal.py) before it is done, so that a run
killed at any point is finished or undone by the next one (recovery.py):

1. the replacement is created under a temporary name (<name>-bulwark-new-
   <old id>) with restart policy `no`, and connected to the other networks,
   while the old container still runs;
2. the old container is renamed aside (<name>-bulwark-old-<id>), its restart
   policy set to `no` (a daemon restart must not bring it back next to its
   replacement) and stopped: its published ports and static addresses are
   free again;
3. the replacement takes the original name and is started;
4. it must keep running for the grace period with its restart count and
   start time unchanged (restart policy `no`: an exit shows at once instead
   of hiding behind a restart), turn healthy when it has a health check
   (within health_timeout), and answer on every endpoint the old container
   answered on; an exit or restart is seen at the next poll (0.5 s);
5. only then does it get the original restart policy (the live update),
   and the old container is removed, without its volumes (named, anonymous
   and bind data all stay).

Any failure before 5 removes the replacement, renames the old container
back, restores its restart policy and starts it again, and reports why with
the replacement's last log lines; when the replacement exited, the old
container is started first (nothing holds its ports), the clean-up after.
"""

from __future__ import annotations

import time

from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import check_entry, env_pairs, mask_free_text
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import sdk
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import now_text
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.ports import answers, endpoint_text
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.spec import create_request

UPDATE_PATH = "/containers/{0}/update"
CONNECT_PATH = "/networks/{0}/connect"
LOG_LINES = 20
# An exit is seen within this (one inspect per poll): the service is down from the old container's stop
# until the replacement answers, or until the roll back restarts the old one.
POLL_SECONDS = 0.25
DEFAULT_STOP_TIMEOUT = 10


class ReplacementFailed(Exception):
    """The replacement did not come up as it should; the old container is back."""


class ReplacementStopped(ReplacementFailed):
    """The replacement exited (or is restarting): it holds no port, so the old container may start at once."""


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


def temporary_name(name, old_id):
    """The replacement's name until the old container has made way."""
    return "%s-bulwark-new-%s" % (name, old_id[:12])


def _mark(data):
    """What moves when a container restarts: its restart count and start time."""
    return data.get("RestartCount"), (data.get("State") or {}).get("StartedAt")


def wait_until_settled(client, container_id, grace, health_timeout, sleep=time.sleep, now=time.monotonic,
                       endpoints=(), probe=answers, known=()):
    """Return once the container ran for `grace` seconds without restarting, is healthy (with a health check)
    and answered on every endpoint [(host, port)] at least once.

    Raises ReplacementFailed as soon as it exits, restarts (its restart count or start time moves), turns
    unhealthy, stays unhealthy-or-starting past health_timeout, or has not answered on an endpoint by the
    end of its wait (the grace period; with a health check, as long as the health check may take).
    known: secret values (of the container's environment) to mask in the health check's output.
    """
    started = now()
    first = None
    waiting_for = list(endpoints)
    while True:
        data = client.call("inspect_container", container_id)
        state = data.get("State") or {}
        if state.get("Restarting") or not state.get("Running"):
            raise ReplacementStopped("the replacement stopped (exit code %s%s)" % (
                state.get("ExitCode"), ", restarting" if state.get("Restarting") else ""))
        if first is None:
            first = _mark(data)
        elif _mark(data) != first:
            raise ReplacementFailed("the replacement restarted (restart count %s, started %s; first seen %s, %s)"
                                    % (_mark(data) + first))
        health = state.get("Health") or {}
        status = health.get("Status")
        if status == "unhealthy":
            raise ReplacementFailed("the replacement turned unhealthy: %s" % _last_probe(health, known))
        waiting_for = [endpoint for endpoint in waiting_for if not probe(*endpoint)]
        elapsed = now() - started
        limit = grace if status is None else max(grace, health_timeout)
        if elapsed >= grace and status in (None, "healthy") and not waiting_for:
            return
        if waiting_for and elapsed >= limit:
            raise ReplacementFailed("the replacement does not answer on %s, where the old container answered"
                                    % ", ".join(endpoint_text(endpoint) for endpoint in waiting_for))
        if status is not None and elapsed >= max(grace, health_timeout):
            raise ReplacementFailed("the replacement was not healthy after %d s (health: %s)" % (elapsed, status))
        sleep(POLL_SECONDS)


PROBE_OUTPUT = 200


def _last_probe(health, known=()):
    """The last health check's output, masked before it is cut short (a cut secret is no longer recognisable)."""
    probes = health.get("Log") or []
    if not probes:
        return "no probe output"
    return mask_free_text((probes[-1].get("Output") or "").strip(), known)[:PROBE_OUTPUT]


def secret_env_values(env):
    """The values of a container's environment that are secrets: masked wherever its output repeats them."""
    return [value for name, value in env_pairs(env) if check_entry(name, value)]


def last_logs(client, container_id, env=()):
    """The container's last log lines, secrets masked (its env's secret values among them); '' when
    they cannot be read."""
    try:
        raw = client.call("logs", container_id, tail=LOG_LINES)
    except sdk().errors.APIError:
        return ""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    return mask_free_text(text.strip(), secret_env_values(env))


def _stop_timeout(plan):
    timeout = (plan.container.config.get("StopTimeout"))
    return DEFAULT_STOP_TIMEOUT if timeout is None else timeout


def restarts(policy):
    return (policy or {}).get("Name") not in (None, "", "no")


def new_entry(plan, engine_id, docker_host):
    """The journal entry of one replacement: what a recovery needs to finish or undo it."""
    host_config = plan.container.host_config
    return {
        "name": plan.name,
        "old_id": plan.id,
        "new_id": None,
        "temporary_name": temporary_name(plan.name, plan.id),
        "aside_name": aside_name(plan.name, plan.id),
        "restart_policy": host_config.get("RestartPolicy") or {"Name": "no"},
        "new_restart_policy": plan.working.get("HostConfig", {}).get("RestartPolicy") or {"Name": "no"},
        "was_running": plan.container.running,
        "engine": engine_id,
        "docker_host": docker_host,
        "started": now_text(),
    }


class Unrecorded(object):
    """No journal: for a caller that keeps none (the recreate fidelity test)."""

    def record(self, entry, step):
        entry["step"] = step

    def forget(self, entry):
        pass


UNRECORDED = Unrecorded()


class Progress(object):
    """What a replacement has changed so far: what a roll back must undo."""

    def __init__(self):
        self.new_id = None
        self.renamed_old = False
        self.restart_off = False
        self.stopped_old = False
        self.started_old_early = False


def _try_start(client, container_id):
    """Start a container; False (nothing raised) when the Engine refuses, so the roll back tries again later."""
    try:
        client.call("start", container_id)
    except Exception:  # pylint: disable=broad-except  # the roll back's own start reports it
        return False
    return True


def recreate(client, plan, image, grace, health_timeout, sleep=time.sleep, journal=None, engine_id="", probe=answers):
    """Replace the container by one built from the plan's spec; Outcome changed or rolled_back (failed when
    the roll back failed too)."""
    journal = journal or UNRECORDED
    name, old_id = plan.name, plan.id
    entry = new_entry(plan, engine_id, getattr(client, "docker_host", None))
    body, other_networks = create_request(plan.spec(image))
    body["HostConfig"]["RestartPolicy"] = {"Name": "no"}  # while it is verified: an exit must show, not restart
    done = Progress()
    try:
        journal.record(entry, "create")
        done.new_id = entry["new_id"] = client.call("create_container_from_config", body,
                                                    name=entry["temporary_name"])["Id"]
        journal.record(entry, "connect")
        for network, endpoint in sorted(other_networks.items()):
            client.post_json("connect_container_to_network", CONNECT_PATH,
                             {"Container": done.new_id, "EndpointConfig": endpoint}, network)
        journal.record(entry, "rename_old")
        client.call("rename", old_id, entry["aside_name"])
        done.renamed_old = True
        journal.record(entry, "restart_off")
        if restarts(entry["restart_policy"]):
            client.post_json("update_container", UPDATE_PATH, {"RestartPolicy": {"Name": "no"}}, old_id)
            done.restart_off = True
        journal.record(entry, "stop_old")
        if entry["was_running"]:
            done.stopped_old = True  # even if the stop fails half way: the roll back starts it (a no-op if it runs)
            client.call("stop", old_id, timeout=_stop_timeout(plan))
        journal.record(entry, "rename_new")
        client.call("rename", done.new_id, name)
        journal.record(entry, "start_new")
        if entry["was_running"]:
            client.call("start", done.new_id)
        journal.record(entry, "verify")
        if entry["was_running"]:
            wait_until_settled(client, done.new_id, grace, health_timeout, sleep=sleep, endpoints=plan.verify_ports,
                               probe=probe, known=secret_env_values(plan.container.config.get("Env")))
        journal.record(entry, "restore_restart")
        if restarts(entry["new_restart_policy"]):
            client.post_json("update_container", UPDATE_PATH, {"RestartPolicy": entry["new_restart_policy"]}, done.new_id)
    except Exception as error:  # pylint: disable=broad-except  # whatever went wrong, the old one comes back
        # Docker's and the health check's words may repeat a secret of the container's environment.
        reason = mask_free_text(describe_failure(error), secret_env_values(plan.container.config.get("Env")))
        if isinstance(error, ReplacementStopped) and done.stopped_old:
            # Nothing holds the service's ports now: the old container answers again before the clean-up.
            done.started_old_early = _try_start(client, plan.id)
        logs = last_logs(client, done.new_id, plan.container.config.get("Env")) if done.new_id else ""
        outcome = _roll_back(client, plan, entry, done, reason, logs)
        if outcome.status == "rolled_back":
            _keep_going(journal.forget, entry)
        return outcome
    return _remove_old(client, journal, entry, done.new_id)


def _keep_going(write, *args):
    """A journal write after the replacement stands: the entry on disk already says `committed`, so a
    recovery would finish the same way; a full disk must not turn a verified replacement into an error."""
    try:
        write(*args)
    except OSError:
        pass


def _remove_old(client, journal, entry, new_id):
    """The replacement stands: remove the old container (volumes kept); a failure leaves the entry for the next run."""
    _keep_going(journal.record, entry, "remove_old")
    try:
        client.call("remove_container", entry["old_id"], v=False)
    except sdk().errors.APIError as error:  # the replacement runs, verified: that stands
        return Outcome("changed", "the replacement runs; the old container %s could not be removed (%s): the next "
                       "run removes it (never with its volumes)" % (entry["aside_name"], describe_failure(error)),
                       new_id=new_id)
    _keep_going(journal.record, entry, "done")
    _keep_going(journal.forget, entry)
    return Outcome("changed", new_id=new_id)


def describe_failure(error):
    if isinstance(error, ReplacementFailed):
        return str(error)
    if isinstance(error, sdk().errors.APIError):
        return "Docker refused: %s" % (error.explanation or error)
    return "%s: %s" % (type(error).__name__, error)


def _roll_back(client, plan, entry, done, reason, logs):
    """Put the old container back as it was; report a roll back, or a failed one loudly (its journal entry
    stays, so the next run tries again)."""
    name, old_id = plan.name, plan.id
    try:
        if done.new_id:
            client.call("remove_container", done.new_id, force=True, v=False)
        if done.renamed_old:
            client.call("rename", old_id, name)
        if done.restart_off:
            client.post_json("update_container", UPDATE_PATH, {"RestartPolicy": entry["restart_policy"]}, old_id)
        if done.stopped_old and not done.started_old_early:
            client.call("start", old_id)
    except Exception as error:  # pylint: disable=broad-except  # reported, never hidden
        return Outcome("failed", "%s; ROLL BACK FAILED (%s): the old container is %s, check it now (the next run "
                       "tries the roll back again)" % (reason, describe_failure(error), old_id[:12]), logs=logs)
    return Outcome("rolled_back", "%s; the old container is back under its name%s. Fix what the replacement "
                   "needs (a writable path: policy.tmpfs; a capability: policy.cap_add) or exempt the rule for it"
                   % (reason, " and running" if entry["was_running"] else ""), logs=logs)
