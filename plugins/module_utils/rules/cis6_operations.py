# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS Docker Benchmark v1.6 section 6: Docker security operations.

Both checks are unscored housekeeping: CIS asks for a person to keep the
number of images and containers down. They are decided from one image list
and one list of every container (audit.gather_operations), never from an
inspect per item, and report the numbers a person needs: how many, how many
unused or stopped, and the oldest of those by name and age.

Statuses, the same shape for both rules:

- pass: nothing unused (no image without a container, no stopped container);
- info: some, up to the threshold: normal churn (an image kept for a
  rollback, a container stopped for maintenance), the numbers are listed;
- warn: more than SPRAWL_WARN_ABOVE unused images or stopped containers, the
  point where Docker Bench for Security also changes its message: nobody
  keeps track of that many by hand, and each is an old, unpatched thing that
  can be started again (or, for a stopped container, its data and its
  secrets in environment and filesystem lie around).

Never fail: sprawl is not an insecure setting a waiver should record, and
warn is how unscored rules ask for a person's judgement (rules.status).
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.operations_state import DAY, status_age
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import global_rule, info, passed, skipped, warned

SECTION = "operations"

# More unused images or stopped containers than this: warn (Docker Bench uses 25 for stopped containers).
SPRAWL_WARN_ABOVE = 25
# How many of the oldest unused images / longest stopped containers the evidence names.
OLDEST_SHOWN = 5
UNTAGGED = "<none>:<none>"
# Container states that are not running: gone for good unless someone starts them again.
STOPPED_STATES = ("exited", "created", "dead")


def _not_gathered(state):
    if state.operations is None:
        return skipped("image and container lists not gathered (scope operations)")
    return None


def _count(number, noun):
    return "%d %s%s" % (number, noun, "" if number == 1 else "s")


def _age(seconds):
    days = int(max(seconds, 0) // DAY)
    if days >= 1:
        return _count(days, "day")
    hours = int(max(seconds, 0) // 3600)
    return _count(hours, "hour") if hours else "less than an hour"


def image_name(summary):
    """The first tag of an image summary, else repository@digest, else its short id."""
    tags = [tag for tag in summary.get("RepoTags") or [] if tag != UNTAGGED]
    if tags:
        return tags[0]
    digests = [digest for digest in summary.get("RepoDigests") or [] if digest != "<none>@<none>"]
    if digests:
        return digests[0].split("@")[0] + "@" + digests[0].split("@")[-1][:19]
    return summary.get("Id", "").replace("sha256:", "")[:12]


def _status(count, what):
    if count > SPRAWL_WARN_ABOVE:
        return warned, "more than %d %s" % (SPRAWL_WARN_ABOVE, what)
    return info, None


@global_rule(
    "6.1", "Ensure that image sprawl is avoided", SECTION, subject="images",
    level=1, scored=False, severity="low", fix="manual",
    reads="the image list (docker images) against the image of every container, running or stopped; "
          "warn above %d unused images" % SPRAWL_WARN_ABOVE,
    remediation="Remove images no container uses (docker image rm <image>, or docker image prune -a once nothing "
                "still needs them for a rollback) and rebuild the ones you keep regularly.",
)
def image_sprawl(state):
    # One image list plus the containers' ImageID: the shell check runs one `docker images` per container.
    missing = _not_gathered(state)
    if missing:
        return missing
    facts = state.operations
    used = set(summary.get("ImageID") for summary in facts.containers)
    images = facts.images
    unused = [summary for summary in images if summary.get("Id") not in used]
    if not images:
        return passed("no images")
    if not unused:
        return passed("all %s used by containers (running or stopped)" % (
            "%d images are" % len(images) if len(images) != 1 else "1 image is"))
    untagged = [summary for summary in unused if not [tag for tag in summary.get("RepoTags") or [] if tag != UNTAGGED]]
    oldest = sorted(unused, key=lambda summary: (summary.get("Created") or 0, image_name(summary)))[:OLDEST_SHOWN]
    shown = ", ".join("%s (%sbuilt %s ago)" % (image_name(summary), "untagged, " if summary in untagged else "",
                                               _age(facts.now - (summary.get("Created") or 0)))
                      for summary in oldest)
    outcome, over = _status(len(unused), "unused images")
    return outcome("%s, %d used by containers, %d unused (%d untagged)%s; oldest unused: %s" % (
        _count(len(images), "image"), len(images) - len(unused), len(unused), len(untagged), ": " + over if over else "",
        shown))


def container_name(summary):
    names = summary.get("Names") or []
    return names[0].lstrip("/") if names else summary.get("Id", "")[:12]


def _stopped_for(summary, now):
    """(seconds since it stopped, or since it was created when it never ran; how the evidence says it)."""
    status = summary.get("Status") or ""
    age = status_age(status)
    if age is not None:
        return age, status
    created = now - (summary.get("Created") or now)
    if summary.get("State") == "created":
        return created, "created %s ago, never started" % _age(created)
    return created, "%s, created %s ago" % (status or summary.get("State") or "stopped", _age(created))


@global_rule(
    "6.2", "Ensure that container sprawl is avoided", SECTION, subject="containers",
    level=1, scored=False, severity="low", fix="manual",
    reads="the list of every container (docker ps -a): State and Status; warn above %d stopped containers"
          % SPRAWL_WARN_ABOVE,
    remediation="Remove containers that are not meant to run again (docker rm <container>, or docker container "
                "prune; named volumes are kept), after saving what is still needed from them.",
)
def container_sprawl(state):
    # Stopped containers keep their filesystem, environment (secrets included) and an old image's code on disk.
    missing = _not_gathered(state)
    if missing:
        return missing
    facts = state.operations
    containers = facts.containers
    if not containers:
        return passed("no containers")
    states = {}
    for summary in containers:
        states.setdefault(summary.get("State") or "unknown", []).append(summary)
    stopped = [summary for summary in containers if summary.get("State") in STOPPED_STATES]
    counts = "%s: %d running, %d paused, %d stopped" % (
        _count(len(containers), "container"), len(states.get("running", [])), len(states.get("paused", [])), len(stopped))
    if not stopped:
        return passed(counts)
    by_state = ", ".join("%s %d" % (name, len(states[name])) for name in STOPPED_STATES if states.get(name))
    ranked = sorted(((_stopped_for(summary, facts.now), container_name(summary)) for summary in stopped),
                    key=lambda item: (-item[0][0], item[1]))[:OLDEST_SHOWN]
    shown = ", ".join("%s (%s)" % (name, said) for (_seconds, said), name in ranked)
    outcome, over = _status(len(stopped), "stopped containers")
    return outcome("%s (%s)%s; longest stopped: %s" % (counts, by_state, ": " + over if over else "", shown))
