# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""One image audit: every selected local image, gathered once, every image rule evaluated in memory.

API calls, for I selected images of which M have no cached layer scan:

- `images` (the list) once;
- `inspect_image` and `history` once per selected image: 2 I calls;
- with layer_scan, per image without a cached scan: `get_image` (docker
  save, streamed and read as it arrives: images.save): M calls.

Every call is a read: the audit creates nothing on the host, and over the
Unix socket or plain TCP it needs nothing but Python (engine.reads).

A second audit of unchanged images therefore costs 1 + 2 I calls and no
filesystem read at all: scans are cached by image id (images.cache). A scan
stopped by a cap (scan_max_entries, scan_max_bytes, scan_max_seconds) or
that could not read a layer is reported in scans_incomplete, its rules say
they could not decide, and it is not cached.

Rules: the catalog's image rules (CIS 4.6-4.10, BW-003, BW-010, BW-011) and
the image forms of container rules (4.1 USER, BW-005 pinning, BW-006
registry origin), through audit.findings.evaluate_images. Waivers and the
summary are container_audit's. The image_audit module is a thin wrapper
around run_image_audit(); the benchmark and the tests call it directly.
"""

from __future__ import annotations

import fnmatch
import re
import tarfile
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate_images, rules_of, summarize
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import DEFAULT_CIS_VERSION
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError, check_level, check_report_and_waivers
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, AuditState, ImageView
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import PROBLEM_STATUSES
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.waivers import apply_waivers
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import (
    api_error_class, connect, connection_from, guarded, optional_call, read_each,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.reads import StreamBroken
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable
from ansible_collections.bulwark.hardening.plugins.module_utils.images.cache import DEFAULT_CACHE_DIR, ScanCache
from ansible_collections.bulwark.hardening.plugins.module_utils.images.save import scan_image
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import ScanLimits
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

# Layer scans in flight at once (each a docker save stream): dockerd writes one save while this process
# reads the other's tar headers.
SCAN_WORKERS = 2
# An id as `docker images` shows it (12 hex digits) or longer, with or without sha256:.
ID_PATTERN = re.compile(r"^(?:sha256:)?[0-9a-f]{12,64}$")
NO_TAG = "<none>:<none>"


def _tags(summary):
    return [tag for tag in summary.get("RepoTags") or [] if tag and tag != NO_TAG]


def is_dangling(summary):
    """An image no tag names (what `docker images -f dangling=true` lists)."""
    return not _tags(summary)


def _names(summary):
    """Every name an image answers to: its tags, their repositories (any tag) and its registry digests."""
    names = []
    for tag in _tags(summary):
        names.append(tag)
        repository, _sep, last = tag.rpartition(":")
        if repository and "/" not in last:
            names.append(repository)
    names.extend(digest for digest in summary.get("RepoDigests") or [] if "@" in digest)
    return names


def _by_id(summary, pattern):
    return ID_PATTERN.match(pattern) is not None and \
        summary.get("Id", "").replace("sha256:", "").startswith(pattern.replace("sha256:", ""))


def select_images(summaries, patterns=None, include_dangling=False):
    """Image summaries selected by name globs or ids (all when patterns is empty).

    A name glob matches a tag (repo:tag), a repository (every tag of it) or a
    registry digest (repo@sha256:...). Dangling images are left out unless
    include_dangling is on or an id pattern names them.
    """
    selected = []
    for summary in summaries:
        by_id = any(_by_id(summary, pattern) for pattern in patterns or [])
        if patterns and not by_id and not any(fnmatch.fnmatchcase(name, pattern)
                                              for pattern in patterns for name in _names(summary)):
            continue
        if is_dangling(summary) and not (include_dangling or by_id):
            continue
        selected.append(summary)
    return selected


def _inspect_and_history(client, image_ids):
    """[(inspect, history)] per id, in order, with parallel requests; removed images are left out."""
    def both(image_id):
        inspect = optional_call(client, "inspect_image", image_id)
        return (inspect, optional_call(client, "history", image_id)) if inspect is not None else None
    return read_each(both, image_ids)


def _scan_one(client, view, limits):
    """(LayerScan, None) of one image streamed from the Engine, or (None, error text)."""
    try:
        return scan_image(client, view.id, limits), None
    except (api_error_class(), tarfile.TarError, StreamBroken) as error:
        # One image that cannot be saved (removed meanwhile, a layer missing on disk) must not hide the
        # others: its scan rules are skipped and the error is reported. Transport errors end the audit.
        return None, escape_unprintable(str(getattr(error, "explanation", None) or error), keep_whitespace=True)


def _scan_all(client, views, cache, errors, limits, incomplete):
    """Set view.scan for every image, from the cache or streamed (and cached when complete); the bytes streamed."""
    missing = []
    for view in views:
        view.scan = cache.load(view.id)
        if view.scan is None:
            missing.append(view)
    # dockerd writes a save while this process reads another's tar headers: a second stream in flight keeps
    # both busy. Cache reads and writes stay in this thread.
    if len(missing) <= 1:
        scanned = [_scan_one(client, view, limits) for view in missing]
    else:
        with ThreadPoolExecutor(max_workers=SCAN_WORKERS) as pool:
            scanned = list(pool.map(lambda view: _scan_one(client, view, limits), missing))
    total = 0
    for view, (scan, error) in zip(missing, scanned):
        if scan is None:
            errors.append({"image": view.name, "error": error})
            continue
        view.scan = scan
        total += scan.bytes_read
        if scan.incomplete is not None:
            incomplete.append({"image": view.name, "reason": scan.incomplete})
            continue  # never cached as complete: the next run scans it again
        try:
            cache.store(view.id, scan)
        except OSError as failure:
            errors.append({"image": view.name, "error": "cache not written: %s" % (failure.strerror or failure)})
    return total


def scan_limits(scan_max_entries=None, scan_max_bytes=None, scan_max_seconds=None):
    """ScanLimits from the module's options (None: the default); AuditError naming a bad one."""
    given = dict((name, value) for name, value in (("entries", scan_max_entries), ("bytes", scan_max_bytes),
                                                   ("seconds", scan_max_seconds)) if value is not None)
    try:
        return ScanLimits(**given)
    except ValueError as error:
        raise AuditError(str(error))


def run_image_audit(connection=None, images=None, include_dangling=False, layer_scan=True, cache_dir=DEFAULT_CACHE_DIR,
                    check_mode=False, trusted_registries=None, waivers=None, report="problems", client=None, level=2,
                    scan_max_entries=None, scan_max_bytes=None, scan_max_seconds=None, cis_version=DEFAULT_CIS_VERSION):
    """Audit local images and return {summary, rules, findings, api_calls, api_calls_by_endpoint, images, cache,
    scan_errors, scans_incomplete, duration_s}.

    check_mode: the cache is read but nothing is written or pruned (the audit makes nothing else on the host
    in either mode). level: the CIS profile, 1 or 2 (every rule); rules above it are neither evaluated nor
    reported. cis_version: the CIS Docker Benchmark version whose ids findings, summary and waivers use
    ("1.6" or "1.8"). scan_max_*: the caps of one image's scan (images.scan.ScanLimits; None: the default).
    Raises AuditError on bad input, engine.connection.EngineError when the Docker API is unusable.
    """
    started = time.monotonic()
    check_level(level)
    parsed_waivers = check_report_and_waivers(report, waivers, cis_version)
    limits = scan_limits(scan_max_entries, scan_max_bytes, scan_max_seconds)
    connection = connection or connection_from({})
    options = AuditOptions(docker_host=connection.docker_host, trusted_registries=trusted_registries, image_history=True,
                           cis_version=cis_version)
    client = client or connect(connection)
    summaries = guarded(client, client.call, "images")
    selected = select_images(summaries, images, include_dangling)
    gathered = guarded(client, _inspect_and_history, client, [summary["Id"] for summary in selected])
    views = [ImageView(inspect, history=history) for inspect, history in gathered]
    cache = ScanCache(cache_dir, write=not check_mode)
    errors, incomplete = [], []
    bytes_read = 0
    if layer_scan:
        bytes_read = guarded(client, _scan_all, client, views, cache, errors, limits, incomplete)
        # The list has every local image, whatever was selected: scans of images that are gone are dropped.
        cache.prune([summary["Id"] for summary in summaries])
    state = AuditState(options=options, images=dict((view.id, view) for view in views))
    findings = apply_waivers(evaluate_images(catalog.in_profile(catalog.all_rules(), level, cis_version), state), parsed_waivers)
    listed = [finding for finding in findings if report == "all" or finding.status in PROBLEM_STATUSES]
    summary = summarize(findings, cis_version)
    summary["listed"] = len(listed)
    summary["level"] = level
    stats = cache.stats(bytes_read)
    if not layer_scan:
        stats["unusable"] = "layer_scan is off"
    return {
        "summary": summary,
        "rules": rules_of(listed, cis_version),
        "findings": [finding.to_dict(cis_version) for finding in listed],
        "api_calls": client.total,
        "api_calls_by_endpoint": dict(client.calls),
        "images": len(views),
        "cache": stats,
        "scan_errors": errors,
        "scans_incomplete": incomplete,
        "duration_s": round(time.monotonic() - started, 3),
    }
