# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""bulwark's own rules (BW-xxx): risks the CIS benchmark does not name, or names too loosely.

Same sources as section 4 and 5 (one inspect per container and per image),
plus `docker diff` for containers labelled bulwark.immutable=true (BW-004),
one call per such container.
"""

from __future__ import annotations

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.rule import (
    container_rule, failed, image_rule, passed, skipped,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within, normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import (
    bind_mounts, capability_names, describe_mount, docker_socket_path,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import env_pairs, find_secrets

SECTION = "bulwark"

# Host paths beyond CIS 5.6's list whose write access gives a container the host:
# credentials and home directories, runtime sockets, Docker's and Kubernetes'
# state, logs (tampering), system binaries. The Docker socket itself is 5.32's.
EXTRA_SENSITIVE_PATHS = (
    "/root", "/home", "/run", "/var/run", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet",
    "/var/log", "/bin", "/sbin", "/lib32", "/lib64", "/libx32",
)

# Files Docker itself writes into every container's filesystem.
DOCKER_MANAGED_FILES = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv")
DIFF_KINDS = {0: "changed", 1: "added", 2: "deleted"}
DIFF_EXAMPLES = 5

# Docker Hub's aliases, so an allowlist entry `docker.io` covers all spellings.
DOCKER_HUB = "docker.io"
DOCKER_HUB_ALIASES = ("index.docker.io", "registry-1.docker.io", "registry.hub.docker.com")


def _masked(hits):
    return ", ".join(hit.describe() for hit in hits)


@container_rule(
    "BW-001", "Container environment holds no secret values", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .Config.Env, minus entries inherited unchanged from the image (those are BW-003's)",
    remediation="Pass secrets as files (Docker secrets, a read-only tmpfs or bind mount, *_FILE variables), "
                "not environment variables.",
)
def env_secrets(container, state):
    # Environment variables leak: docker inspect, /proc/<pid>/environ, crash reports, child processes.
    image = state.image_of(container)
    inherited = env_pairs(image.config.get("Env")) if image else []
    hits = find_secrets(env_pairs(container.config.get("Env")), ignore=inherited)
    if hits:
        return failed("secret-like environment values: %s" % _masked(hits))
    return passed("no secret-like environment value")


@container_rule(
    "BW-002", "Container labels hold no secret values", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .Config.Labels, minus labels inherited unchanged from the image (those are BW-003's)",
    remediation="Remove secrets from labels: anyone who may list containers can read them.",
)
def label_secrets(container, state):
    # Labels are metadata for tooling: every API client that can list containers sees them.
    image = state.image_of(container)
    inherited = list((image.config.get("Labels") or {}).items()) if image else []
    hits = find_secrets(sorted(container.labels.items()), ignore=inherited)
    if hits:
        return failed("secret-like label values: %s" % _masked(hits))
    return passed("no secret-like label value")


@image_rule(
    "BW-003", "Image configuration holds no secret values", SECTION,
    level=1, scored=True, severity="high", fix="manual",
    reads="image inspect .Config.Env and .Config.Labels",
    remediation="Rebuild without ENV/LABEL secrets (use BuildKit secret mounts at build time, "
                "runtime secrets at run time) and rotate the exposed secret.",
)
def image_secrets(image, state):
    # Whatever is baked into an image's config ships to every registry and host that pulls it.
    pairs = env_pairs(image.config.get("Env")) + sorted((image.config.get("Labels") or {}).items())
    hits = find_secrets(pairs)
    if hits:
        return failed("secret-like values in the image config: %s" % _masked(hits))
    return passed("no secret-like value in the image's env or labels")


@container_rule(
    "BW-004", "Container labelled immutable has no filesystem drift from its image", SECTION,
    level=2, scored=True, severity="high", fix="recreate",
    reads="label bulwark.immutable=true, then `docker diff` (one call per such container)",
    remediation="Find out who changed the files (possible intrusion), then recreate the container from its image; "
                "run it with --read-only to prevent drift.",
)
def immutable_drift(container, state):
    # A container declared immutable that changed its files was tampered with or is misconfigured.
    if not container.immutable:
        return None
    if container.diff is None:
        return skipped("filesystem changes not gathered")
    drift = [change for change in container.diff if not _made_by_docker(change.get("Path", ""), container)]
    if not drift:
        return passed("no file changed, added or deleted")
    examples = ["%s %s" % (DIFF_KINDS.get(change.get("Kind"), "changed"), change.get("Path"))
                for change in drift[:DIFF_EXAMPLES]]
    more = ", ..." if len(drift) > DIFF_EXAMPLES else ""
    return failed("%d filesystem changes: %s%s" % (len(drift), ", ".join(examples), more))


def _made_by_docker(path, container):
    """Mount points Docker creates for volumes, binds and tmpfs (and their parent directories),
    and the files it manages, show up in `docker diff` without anyone changing the image."""
    destinations = [mount.get("Destination", "") for mount in container.mounts]
    destinations += list((container.host_config.get("Tmpfs") or {}).keys())
    destinations += list(DOCKER_MANAGED_FILES)
    return any(destination == path or destination.startswith(path.rstrip("/") + "/") for destination in destinations)


def _pinned(reference, image_id):
    # A digest, or the content-addressed image id itself, names exactly one image; a tag can move.
    if "@sha256:" in reference:
        return True
    bare = reference.replace("sha256:", "")
    return len(bare) >= 12 and image_id.replace("sha256:", "").startswith(bare)


@container_rule(
    "BW-005", "Container image is pinned by digest", SECTION,
    level=2, scored=True, severity="medium", fix="recreate",
    reads="inspect .Config.Image (the reference the container was created from) and .Image",
    remediation="Reference images by digest (name@sha256:...) in compose files, units and playbooks.",
)
def image_pinned(container, state):
    # A tag can be re-pointed upstream: the next recreate silently runs different code.
    reference = container.config.get("Image") or ""
    if _pinned(reference, container.image_id):
        return passed("Config.Image=%s" % reference)
    return failed("Config.Image=%s is a mutable tag" % reference)


def split_reference(reference):
    """(registry, repository path) of an image reference, with Docker Hub's defaults applied."""
    name = reference.split("@", 1)[0]
    first, sep, rest = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, rest
    else:
        registry, path = DOCKER_HUB, (name if sep else "library/" + name)
    if ":" in path.rsplit("/", 1)[-1]:
        path = path.rsplit(":", 1)[0]
    return (DOCKER_HUB if registry in DOCKER_HUB_ALIASES else registry), path


def _trusted(reference, allowlist):
    registry, path = split_reference(reference)
    full = registry + "/" + path
    return any(full == entry.rstrip("/") or full.startswith(entry.rstrip("/") + "/") for entry in allowlist)


def _same_digest_reference(reference, repo_digest):
    """True when a digest reference names the same repository and manifest digest as a RepoDigest."""
    digest, other = reference.partition("@")[2], repo_digest.partition("@")[2]
    return bool(digest) and digest == other and split_reference(reference) == split_reference(repo_digest)


def registry_origins(container, image):
    """The registry references that prove where the container's image came from.

    RepoDigests are set only when the image was pulled from or pushed to a
    registry. When the container was created from a digest reference that is
    one of them, that pull is the origin; otherwise every RepoDigest is. Tags
    (RepoTags, or a tag the container was created from) prove nothing:
    `docker tag` gives any local image any registry's name.
    """
    digests = [digest for digest in image.inspect.get("RepoDigests") or [] if "@" in digest]
    reference = container.config.get("Image") or ""
    created_from = [digest for digest in digests if _same_digest_reference(reference, digest)]
    return created_from or digests


def _repositories(references):
    return ", ".join(sorted(set("%s/%s" % split_reference(reference) for reference in references)))


@container_rule(
    "BW-006", "Container image comes from a trusted registry", SECTION,
    level=2, scored=True, severity="high", fix="recreate",
    reads="image inspect .RepoDigests (and inspect .Config.Image when it is a digest reference among them); "
          "option trusted_registries",
    remediation="Run images only from the registries in trusted_registries (mirror others into one of them); "
                "pull them from there rather than building or tagging them locally.",
)
def trusted_registry(container, state):
    # An allowlist makes the registry part of the supply chain policy, not a matter of habit. Only a
    # registry digest says where an image came from; a tag is a local name anyone can give.
    allowlist = state.options.trusted_registries
    if not allowlist:
        return skipped("no trusted_registries given")
    image = state.image_of(container)
    if image is None:
        return skipped("the container's image was not inspected")
    origins = registry_origins(container, image)
    if not origins:
        return failed("the image has no registry digest (RepoDigests is empty): it was built, imported or tagged "
                      "locally, so it has no registry origin whatever its name")
    if any(_trusted(origin, allowlist) for origin in origins):
        return passed("from %s (RepoDigests)" % _repositories(o for o in origins if _trusted(o, allowlist)))
    return failed("from untrusted registries only: %s (RepoDigests)" % _repositories(origins))


@container_rule(
    "BW-007", "Container is not exposed to every container on the default bridge", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="inspect .NetworkSettings.Networks; daemon icc (command line, daemon.json)",
    remediation="Move the container to a user-defined network, or set `icc: false` in daemon.json.",
)
def default_bridge_open(container, state):
    # 5.30 flags any use of docker0; this is the case that matters most: docker0 with icc on,
    # where every other container can reach every port of this one.
    if "bridge" not in container.networks:
        return passed("not on the default bridge")
    if state.daemon.flag("icc") is False:
        return passed("on the default bridge, but %s" % state.daemon.describe("icc"))
    return failed("on the default bridge with inter-container communication on (%s)" % state.daemon.describe("icc"))


@container_rule(
    "BW-008", "Container drops all capabilities it does not add back", SECTION,
    level=2, scored=True, severity="medium", fix="recreate",
    reads="inspect .HostConfig.CapDrop, .HostConfig.Privileged",
    remediation="Run with --cap-drop ALL and --cap-add only what the service needs (e.g. NET_BIND_SERVICE).",
    fixed_by=("containers_recreate_enabled", "containers_policy"),
)
def capabilities_dropped(container, state):
    # Docker's default set still holds 14 capabilities (NET_RAW, DAC_OVERRIDE, ...) most services never use.
    if container.host_config.get("Privileged"):
        return failed("privileged: every capability, CapDrop is ignored")
    dropped = capability_names(container.host_config.get("CapDrop"))
    if "ALL" in dropped:
        return passed("CapDrop=ALL, CapAdd=%s" % (",".join(capability_names(container.host_config.get("CapAdd"))) or "none"))
    return failed("CapDrop=%s (not ALL)" % (",".join(dropped) or "none"))


@container_rule(
    "BW-009", "No writable mount of a sensitive host path", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .Mounts (writable bind sources equal to or below %s)" % ", ".join(EXTRA_SENSITIVE_PATHS),
    remediation="Mount only application data directories, read-only where possible (:ro).",
    fixed_by=("containers_recreate_enabled",),
)
def sensitive_writable_mounts(container, state):
    # Sub-paths count: /run/containerd/containerd.sock is as dangerous as /run. The CIS system
    # directories are 5.6's and the Docker socket 5.32's, so each exposure is reported once.
    socket = docker_socket_path(state.options.docker_host)
    wanted = [normal_path(path) for path in EXTRA_SENSITIVE_PATHS]
    exposed = [mount for mount in bind_mounts(container)
               if mount[2] and mount[0] != socket and mount[0].rsplit("/", 1)[-1] != "docker.sock"
               and any(is_within(mount[0], path) for path in wanted)]
    if exposed:
        return failed("writable bind mounts of sensitive host paths: %s" % ", ".join(describe_mount(m) for m in exposed))
    return passed("no writable mount of a sensitive host path")
