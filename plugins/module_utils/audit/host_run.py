# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Both audits of one host in one process: container_audit's run, then image_audit's, over one Engine client.

The audit module is a thin wrapper around run_host_audit(). What one process
saves over two (container_audit then image_audit) is mostly the second
process: the interpreter, Ansible's module_utils and this collection's code,
imported from the module's zip and compiled again each time (docs/scale.md).

The two audits share one client (one connection pool) through SharedReads:
the reads the image audit would repeat - the image list (when the container
audit listed images for CIS 6.1) and the inspect (and history) of each image
a container runs - are answered from what the container audit already read
in this run, never asked twice. The image audit's api_calls count only the
calls it made itself; api_calls_shared says how many reads it took over.

Each audit's input is checked before either gathers anything, so bad input
never leaves half an audit. Once the container audit has its result, an
Engine failure of the image audit is that part's result ({failed, msg}), as
a failed image_audit task would register, and the container audit's result
stands.
"""

from __future__ import annotations

import collections
import copy
import threading

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import run_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import EngineError, connect, connection_from

# run_audit's options and run_image_audit's own (both take SHARED_OPTIONS).
CONTAINER_OPTIONS = ("scope", "include_stopped", "name_filter", "label_filter", "trusted_users", "process_checks",
                     "drift_checks", "image_history")
IMAGE_OPTIONS = ("images", "include_dangling", "layer_scan", "cache_dir", "scan_max_entries", "scan_max_bytes",
                 "scan_max_seconds")
SHARED_OPTIONS = ("waivers", "trusted_registries", "report", "level", "cis_version")
# Reads whose answer does not change within one run: the image audit takes the container audit's.
SHARED_READS = ("images", "inspect_image", "history")


class SharedReads(object):
    """The client both audits call: every call goes to the Engine through one client, except a read of
    SHARED_READS this run already made with the same arguments, which is answered from memory.

    Everything else (the call counters, streams, docker_host) is the wrapped client's. Answers are kept and
    handed out as copies, so neither audit sees what the other may do with its data.
    """

    def __init__(self, client):
        self._client = client
        self._answers = {}
        self._lock = threading.Lock()
        self.shared = collections.Counter()

    def call(self, endpoint, *args, **kwargs):
        key = (endpoint, args) if endpoint in SHARED_READS and not kwargs else None
        if key is not None:
            with self._lock:
                if key in self._answers:
                    self.shared[endpoint] += 1
                    return copy.deepcopy(self._answers[key])
        answer = self._client.call(endpoint, *args, **kwargs)
        if key is not None:
            with self._lock:
                self._answers[key] = copy.deepcopy(answer)
        return answer

    def __getattr__(self, name):
        return getattr(self._client, name)


def _split(options):
    """(container audit's options, image audit's options) from run_host_audit's; TypeError naming an unknown one."""
    unknown = sorted(set(options) - set(CONTAINER_OPTIONS + IMAGE_OPTIONS + SHARED_OPTIONS))
    if unknown:
        raise TypeError("run_host_audit() got unexpected options: %s" % ", ".join(unknown))
    shared = dict((name, options[name]) for name in SHARED_OPTIONS if name in options)
    container = dict((name, options[name]) for name in CONTAINER_OPTIONS if name in options)
    image = dict((name, options[name]) for name in IMAGE_OPTIONS if name in options)
    container.update(shared)
    image.update(shared)
    return container, image


def _check_image_input(image_options):
    """AuditError for the image audit's own bad input (its scan caps), before anything is gathered: the rest
    of its input (level, report, waivers) is the container audit's, checked by run_audit first."""
    from ansible_collections.bulwark.hardening.plugins.module_utils.audit.image_run import scan_limits  # pylint: disable=import-outside-toplevel
    scan_limits(image_options.get("scan_max_entries"), image_options.get("scan_max_bytes"), image_options.get("scan_max_seconds"))


def _image_part(shared, image_options, check_mode):
    """image_audit's result over the shared client, with only its own API calls counted; {failed, msg} when
    the Engine failed it."""
    # Imported only when the image part runs: its layer reading (tarfile, the save stream) is the bulk of it.
    from ansible_collections.bulwark.hardening.plugins.module_utils.audit.image_run import run_image_audit  # pylint: disable=import-outside-toplevel
    before = collections.Counter(shared.calls)
    try:
        result = run_image_audit(client=shared, check_mode=check_mode, **image_options)
    except EngineError as error:
        return {"failed": True, "msg": "image audit: %s" % error}
    own = collections.Counter(shared.calls)
    own.subtract(before)
    result["api_calls_by_endpoint"] = dict((endpoint, count) for endpoint, count in own.items() if count > 0)
    result["api_calls"] = sum(result["api_calls_by_endpoint"].values())
    return result


def run_host_audit(connection=None, client=None, image_audit=True, check_mode=False, **options):
    """container_audit's result (run_audit()) with, unless image_audit is false, image_audit's whole result
    (run_image_audit()) under "image_audit" and the reads it took over from the container audit in
    "api_calls_shared" ({endpoint: reads}).

    options: run_audit's and run_image_audit's keyword options (CONTAINER_OPTIONS, IMAGE_OPTIONS and the
    SHARED_OPTIONS both take). check_mode: the image scan cache is read, never written (the container audit
    writes nothing either way). Raises AuditError on bad input of either audit, before anything is gathered,
    and engine.connection.EngineError when the container audit cannot read the Engine.
    """
    container_options, image_options = _split(options)
    if image_audit:
        _check_image_input(image_options)
    connection = connection or connection_from({})
    shared = SharedReads(client or connect(connection))
    result = run_audit(connection=connection, client=shared, **container_options)
    if image_audit:
        result["image_audit"] = _image_part(shared, image_options, check_mode)
        result["api_calls_shared"] = dict(shared.shared)
    return result
