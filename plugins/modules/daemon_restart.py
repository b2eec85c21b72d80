#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Restart dockerd when the files it reads changed, prove it applied them, or put the last good files back."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: daemon_restart
short_description: Restart dockerd safely - verify the new configuration, or roll back to the last good one
version_added: 0.1.0
description:
  - Works on the files dockerd reads that a change may write (O(watch) - daemon.json, a seccomp
    profile, TLS files, systemd drop-ins).
  - O(state=checkpointed), before the change, copies them as the last known good set (dockerd runs
    with them) and marks that a change is in progress. When the mark is already there, a run
    stopped between writing and restarting left it - the older checkpoint is kept and
    RV(interrupted) says so, so that the restart step of this run finishes that change.
  - O(state=restarted) restarts dockerd when O(restart) is true (a watched file changed in this
    run, or an earlier change was interrupted), and with O(converge) also when dockerd does not run
    with what its files say - a watched file was written after dockerd started (a change whose
    restart never happened, whoever made it), or docker info or the default bridge shows another
    value than daemon.json for a key they report (a hand edit and restart since). It first turns
    live-restore on with a reload when daemon.json asks for it and the daemon does not have it yet,
    so running containers keep running across the restart; when that fails while containers run,
    it does not restart, puts the checkpoint's files back and fails saying why. Every systemctl call
    and every wait is bounded by O(restart_timeout).
  - Settings of the default bridge (icc, bip, mtu, fixed-cidr, ip, ip-masq, ipv6 and the others
    dockerd builds the bridge from) do not apply while containers run across the restart under
    live-restore, because dockerd keeps the bridge it had. They are returned in RV(pending) with the
    reason, not treated as a failure, and do not make the next run restart again.
  - Containers that ran before the restart and do not run after it (or after a roll-back) are
    started again, whatever their restart policy.
  - After the restart it compares the running daemon with the daemon.json on disk, every key the
    Engine reports (docker info, the default bridge, the defaults a new container gets), and starts
    a throwaway container from a throwaway image built from a few bytes (nothing is pulled, no image
    of the host is run), because a daemon can start and still refuse every container.
  - When any of that fails it restores the checkpoint (files that did not exist are removed), starts
    dockerd again, and fails with dockerd's own words. While containers run, live-restore stays on in
    the restored daemon.json (added, and said, when the previous file lacked it), so the roll-back does
    not stop what the change kept running. Either way the in-progress mark is cleared once dockerd
    runs with the files on disk.
author:
  - bulwark.hardening contributors (@bulwark)
options:
  state:
    description:
      - V(checkpointed) records the watched files as the known good set and marks a change in progress;
        V(restarted) restarts when O(restart) says so, and clears the mark.
    type: str
    choices: [checkpointed, restarted]
    default: restarted
  watch:
    description: The files dockerd reads that the change may write.
    type: list
    elements: path
    required: true
  restart:
    description:
      - With O(state=restarted), whether to restart - true when a watched file changed in this run or
        RV(interrupted) was true at the checkpoint.
    type: bool
    default: false
  converge:
    description:
      - With O(state=restarted) and O(restart=false), restart anyway when dockerd does not run with its
        files - one was written after dockerd started, or a setting docker info or the default bridge
        reports differs from daemon.json (pending bridge settings excepted). RV(restart_reason) says which.
    type: bool
    default: true
  config_path:
    description: daemon.json, whose keys are compared with the running daemon after the restart.
    type: path
    default: /etc/docker/daemon.json
  checkpoint_dir:
    description:
      - Where the known good copies and the in-progress mark are kept (root only, 0700; it may hold
        the daemon's TLS key).
    type: path
    default: /var/lib/bulwark/dockerd-checkpoint
  service:
    description: The systemd unit that runs dockerd.
    type: str
    default: docker.service
  probe:
    description:
      - Start a throwaway container after the restart and roll back when it cannot run.
    type: bool
    default: true
  restart_timeout:
    description: Seconds each systemctl call and each wait for the daemon may take.
    type: int
    default: 60
extends_documentation_fragment:
  - bulwark.hardening.docker_connection
attributes:
  check_mode:
    support: full
    description: Reports whether a restart would happen and changes nothing (no checkpoint, no mark).
  diff_mode:
    support: none
    description: The files are written (and diffed) by the tasks that change them.
  platform:
    platforms: posix
    support: full
    description: Linux hosts where systemd runs dockerd.
notes:
  - The checkpoint and the mark are bookkeeping, like a cache; writing them is not reported as a change.
seealso:
  - module: bulwark.hardening.daemon_preflight
  - module: bulwark.hardening.daemon_config
"""

EXAMPLES = r"""
- name: Remember the files dockerd runs with
  bulwark.hardening.daemon_restart:
    state: checkpointed
    watch: [/etc/docker/daemon.json, /etc/docker/seccomp-bulwark.json]
  register: checkpoint

- name: Change the configuration
  bulwark.hardening.daemon_config:
    settings: {icc: false, live-restore: true}
  register: config

- name: Restart dockerd when needed, prove it, or roll back
  bulwark.hardening.daemon_restart:
    watch: [/etc/docker/daemon.json, /etc/docker/seccomp-bulwark.json]
    restart: "{{ config is changed or checkpoint.interrupted }}"
    restart_timeout: 60
"""

RETURN = r"""
interrupted:
  description: With O(state=checkpointed), whether an earlier change was left unfinished (its restart never ran).
  returned: when O(state=checkpointed)
  type: bool
checkpoint_updated:
  description: With O(state=checkpointed), whether a new known good set was recorded.
  returned: when O(state=checkpointed)
  type: bool
restarted:
  description: Whether dockerd was restarted (and verified).
  returned: success
  type: bool
restart_reason:
  description: Why dockerd was (or, in check mode, would be) restarted without a file change of this run.
  returned: when O(converge) found dockerd out of step with its files
  type: str
  sample: "dockerd started before /etc/docker/daemon.json was written"
pending:
  description:
    - Settings of the default bridge dockerd kept as they were because containers ran across the
      restart (live-restore); each applies at the next dockerd start with no container running.
  returned: when restarted and there are any
  type: list
  elements: dict
  contains:
    key:
      description: The daemon.json key.
      type: str
    configured:
      description: Its value in daemon.json.
      type: raw
    observed:
      description: What the default bridge shows.
      type: raw
    reason:
      description: Why it waits, naming the running containers.
      type: str
started_again:
  description: Containers that ran before the restart or roll-back, stopped with it, and were started again.
  returned: when restarted or rolled back
  type: list
  elements: str
verified:
  description: daemon.json keys the running daemon shows with their configured values.
  returned: when restarted
  type: list
  elements: str
unverified:
  description: daemon.json keys the Engine does not report; the probe container is their check.
  returned: when restarted
  type: list
  elements: str
probe:
  description: What the throwaway container showed.
  returned: when restarted
  type: str
  sample: a container started and exited 0
rolled_back:
  description: Files put back from the checkpoint after a failed restart.
  returned: failure
  type: list
  elements: str
dockerd_said:
  description: The lines of dockerd's log that say why it failed.
  returned: failure
  type: list
  elements: str
"""

import time

from ansible.module_utils.basic import missing_required_lib
from ansible_collections.bulwark.hardening.plugins.module_utils.common.masking import MaskedModule, masked_main
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import host_state, restart, service
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd.options import load_daemon_json
from ansible_collections.bulwark.hardening.plugins.module_utils.engine import probe
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.argument_spec import with_connection
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    DOCKER_IMPORT_ERROR, HAS_DOCKER, EngineError, connect, connection_from, guarded,
)

ARGUMENT_SPEC = with_connection(dict(
    state=dict(type="str", choices=["checkpointed", "restarted"], default="restarted"),
    watch=dict(type="list", elements="path", required=True),
    restart=dict(type="bool", default=False),
    converge=dict(type="bool", default=True),
    config_path=dict(type="path", default="/etc/docker/daemon.json"),
    checkpoint_dir=dict(type="path", default="/var/lib/bulwark/dockerd-checkpoint"),
    service=dict(type="str", default="docker.service"),
    probe=dict(type="bool", default=True),
    restart_timeout=dict(type="int", default=60),
))


def checkpoint(module, book):
    interrupted = book.in_progress()
    result = dict(changed=False, interrupted=interrupted, checkpoint_updated=False)
    if not module.check_mode:
        # An unfinished change's files are not known to work: keep the older set, unless there is none.
        if not interrupted or book.manifest() is None:
            result["checkpoint_updated"] = book.record(module.params["watch"])
        book.begin()
    module.exit_json(**result)


def read_config(path):
    text = host_state.read_text(path)
    return load_daemon_json(text) if text is not None else {}


def unread_files(params):
    """Watched files written after the running dockerd started: it has not read them."""
    pid = host_state.dockerd_pid()
    started_at = host_state.process_started_at(pid) if pid else None
    return restart.written_since_start(params["watch"], started_at, host_state.modified_at)


def converge_reason(params, daemon, config):
    """Why dockerd must restart though nothing changed in this run, or None."""
    unread = unread_files(params)
    if unread:
        return "dockerd started before %s was written" % ", ".join(unread)
    mismatches = service.out_of_step(daemon, config)
    if mismatches:
        return "dockerd runs with other settings than its files: %s" % restart.describe_mismatches(mismatches)
    return None


@masked_main
def main():
    module = MaskedModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    if not HAS_DOCKER:
        module.fail_json(msg=missing_required_lib("docker"), exception=DOCKER_IMPORT_ERROR)
    params = module.params
    book = restart.Checkpoint(params["checkpoint_dir"])
    if params["state"] == "checkpointed":
        checkpoint(module, book)
    try:
        config = read_config(params["config_path"])
        daemon = service.DockerService(connect(connection_from(params)), params["service"], params["restart_timeout"])
        reason = None
        if not params["restart"] and params["converge"]:
            reason = guarded(daemon.client, converge_reason, params, daemon, config)
    except (ValueError, EngineError) as error:
        module.fail_json(msg="cannot restart dockerd: %s" % error, restarted=False)
    extra = {"restart_reason": reason} if reason else {}
    if not (params["restart"] or reason) or module.check_mode:
        if not module.check_mode:
            book.finish()  # nothing changed: dockerd runs with the files on disk
        module.exit_json(changed=bool(params["restart"] or reason), restarted=False, **extra)
    try:
        running_before = guarded(daemon.client, service.running_containers, daemon)
    except EngineError as error:
        module.fail_json(msg="cannot restart dockerd: %s" % error, restarted=False)
    if not service.enable_live_restore_first(daemon, config, module.warn) and running_before:
        # The restart would stop every running container: put the files back instead, dockerd untouched.
        restored = book.restore() if book.manifest() is not None else []
        book.finish()
        module.fail_json(msg="dockerd was not restarted: live-restore could not be turned on first, and the restart would "
                         "stop the %d running containers. The files it reads are back as they were (%s); dockerd runs "
                         "as before." % (len(running_before), ", ".join(restored) or "unchanged"),
                         rolled_back=restored, restarted=False)
    started = time.time()
    try:
        result = service.restart_verified(daemon, config, run_probe=params["probe"], warn=module.warn)
    except (service.RestartFailed, EngineError, probe.ProbeError) as error:
        restored, said, state = service.roll_back(daemon, book, started, params["config_path"], running_before)
        module.fail_json(msg="dockerd did not come up as configured: %s. dockerd said: %s. %s%s"
                         % (str(error).rstrip("."), " | ".join(said) or "(nothing)", state,
                            start_again_said(daemon, running_before)),
                         rolled_back=restored, dockerd_said=said, restarted=False)
    result["started_again"] = start_again_or_fail(module, daemon, running_before)
    book.record(params["watch"])
    book.finish()
    module.exit_json(changed=True, restarted=True, **dict(result, **extra))


def start_again_or_fail(module, daemon, running_before):
    """Start what ran before and stopped; fail naming what would not start."""
    try:
        started = guarded(daemon.client, service.start_again, daemon, running_before)
    except (service.RestartFailed, EngineError) as error:
        module.fail_json(msg="dockerd runs with the new configuration, but containers that ran before it are stopped: %s"
                         % error, restarted=True)
    if started:
        module.warn("these containers stopped with the restart and were started again: %s" % ", ".join(started))
    return started


def start_again_said(daemon, running_before):
    """After a roll-back: start what ran before and stopped; a sentence for the failure message."""
    try:
        started = guarded(daemon.client, service.start_again, daemon, running_before)
    except (service.RestartFailed, EngineError) as error:
        return " Containers that ran before are STOPPED: %s." % error
    return " Started again after the roll-back: %s." % ", ".join(started) if started else ""


if __name__ == "__main__":
    main()
