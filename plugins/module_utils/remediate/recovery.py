# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Finish or undo the replacements an interrupted run left, from its journal, before anything is planned.

Each journal entry (journal.py) names the step its run had recorded when it stopped:

- before `restore_restart` the replacement was not verified: it is undone - the replacement removed (by
  its recorded id, or by its temporary name when the run stopped while creating it), the old container
  renamed back, its original restart policy restored, and started when it ran before;
- from `restore_restart` on it was verified: it is finished - the replacement gets the original restart
  policy and the old container is removed (never its volumes).

Only the containers an entry records are touched. An entry that cannot be carried out (the old container
is gone, its name is taken by a container no entry records) is reported as failed and kept, so every run
says so until someone looks.
"""

from __future__ import annotations

import datetime

from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import sdk
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.journal import committed

UPDATE_PATH = "/containers/{0}/update"
# A container under the temporary name created this long before the entry was written is not ours.
CLOCK_MARGIN = datetime.timedelta(seconds=60)


class RecoveryFailed(Exception):
    """An entry cannot be carried out; the message says what to do."""


def _inspect(client, reference):
    try:
        return client.call("inspect_container", reference)
    except sdk().errors.NotFound:
        return None


def _moment(text):
    """An Engine or journal timestamp (RFC 3339, UTC, up to nanoseconds) as a datetime; None if unreadable."""
    head, _dot, fraction = (text or "").rstrip("Z").partition(".")
    try:
        moment = datetime.datetime.strptime(head, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return moment.replace(microsecond=int((fraction + "000000")[:6]) if fraction.isdigit() else 0)


def _name(data):
    return (data.get("Name") or "").lstrip("/")


def _policy(value):
    value = value or {}
    return value.get("Name") or "no", value.get("MaximumRetryCount") or 0


def _replacement(client, entry):
    """The replacement the entry records: by id, or (created but not yet recorded) by its temporary name."""
    if entry.get("new_id"):
        return _inspect(client, entry["new_id"])
    found = _inspect(client, entry.get("temporary_name") or "")
    if found is None:
        return None
    created, started = _moment(found.get("Created")), _moment(entry.get("started"))
    if created is None or started is None or created < started - CLOCK_MARGIN:
        return None  # a container of that name from before this entry: not the one it was creating
    return found


def undo(client, entry):
    """Put the old container back as it was before the interrupted replacement; returns what was done."""
    done = []
    new = _replacement(client, entry)
    if new is not None and new["Id"] != entry["old_id"]:
        client.call("remove_container", new["Id"], force=True, v=False)
        done.append("removed the unverified replacement %s" % new["Id"][:12])
    old = _inspect(client, entry["old_id"])
    if old is None:
        raise RecoveryFailed("the old container %s no longer exists, so there is nothing to restore: start the "
                             "service by its owner, then delete the journal entry" % entry["old_id"][:12])
    if _name(old) != entry["name"]:
        holder = _inspect(client, entry["name"])
        if holder is not None:
            raise RecoveryFailed("the name %s is taken by container %s, which no journal entry records: rename or "
                                 "remove that one, then run again" % (entry["name"], holder["Id"][:12]))
        client.call("rename", entry["old_id"], entry["name"])
        done.append("renamed %s back to %s" % (_name(old), entry["name"]))
    if _policy((old.get("HostConfig") or {}).get("RestartPolicy")) != _policy(entry["restart_policy"]):
        client.post_json("update_container", UPDATE_PATH, {"RestartPolicy": entry["restart_policy"]}, entry["old_id"])
        done.append("restored its restart policy %s" % _policy(entry["restart_policy"])[0])
    if entry.get("was_running") and not (old.get("State") or {}).get("Running"):
        client.call("start", entry["old_id"])
        done.append("started it")
    return "; ".join(done) or "nothing had changed yet"


def finish(client, entry):
    """Complete a verified replacement; returns what was done. Without the replacement, undo() instead."""
    new = _inspect(client, entry["new_id"]) if entry.get("new_id") else None
    if new is None:
        return "restored", "the replacement %s is gone: %s" % ((entry.get("new_id") or "")[:12], undo(client, entry))
    done = []
    if _name(new) != entry["name"]:
        if _inspect(client, entry["name"]) is not None:
            raise RecoveryFailed("the name %s is taken by another container: rename or remove it, then run again"
                                 % entry["name"])
        client.call("rename", new["Id"], entry["name"])
        done.append("renamed the replacement to %s" % entry["name"])
    wanted = entry.get("new_restart_policy") or entry["restart_policy"]
    if _policy((new.get("HostConfig") or {}).get("RestartPolicy")) != _policy(wanted):
        client.post_json("update_container", UPDATE_PATH, {"RestartPolicy": wanted}, new["Id"])
        done.append("gave the replacement its restart policy %s" % _policy(wanted)[0])
    if _inspect(client, entry["old_id"]) is not None:
        client.call("remove_container", entry["old_id"], v=False)
        done.append("removed the old container %s (its volumes kept)" % entry["old_id"][:12])
    return "finished", "; ".join(done) or "nothing was left to do"


def recover_entry(client, entry):
    """(action, detail) for one entry, carried out."""
    if committed(entry.get("step")):
        return finish(client, entry)
    return "restored", undo(client, entry)


def planned_action(entry):
    return "finished" if committed(entry.get("step")) else "restored"


def result_of(entry, action, status, detail):
    return {
        "name": entry.get("name"),
        "old_id": (entry.get("old_id") or "")[:12],
        "new_id": (entry.get("new_id") or "")[:12] or None,
        "step": entry.get("step"),
        "action": action,
        "status": status,
        "detail": detail,
    }


def recover(client, journal, engine_id, check_mode=False):
    """Carry out (or, in check mode, plan) every journal entry of this Engine; [result] per entry."""
    results = []
    for path, entry in journal.entries():
        if entry is None:
            results.append({"name": None, "path": path, "status": "failed", "action": "none", "step": None,
                            "detail": "unreadable journal entry %s: look at it, then delete it" % path})
            continue
        if entry.get("engine") and engine_id and entry["engine"] != engine_id:
            continue  # another Engine's replacement, from a run with another docker_host
        if check_mode:
            results.append(result_of(entry, planned_action(entry), "planned", "interrupted at step %s" % entry["step"]))
            continue
        try:
            action, detail = recover_entry(client, entry)
        except RecoveryFailed as error:
            results.append(result_of(entry, planned_action(entry), "failed", str(error)))
            continue
        except sdk().errors.APIError as error:
            results.append(result_of(entry, planned_action(entry), "failed", "Docker refused: %s; the journal entry "
                                     "stays for the next run" % (error.explanation or error)))
            continue
        journal.forget(entry)
        results.append(result_of(entry, action, "changed", detail))
    return results


def recorded_ids(journal):
    """Ids of the containers the journal's entries record: never targets of a run."""
    ids = set()
    for _path, entry in journal.entries():
        for key in ("old_id", "new_id"):
            if entry and entry.get(key):
                ids.add(entry[key])
    return ids
