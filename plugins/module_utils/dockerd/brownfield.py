# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Changes that would hide or break what already runs on a host, and the reasons they are left open.

A server that already runs containers is the normal case. Two of the
daemon's hardening changes would hide or break what runs there, so the
docker_daemon role leaves them as they are on such a host, and the audit
explains its failing verdict with the same words, from the same facts:

- user-namespace remapping (CIS 2.9): dockerd keeps each remapping's data
  in its own root (<data-root>/<uid>.<gid>); switching it on, off or to
  another user while containers, images or volumes exist hides them all
  from docker (nothing is deleted) - running services included, once they
  are recreated;
- content trust (CIS 4.5): with DOCKER_CONTENT_TRUST=1 the docker CLI asks
  a Notary server for the signed digest of every image it runs, creates,
  pulls or builds FROM by name. An image that came from no registry (built
  or imported on the host: no RepoDigests) can have no trust data, so
  `docker run` of it fails from then on.

Plain functions over counts and image data.
"""

from __future__ import annotations

BROWNFIELD_GUIDE = "README.md, section 'Hosts that already run containers'"
USERNS_CONFIRM = "docker_daemon_userns_confirm_existing"
CONTENT_TRUST_CONFIRM = "docker_daemon_content_trust_confirm_local_images"

_USERNS_EFFECT = {
    "on": "Turning user-namespace remapping on",
    "off": "Turning user-namespace remapping off",
    "rename": "Changing the remap user",
}


def describe_counts(counts):
    """'3 containers, 3 images, 1 volume' of the kinds present, or '' when there is nothing."""
    present = []
    for kind in ("containers", "images", "volumes"):
        number = counts.get(kind) or 0
        if number:
            present.append("%d %s" % (number, kind if number != 1 else kind[:-1]))
    return ", ".join(present)


def userns_reason(change, counts, before="off", after="off"):
    """Why a remapping change (preflight.userns_change: on, off, rename) is left undone on this host, or None.

    None when there is no change or nothing would disappear from view.
    """
    present = describe_counts(counts)
    if change is None or not present:
        return None
    return ("%s (%s -> %s) would move dockerd to another data root and hide the %s on this host from docker "
            "(nothing is deleted; services would be lost at their next recreate). Left as it is. Migrate first "
            "(%s), then set %s=true." % (_USERNS_EFFECT[change], before, after, present, BROWNFIELD_GUIDE, USERNS_CONFIRM))


def has_registry_origin(image_inspect):
    """Whether an image came from a registry (it has a repository digest), so it can have trust data."""
    return bool((image_inspect or {}).get("RepoDigests"))


def local_images_in_use(containers, images):
    """{image name: [container names]} of running containers whose image came from no registry.

    containers: [(container name, image name as run, image id)]; images: {image id: image inspect}.
    An image that cannot be inspected is not judged.
    """
    local = {}
    for container_name, image_name, image_id in containers:
        image = images.get(image_id)
        if image is not None and not has_registry_origin(image):
            local.setdefault(image_name or image_id[:19], []).append(container_name)
    return dict((name, sorted(names)) for name, names in local.items())


def content_trust_reason(local_images):
    """Why content trust is left off on this host ({image: [containers]} of local_images_in_use), or None."""
    if not local_images:
        return None
    containers = sorted(name for names in local_images.values() for name in names)
    shown = ", ".join("%s (%s)" % (image, ", ".join(names)) for image, names in sorted(local_images.items())[:5])
    more = " and %d more" % (len(local_images) - 5) if len(local_images) > 5 else ""
    who = "1 running container uses" if len(containers) == 1 else "%d running containers use" % len(containers)
    what = "an image" if len(local_images) == 1 else "%d images" % len(local_images)
    return ("%s %s built or imported on this host, with no registry origin: %s%s. With DOCKER_CONTENT_TRUST=1 "
            "the docker CLI could no longer run, create or pull them by name (no trust data); docker compose does "
            "not check it. Left off. Run them by image id or with --disable-content-trust, push them to a registry "
            "with signing, or set %s=true to turn it on anyway (%s)."
            % (who, what, shown, more, CONTENT_TRUST_CONFIRM, BROWNFIELD_GUIDE))
