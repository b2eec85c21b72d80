# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The audit modules' argument specs, stated once.

container_audit takes the container options and the shared ones, image_audit
the image options and the shared ones, audit all of them plus `image_audit`.
The doc fragment bulwark.hardening.audit_options documents the same three
groups (DOCUMENTATION, CONTAINER_AUDIT, IMAGE_AUDIT), and
tests/unit/test_module_docs.py checks that the two agree.

The image options' defaults come from images.cache and images.scan, which
only image_audit_args() imports: container_audit does not load them.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.engine.argument_spec import with_connection
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import CIS_VERSIONS, DEFAULT_CIS_VERSION, SECTIONS

# What both audits take: the waivers, the trusted registries, the findings listed, the profile and the version.
SHARED_AUDIT_ARGS = dict(
    waivers=dict(
        type="list", elements="dict", default=[],
        options=dict(
            rule=dict(type="str", required=True),
            target=dict(type="str", default="*"),
            reason=dict(type="str", required=True),
            expires=dict(type="str"),
        ),
    ),
    trusted_registries=dict(type="list", elements="str", default=[]),
    report=dict(type="str", choices=["problems", "all"], default="problems"),
    level=dict(type="int", choices=[1, 2], default=2),
    cis_version=dict(type="str", choices=list(CIS_VERSIONS), default=DEFAULT_CIS_VERSION),
)

# container_audit's own: which sections and containers, and the optional per-container and per-image calls.
CONTAINER_AUDIT_ARGS = dict(
    scope=dict(type="list", elements="str", choices=list(SECTIONS), default=list(SECTIONS)),
    include_stopped=dict(type="bool", default=False),
    name_filter=dict(type="list", elements="str", default=[]),
    label_filter=dict(type="list", elements="str", default=[]),
    trusted_users=dict(type="list", elements="str"),
    process_checks=dict(type="bool", default=False),
    drift_checks=dict(type="bool", default=False),
    image_history=dict(type="bool", default=False),
)


def image_audit_args():
    """image_audit's own options: which images, the layer scan, its cache and its caps."""
    # pylint: disable=import-outside-toplevel
    from ansible_collections.bulwark.hardening.plugins.module_utils.images.cache import DEFAULT_CACHE_DIR
    from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import (
        DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, DEFAULT_MAX_SECONDS,
    )
    return dict(
        images=dict(type="list", elements="str", default=[]),
        include_dangling=dict(type="bool", default=False),
        layer_scan=dict(type="bool", default=True),
        cache_dir=dict(type="path", default=DEFAULT_CACHE_DIR),
        scan_max_entries=dict(type="int", default=DEFAULT_MAX_ENTRIES),
        scan_max_bytes=dict(type="int", default=DEFAULT_MAX_BYTES),
        scan_max_seconds=dict(type="int", default=DEFAULT_MAX_SECONDS),
    )


def container_audit_spec():
    """container_audit's argument spec: the Docker connection, the container options and the shared ones."""
    return with_connection(dict(CONTAINER_AUDIT_ARGS, **SHARED_AUDIT_ARGS))


def image_audit_spec():
    """image_audit's argument spec: the Docker connection, the image options and the shared ones."""
    return with_connection(dict(image_audit_args(), **SHARED_AUDIT_ARGS))


def host_audit_spec():
    """audit's argument spec: everything both audits take, plus image_audit (false leaves the image part out)."""
    spec = dict(CONTAINER_AUDIT_ARGS, **image_audit_args())
    spec.update(SHARED_AUDIT_ARGS)
    spec["image_audit"] = dict(type="bool", default=True)
    return with_connection(spec)
