# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The layer scan's containers: made by image_audit, and the only containers it ever removes (principle 16).

How an image is read without running it (scan_image): create a container
from it WITHOUT starting it (networking off, a command that does not exist,
a tmpfs over each VOLUME of the image so that no anonymous volume is made),
stream its filesystem through the Engine's export endpoint into
images.scan, and remove the container in a finally.

Which containers are ours: each run has a random id (16 hex digits). Its
scan containers are named bulwark-image-scan-<run id>-<n> and labelled
bulwark.image-scan=<run id>, and every one is written to the run's record
(images.record) before it is created. Labels are inherited from images and
names are free for anyone, so neither alone makes a container ours: only
the record does. A container is removed only when a record names it and
the Engine says it is still exactly what was created: that name, that id
(when recorded), that image, that run's label, that command, in state
created and never started. It is removed without force (the Engine refuses
to remove a running container) and without its volumes (v=False; the
tmpfs mounts mean there are none of ours).

The containers of this run are settled as each scan ends. Those of an
earlier run that was interrupted (its record still there, no longer locked)
are settled at the start of the next run, and never in check mode: check
mode removes only the containers it created itself.
"""

from __future__ import annotations

import itertools
import os
import secrets
import threading
import time

from ansible_collections.bulwark.hardening.plugins.module_utils.common.private_dir import make_private_dir, private_dir_problem
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import api_error_class, not_found_class
from ansible_collections.bulwark.hardening.plugins.module_utils.images.record import RecordEntry, RunRecord, finished_runs
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import CountingStream, ScanLimits, ScanStopped, scan_archive

SCAN_LABEL = "bulwark.image-scan"
# The never-run command of a scan container (images without CMD/ENTRYPOINT need one to be created).
SCAN_COMMAND = ["/bulwark-layer-scan-never-runs"]
NAME_PREFIX = "bulwark-image-scan-"
# State.StartedAt of a container that was never started.
NEVER_STARTED = "0001-01-01T00:00:00Z"
REMOVED = "removed"
GONE = "gone"
KEPT = "kept: "
# Bytes read after the end of the archive (the export's padding) before the stream is simply closed.
MAX_DRAIN = 1 << 20


def new_run_id():
    return secrets.token_hex(8)


def create_options(view, run_id, name):
    """create_container keywords of the scan container of an image (audit.state.ImageView)."""
    volumes = sorted((view.config.get("Volumes") or {}))
    return dict(
        command=SCAN_COMMAND, name=name, network_disabled=True, labels={SCAN_LABEL: run_id},
        # A tmpfs where the image declares a VOLUME: the Engine then makes no anonymous volume for it, so removing
        # the container leaves nothing behind although its volumes are never removed. export reads the image's
        # own files there all the same (it reads the container's layers, not its mounts).
        host_config={"NetworkMode": "none", "Mounts": [{"Type": "tmpfs", "Target": path} for path in volumes]},
    )


def not_removable(inspect, entry, run_id):
    """Why the container inspected must not be removed as the scan container of a record entry
    (images.record.RecordEntry of run run_id), or None when it is exactly that, created and never started."""
    config = inspect.get("Config") or {}
    state = inspect.get("State") or {}
    if inspect.get("Name") != "/" + entry.name:
        return "another container now has that name or id"
    if entry.id is not None and inspect.get("Id") != entry.id:
        return "another container now has that name"
    if (config.get("Labels") or {}).get(SCAN_LABEL) != run_id or config.get("Image") != entry.image \
            or list(config.get("Cmd") or []) != SCAN_COMMAND:
        return "not the scan container that was created (label, image or command differ)"
    if state.get("Running") or state.get("Paused") or state.get("Restarting") or state.get("Status") != "created":
        return "it is %s, not created" % (state.get("Status") or "in an unknown state")
    if state.get("StartedAt") != NEVER_STARTED:
        return "it was started (at %s)" % state.get("StartedAt")
    return None


def settle(client, entry, run_id):
    """Remove a recorded scan container when not_removable() allows; the outcome (REMOVED, GONE or KEPT with the
    reason), or None when the Engine could not be asked (the entry stays for the next run)."""
    try:
        inspect = client.call("inspect_container", entry.id or entry.name)
    except not_found_class():
        return GONE
    except api_error_class():
        return None
    reason = not_removable(inspect, entry, run_id)
    if reason is not None:
        return KEPT + reason
    try:
        client.call("remove_container", inspect["Id"], v=False, force=False)
    except not_found_class():
        return GONE
    except api_error_class():
        return None
    return REMOVED


class ScanRun(object):
    """This run's scan containers: its id, its record (made when the first container is planned; None when it could
    not be, see record_problem), and counts of what was created and removed, and what was left and why."""

    def __init__(self, run_id, docker_host, record_dir, check_mode=False):
        self.run_id = run_id
        self.docker_host = docker_host
        self.record_dir = record_dir
        self.check_mode = check_mode
        self.record = None
        self.record_problem = None
        self.created = 0
        self.removed = 0
        self.leftovers_removed = 0
        self.left = []
        self._numbers = itertools.count()
        self._lock = threading.Lock()  # two scans run at once (images.run.SCAN_WORKERS)

    @classmethod
    def begin(cls, docker_host, record_dir, check_mode=False, run_id=None):
        """A new run; its record goes into record_dir (a private directory: created, except in check mode, which
        records only into a directory that exists already and otherwise creates nothing at all). A run that
        scans nothing writes nothing."""
        return cls(run_id or new_run_id(), docker_host, record_dir, check_mode)

    def _start_record(self):
        problem = private_dir_problem(self.record_dir)
        try:
            if problem is None and not self.check_mode:
                make_private_dir(self.record_dir)
                problem = private_dir_problem(self.record_dir)
            if problem is None and not os.path.isdir(self.record_dir):
                problem = "%s does not exist, and check mode creates nothing" % self.record_dir
            if problem is None:
                self.record = RunRecord.start(self.record_dir, self.run_id, self.docker_host)
        except OSError as error:
            problem = "cannot write %s: %s" % (self.record_dir, error.strerror or error)
        self.record_problem = problem

    def _note(self, method, *args):
        if self.record is not None:
            getattr(self.record, method)(*args)

    def plan(self, image_id):
        """A new entry (images.record.RecordEntry) for a scan container of image_id, recorded before it exists."""
        with self._lock:
            if self.record is None and self.record_problem is None:
                self._start_record()
            entry = RecordEntry("%s%s-%d" % (NAME_PREFIX, self.run_id, next(self._numbers)), image_id)
            self._note("planned", entry.name, image_id)
        return entry

    def mark_created(self, entry, container_id):
        with self._lock:
            entry.id = container_id
            self.created += 1
            self._note("created", entry.name, container_id)

    def settle(self, client, entry, record=None, run_id=None):
        """Settle one recorded container (of this run, or of `record` when given); the outcome."""
        outcome = settle(client, entry, run_id or self.run_id)
        with self._lock:
            if outcome is None:
                self.left.append({"name": entry.name, "reason": "the Engine did not answer; the next run retries"})
                return None
            owner = record if record is not None else self.record
            if owner is not None:
                owner.settled(entry.name, outcome)
            entry.outcome = outcome
            if outcome == REMOVED:
                if record is None:
                    self.removed += 1
                else:
                    self.leftovers_removed += 1
            elif outcome.startswith(KEPT):
                self.left.append({"name": entry.name, "reason": outcome[len(KEPT):]})
        return outcome

    def settle_leftovers(self, client, check_mode=False):
        """Settle what earlier runs of this host left (their records, no longer locked): removed when
        not_removable() allows, never in check mode. Returns how many were removed."""
        if not os.path.isdir(self.record_dir) or private_dir_problem(self.record_dir) is not None:
            return 0  # no record, or one others could write: it names nothing we may remove
        for record in finished_runs(self.record_dir, self.run_id):
            with record:
                if record.docker_host != self.docker_host:
                    continue  # another Engine's containers: settled by a run against that Engine
                for entry in record.unsettled():
                    if check_mode:
                        self.left.append({"name": entry.name, "reason": "left by an interrupted earlier run; removed by "
                                                                        "the next run that is not in check mode"})
                        continue
                    self.settle(client, entry, record=record, run_id=record.run_id)
        return self.leftovers_removed

    def finish(self):
        if self.record is not None:
            self.record.close()

    def stats(self):
        return {"run": self.run_id, "created": self.created, "removed": self.removed,
                "leftovers_removed": self.leftovers_removed, "left": list(self.left),
                "record": self.record.path if self.record is not None else None, "record_unusable": self.record_problem}


def _drain(stream):
    """Read what follows the end of the archive (padding), so the connection ends cleanly; a stream that goes
    on past MAX_DRAIN is closed instead."""
    drained = 0
    try:
        while drained <= MAX_DRAIN:
            block = stream.read(1 << 16)
            if not block:
                return
            drained += len(block)
    except ScanStopped:
        pass
    stream.close()


def scan_image(client, view, run, limits=None, clock=time.monotonic):
    """LayerScan of an image (audit.state.ImageView) through a created, never started container's export; the
    container is settled (removed when still as created) whatever happens.

    client: engine.connection.CountingClient. API calls: create_container, export, inspect_container,
    remove_container (one each).
    """
    limits = limits or ScanLimits()
    entry = run.plan(view.id)
    try:
        created = client.call("create_container", view.id, **create_options(view, run.run_id, entry.name))
    except BaseException:
        # The Engine may have made it before the call failed (a timeout): settle by name, keep the first error.
        try:
            run.settle(client, entry)
        except Exception:  # pylint: disable=broad-except
            pass
        raise
    run.mark_created(entry, created["Id"])
    try:
        deadline = clock() + limits.seconds
        stream = CountingStream(client.call("export", created["Id"]), limits, deadline, clock)
        scan = scan_archive(stream, limits, clock, deadline)
        if scan.incomplete is None:
            _drain(stream)
        else:
            stream.close()  # the rest is not read: that is the cap
        scan.bytes_read = stream.bytes_read
        return scan
    finally:
        run.settle(client, entry)
