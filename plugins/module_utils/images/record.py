# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The record of the scan containers this host's image audits create (principle 16).

A scan container is recognised as ours only by this record, never by a label
or a name pattern: containers inherit their image's labels, and anyone can
name a container anything. Each run has its own file in a private directory
(common.private_dir: root or this user only, every parent checked),
<directory>/<run id>.jsonl, one JSON object a line:

    {"run": "<run id>", "docker_host": "unix:///var/run/docker.sock", "pid": 1234, "started": "...Z"}
    {"name": "bulwark-image-scan-<run id>-0", "image": "sha256:..."}   before create_container
    {"name": "bulwark-image-scan-<run id>-0", "id": "<container id>"}  after it
    {"name": "bulwark-image-scan-<run id>-0", "outcome": "removed"}    once settled

A line is written before the step it announces, so a run killed at any point
leaves every container it may have created in its file. The run holds an
exclusive flock(2) on its file for as long as it lives (the kernel drops it
when the process dies, however it dies): a file that can be locked belongs
to a run that is over, one that cannot to a run still scanning, which is
left alone. The file is made under a temporary name, locked, then renamed
into place, so no other run can see it unlocked. A run that settled every
container removes its file; the next run settles what an interrupted one
left (images.containers decides what may be removed).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import stat
import time

RUN_FILE = re.compile(r"^([0-9a-f]{16})\.jsonl$")
STARTING_FILE = re.compile(r"^\.([0-9a-f]{16})\.tmp$")
# A run of 10,000 images writes about 2 MB; anything larger is not one of ours.
MAX_RECORD = 16 << 20
SETTLED = "outcome"


class RecordEntry(object):
    """One scan container a run planned: name, image, container id (None until created), outcome (None until
    settled: removed, gone, or kept with the reason)."""

    __slots__ = ("name", "image", "id", "outcome")

    def __init__(self, name, image=None):
        self.name, self.image, self.id, self.outcome = name, image, None, None


def _line(data):
    return (json.dumps(data, sort_keys=True) + "\n").encode("utf-8")


def _open_flags():
    return os.O_RDWR | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


class RunRecord(object):
    """A run's record file, open and exclusively locked by this process."""

    def __init__(self, directory, run_id, descriptor, docker_host=None, entries=None):
        self.directory = directory
        self.run_id = run_id
        self.docker_host = docker_host
        self._descriptor = descriptor
        self.entries = entries if entries is not None else {}

    @property
    def path(self):
        return os.path.join(self.directory, "%s.jsonl" % self.run_id)

    @classmethod
    def start(cls, directory, run_id, docker_host):
        """The record of a new run, created locked (OSError when it cannot be)."""
        starting = os.path.join(directory, ".%s.tmp" % run_id)
        descriptor = os.open(starting, _open_flags() | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.write(descriptor, _line({"run": run_id, "docker_host": docker_host, "pid": os.getpid(),
                                        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
            record = cls(directory, run_id, descriptor, docker_host)
            os.rename(starting, record.path)  # the same file, still locked, now where other runs look
        except BaseException:
            os.close(descriptor)
            if os.path.lexists(starting):
                os.unlink(starting)
            raise
        return record

    def _write(self, data):
        os.write(self._descriptor, _line(data))

    def planned(self, name, image):
        self.entries[name] = RecordEntry(name, image)
        self._write({"name": name, "image": image})

    def created(self, name, container_id):
        self.entries[name].id = container_id
        self._write({"name": name, "id": container_id})

    def settled(self, name, outcome):
        self.entries[name].outcome = outcome
        self._write({"name": name, SETTLED: outcome})

    def unsettled(self):
        return [entry for entry in self.entries.values() if entry.outcome is None]

    def close(self):
        """Remove the file when every container is settled (else the next run settles the rest); unlock."""
        if self._descriptor is None:
            return
        try:
            if not self.unsettled():
                try:
                    os.unlink(self.path)
                except FileNotFoundError:
                    pass
        finally:
            os.close(self._descriptor)  # releases the lock
            self._descriptor = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


def _parse(data):
    """(header, {name: RecordEntry}) of a record file's bytes; a torn or foreign line is skipped."""
    header, entries = None, {}
    for raw in data.splitlines():
        try:
            line = json.loads(raw.decode("utf-8"))
        except ValueError:
            continue
        if not isinstance(line, dict):
            continue
        if header is None and isinstance(line.get("run"), str):
            header = line
            continue
        name = line.get("name")
        if not isinstance(name, str):
            continue
        if "image" in line and isinstance(line["image"], str):
            entries.setdefault(name, RecordEntry(name, line["image"]))
        entry = entries.get(name)
        if entry is None:
            continue
        if isinstance(line.get("id"), str):
            entry.id = line["id"]
        if isinstance(line.get(SETTLED), str):
            entry.outcome = line[SETTLED]
    return header, entries


def _adopt(directory, name, run_id):
    """The RunRecord of a finished run's file, locked by us; None when it is in use, not ours to trust, or gone."""
    path = os.path.join(directory, name)
    try:
        descriptor = os.open(path, _open_flags())
    except OSError:
        return None  # gone meanwhile, or a symlink (O_NOFOLLOW)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_uid not in (0, os.geteuid()) or \
                info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or info.st_size > MAX_RECORD:
            raise OSError(errno.EPERM, "not a record of ours")
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise OSError(errno.EBUSY, "its run is still going")
            raise
        if os.fstat(descriptor).st_nlink == 0:
            raise OSError(errno.ENOENT, "removed by its run as it ended")
        os.lseek(descriptor, 0, os.SEEK_SET)
        data = b""
        while len(data) <= MAX_RECORD:
            block = os.read(descriptor, 1 << 16)
            if not block:
                break
            data += block
        header, entries = _parse(data)
        if STARTING_FILE.match(name):  # a run that died before its first container: nothing to settle
            os.unlink(path)
            raise OSError(errno.ENOENT, "never started")
        if header is None or header.get("run") != run_id:
            raise OSError(errno.EINVAL, "no header of run %s" % run_id)
        return RunRecord(directory, run_id, descriptor, header.get("docker_host"), entries)
    except OSError:
        os.close(descriptor)
        return None


def finished_runs(directory, own_run_id=None):
    """Yield the RunRecord of each finished earlier run in directory, locked while the caller settles it
    (close() it). Runs still going, files not made by a run of ours and own_run_id are skipped."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return
    for name in names:
        match = RUN_FILE.match(name) or STARTING_FILE.match(name)
        if match is None or match.group(1) == own_run_id:
            continue
        record = _adopt(directory, name, match.group(1))
        if record is not None:
            yield record
