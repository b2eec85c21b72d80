# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""CIS Docker Benchmark v1.6 section 4: container images and build file.

container_audit audits the images of the audited containers, each
inspected once; image_audit audits every local image. The build-history
checks (4.7, 4.9, 4.10) need one more call per image (`docker history`):
container_audit makes it only with image_history: true, image_audit always.
4.8 reads the layer scan only image_audit makes (images.save: every layer,
merged as a container sees them). 4.1 has an image form (the image's USER)
that image_audit evaluates. Checks about how images are built or chosen are
manual: nothing in the Engine's data decides them.
"""

from __future__ import annotations

import datetime
import posixpath
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    container_rule, failed, global_rule, image_form, image_rule, info, manual_rule, passed, skipped, warned,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import env_pairs, find_secrets
from ansible_collections.bulwark.hardening.plugins.module_utils.dockerd import brownfield
from ansible_collections.bulwark.hardening.plugins.module_utils.images.history import history_secrets
from ansible_collections.bulwark.hardening.plugins.module_utils.images.history import instruction as history_instruction
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.bulwark import (
    image_trusted_registry, in_layers, only_package_files, trusted_reference,
)

SECTION = "images"

# A package index refresh without an install in the same RUN: the index
# layer gets cached and later builds install from a stale index.
PACKAGE_UPDATE = re.compile(r"\b(?:apt-get|apt|apk|yum|dnf|zypper|microdnf)\s+(?:-\S+\s+)*(?:update|makecache|refresh)\b")
PACKAGE_INSTALL = re.compile(r"\b(?:install|add|upgrade)\b")
# `docker history` CreatedBy of an ADD, as each builder writes it:
# classic: "/bin/sh -c #(nop) ADD [--chown=..] <file|dir|multi>:<hex> in <dest> " (the shell words
#   are SHELL's, e.g. "/bin/bash -o pipefail -c #(nop) ADD ..."; a RUN's own text follows them directly);
# BuildKit: "ADD <src>... <dest> # buildkit" (other builders write the same without the marker).
CLASSIC_ADD = re.compile(r"^[^#\n]*#\(nop\)\s+ADD\s(?P<args>.*?)\s+in\s+(?P<dest>.*?)\s*$", re.DOTALL)
BUILDKIT_ADD = re.compile(r"^ADD\s(?P<args>.*?)(?:\s*# buildkit)?\s*$", re.DOTALL)
# The base image's root filesystem, the one ADD every image built from scratch starts with.
CLASSIC_ROOTFS_SOURCE = re.compile(r"^file:[0-9a-f]+$")


def runs_as_root(user):
    # Config.User is "user", "uid", "user:group" or "uid:gid"; only the user part decides.
    name = (user or "").split(":", 1)[0]
    return name in ("", "0", "root")


@container_rule(
    "4.1", "Ensure that a user for the container has been created", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .Config.User (the image's USER unless the container overrides it)",
    remediation="Create a user in the image (useradd + USER in the Dockerfile) or run with --user <uid>:<gid>.",
    fixed_by=("containers_recreate_enabled", "containers_policy"),
    left_open="which user a service can run as depends on its image: name it in containers_policy.user (or an "
              "override's policy.user) with recreate fixes on (containers_recreate_enabled: true)",
)
def container_user(container, state):
    # Root in a container is root on the host as soon as anything leaks (a mount, a capability, a kernel bug).
    user = container.config.get("User") or ""
    if runs_as_root(user):
        return failed("runs as root (Config.User=%s)" % (user or "<empty>"))
    return passed("Config.User=%s" % user)


@image_form("4.1", reads="image inspect .Config.User (the Dockerfile's last USER)")
def image_user(image, state):
    # The image's USER is what every container gets unless it overrides it: root forms are
    # empty, 0 and root, with or without a group (0:0, root:1000).
    user = image.config.get("User") or ""
    if runs_as_root(user):
        return failed("the image runs as root (USER %s)" % (user or "not set"))
    return passed("USER %s" % user)


# The label an image may carry to name what it was built FROM (OCI image spec annotations, written by some builds).
BASE_NAME_LABEL = "org.opencontainers.image.base.name"


def _layers(image):
    return list((image.inspect.get("RootFS") or {}).get("Layers") or [])


def proven_bases(image, state):
    """(number of layers, [images]) of the closest base among the gathered images: those whose layers are this
    image's first ones (layer ids are content digests, so a build FROM an image starts with its layers).
    (0, []) when none is."""
    layers = _layers(image)
    best, bases = 0, []
    for other in state.images.values():
        count = len(_layers(other))
        if 0 < count < len(layers) and _layers(other) == layers[:count]:
            if count > best:
                best, bases = count, []
            if count == best:
                bases.append(other)
    return best, bases


def _base_names(bases):
    names = []
    for base in bases:
        digests = [digest for digest in base.inspect.get("RepoDigests") or [] if "@" in digest]
        names.extend(digest.split("@", 1)[0] for digest in digests)
    return sorted(set(names))


@image_rule(
    "4.2", "Ensure that containers use only trusted base images", SECTION,
    level=1, scored=False, severity="high", fix="manual",
    reads="the gathered images whose image inspect .RootFS.Layers are this image's first layers (its base, proven by "
          "content digests) and their .RepoDigests, option trusted_registries; otherwise nothing decides it: the "
          "Engine records no FROM, so the rule says so (info), quoting the image's own origin (BW-006) and the "
          "label %s" % BASE_NAME_LABEL,
    remediation="Build from base images of a trusted source (a signed distribution archive, a vetted registry), "
                "pinned by digest in the Dockerfile; keep the Dockerfiles or build records that show it.",
)
def trusted_base(image, state):
    # Where an image was pulled from (BW-006) says nothing about what it was built FROM: a trusted registry can
    # hold an image built on anything. A local image whose layers are this one's first ones is its base (layers
    # are content digests); without one, a person decides.
    count, bases = proven_bases(image, state)
    allowlist = state.options.trusted_registries
    names = _base_names(bases)
    if count and names and allowlist:
        where = "(its %d layer%s this image's first of %d)" % (count, " is" if count == 1 else "s are", len(_layers(image)))
        trusted = [name for name in names if trusted_reference(name, allowlist)]
        if trusted:
            return passed("built on %s %s, from a trusted registry" % (", ".join(trusted), where))
        return failed("built on %s %s, from no registry in trusted_registries" % (", ".join(names), where))
    parts = ["the image does not record its base image (no FROM in its config or history)"]
    if count:
        parts.append("%s of %s%s" % (
            "its first layer is that" if count == 1 else "its first %d layers are those" % count,
            ", ".join(sorted(base.name for base in bases)),
            ", which has no registry digest (built or imported here)" if not names else ""))
    declared = (image.config.get("Labels") or {}).get(BASE_NAME_LABEL)
    if declared:
        parts.append("its label %s declares %s (unverified: any build can write it)" % (BASE_NAME_LABEL, declared))
    if allowlist:
        parts.append("where the image itself came from is BW-006's: %s" % image_trusted_registry(image, state).evidence)
    return info("; ".join(parts) + ": confirm the base image in its Dockerfile or build record")


manual_rule(
    "4.3", "Ensure that unnecessary packages are not installed in the container", SECTION,
    level=1, scored=False, severity="medium", subject="images",
    reads="the image's package list (outside the Engine's data)",
    remediation="Install only what the service needs; prefer minimal base images.",
)

# An image older than this has missed months of security updates of its base and packages.
MAX_IMAGE_AGE_DAYS = 90
# Docker's first release: an image "built" before it carries a fixed timestamp, not a build time.
FIRST_DOCKER_RELEASE = datetime.datetime(2013, 3, 20, tzinfo=datetime.timezone.utc)
CREATED = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?")


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def image_created(image):
    """When the image says it was built (inspect .Created), as an aware datetime; None when unreadable."""
    match = CREATED.match(image.inspect.get("Created") or "")
    if not match:
        return None
    return datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)


def fixed_build_date(image, created):
    """Why .Created is a set timestamp rather than the time of a build, or None.

    Builders stamp a build with the clock, in nanoseconds. Reproducible builds write SOURCE_DATE_EPOCH instead,
    in whole seconds, often the Unix epoch (ko, Jib, nix, kaniko --reproducible), and an image without a date
    shows Go's zero time. A whole-second date that every history entry repeats is such a stamp too.
    """
    if created < FIRST_DOCKER_RELEASE:
        return "%s is not a build time (before Docker existed: the Unix epoch or no date, as reproducible builds " \
               "write it)" % (image.inspect.get("Created"))
    whole_seconds = CREATED.match(image.inspect.get("Created")).group(2) is None
    stamps = set(int(entry.get("Created") or 0) for entry in image.history or [])
    if whole_seconds and stamps == {int(created.timestamp())}:
        return "%s is not a build time: a whole-second date every history entry repeats, a fixed stamp " \
               "(SOURCE_DATE_EPOCH) of a reproducible build" % image.inspect.get("Created")
    return None


@image_rule(
    "4.4", "Ensure images are scanned and rebuilt to include security patches", SECTION,
    level=1, scored=False, severity="high", fix="manual",
    reads="image inspect .Created (and docker history's dates, when read): warn when built more than %d days ago; "
          "a fixed timestamp (before Docker existed, or a whole-second SOURCE_DATE_EPOCH every history entry "
          "repeats) is no age and reported as info; a scanner's report is for a person" % MAX_IMAGE_AGE_DAYS,
    remediation="Scan images regularly and rebuild them on patched base images; rebuild at least every %d days."
                % MAX_IMAGE_AGE_DAYS,
)
def rebuilt_recently(image, state):
    # The audit has no vulnerability database; what it can decide is whether the image was rebuilt recently
    # enough to carry current updates. An old build has missed updates; a recent one is not proven patched.
    created = image_created(image)
    if created is None:
        return skipped("no readable build date (inspect .Created=%r)" % image.inspect.get("Created"))
    stamp = fixed_build_date(image, created)
    if stamp:
        return info("%s; the image's age is unknown and its patch level needs a scanner" % stamp)
    days = (_now() - created).days
    if days > MAX_IMAGE_AGE_DAYS:
        return warned("built %d days ago (%s), more than %d: rebuild it on a patched base and scan it"
                      % (days, created.date().isoformat(), MAX_IMAGE_AGE_DAYS))
    return passed("built %d days ago (%s): rebuilt recently, which is its age, not its patch level (scan it)"
                  % (days, created.date().isoformat()))


@global_rule(
    "4.5", "Ensure Content trust for Docker is Enabled", SECTION, subject="host",
    level=2, scored=True, severity="medium", fix="host",
    reads="DOCKER_CONTENT_TRUST=1 in /etc/environment, /etc/profile(.d), /etc/bash.bashrc, "
          "systemd DefaultEnvironment, or the audit's own environment",
    remediation="Export DOCKER_CONTENT_TRUST=1 system-wide (/etc/profile.d and systemd's DefaultEnvironment).",
    fixed_by=("docker_daemon_content_trust_enabled", "docker_daemon_content_trust_confirm_local_images"),
)
def content_trust(state):
    # Content trust is a client setting; what matters is the environment every docker CLI user gets.
    if state.host.content_trust:
        return passed("DOCKER_CONTENT_TRUST=1 set in %s" % ", ".join(state.host.content_trust))
    # Harden leaves it off where running containers use images from no registry: the CLI could not run them by name.
    in_use = [(container.name, container.config.get("Image"), container.image_id)
              for container in state.containers if container.running]
    images = dict((image_id, image.inspect) for image_id, image in state.images.items())
    return failed("DOCKER_CONTENT_TRUST=1 is not set system-wide",
                  left_open=brownfield.content_trust_reason(brownfield.local_images_in_use(in_use, images)))


@image_rule(
    "4.6", "Ensure that HEALTHCHECK instructions have been added to container images", SECTION,
    level=1, scored=True, severity="low", fix="manual",
    reads="image inspect .Config.Healthcheck",
    remediation="Add a HEALTHCHECK instruction to the Dockerfile and rebuild.",
)
def image_healthcheck(image, state):
    # A health check in the image travels with it to every container started from it.
    test = (image.config.get("Healthcheck") or {}).get("Test") or []
    if test and test[0] != "NONE":
        return passed("HEALTHCHECK %s" % " ".join(test[:1]))
    return failed("no HEALTHCHECK in the image")


def _history_commands(image):
    return [str(layer.get("CreatedBy") or "") for layer in image.history or []]


@image_rule(
    "4.7", "Ensure update instructions are not used alone in Dockerfiles", SECTION,
    level=1, scored=False, severity="low", fix="manual",
    reads="docker history .CreatedBy (one call per image, only with image_history: true)",
    remediation="Refresh the package index and install in the same RUN (apt-get update && apt-get install ...).",
)
def update_alone(image, state):
    if image.history is None:
        return skipped("needs image_history: true (one `docker history` call per image)")
    # Evidence quotes only the matched update command: build commands may carry secrets.
    alone = [PACKAGE_UPDATE.search(command).group(0) for command in _history_commands(image)
             if PACKAGE_UPDATE.search(command) and not PACKAGE_INSTALL.search(PACKAGE_UPDATE.sub("", command))]
    if alone:
        return warned("package index update without install in the same layer: %d layer(s), e.g. `%s`" % (len(alone), alone[0]))
    return passed("no lone package index update in %d layers" % len(image.history))


# Paths named in evidence; the counts are always complete.
EXAMPLES = 5


def _examples(paths, count):
    more = ", ..." if count > min(len(paths), EXAMPLES) else ""
    return ", ".join(paths[:EXAMPLES]) + more


NO_SCAN = "no layer scan of this image (image_audit with layer_scan: true reads its files)"


@image_rule(
    "4.8", "Ensure setuid and setgid permissions are removed", SECTION,
    level=2, scored=False, severity="medium", fix="manual",
    reads="the image's files as a container of it sees them: file modes in every layer, whiteouts and later "
          "layers' changes applied (image_audit layer_scan: docker save streamed, cached by image id)",
    remediation="Remove setuid/setgid bits in the Dockerfile (find / -perm /6000 -type f -exec chmod a-s {} +), "
                "keeping only those the service needs.",
)
def setuid_files(image, state):
    # A setuid root binary is a ready-made privilege escalation for whoever gets a shell in the container.
    # What a container sees counts: a bit a later layer removed (chmod a-s, rm) is gone from it.
    scan = image.scan
    if scan is None:
        return skipped(NO_SCAN)
    # A scan stopped at a cap (images.scan.ScanLimits) proves what it found, never the absence of the rest.
    stopped = getattr(scan, "incomplete", None)
    removed = getattr(scan, "setid_removed", 0)
    removed_note = "; %d more in lower layers, deleted or replaced by later ones" % removed if removed else ""
    if scan.setuid_count or scan.setgid_count:
        parts = []
        if scan.setuid_count:
            parts.append("%d setuid (%s)" % (scan.setuid_count, _examples(scan.setuid, scan.setuid_count)))
        if scan.setgid_count:
            parts.append("%d setgid (%s)" % (scan.setgid_count, _examples(scan.setgid, scan.setgid_count)))
        stopped_note = " (layer scan incomplete: %s)" % stopped if stopped else ""
        return failed("files with special permission bits: %s%s%s" % ("; ".join(parts), removed_note, stopped_note))
    if stopped:
        seen = getattr(scan, "setid_in_layers", 0)
        seen_note = " (%d setuid or setgid files in the layers read, whose later layers were not all read)" % seen \
            if seen else ""
        return skipped("layer scan incomplete: %s; no setuid or setgid file a container would see among the %d files "
                       "read%s" % (stopped, scan.files, seen_note))
    return passed("no setuid or setgid file among %d files%s%s" % (scan.files, in_layers(scan), removed_note))


def add_destination(command):
    """Where an ADD history entry (either builder) puts its files, with its source words; None for other entries."""
    classic = CLASSIC_ADD.match(command)
    if classic:
        return classic.group("dest"), classic.group("args").split()
    buildkit = BUILDKIT_ADD.match(command)
    if buildkit:
        words = buildkit.group("args").split()
        # A lone word would be a source, not a destination.
        return (words[-1], words[:-1]) if len(words) > 1 else ("", words)
    return None


def _shown_destination(destination):
    # A destination is a path in the image; anything URL-like is not repeated in evidence.
    if not destination or "://" in destination or "@" in destination:
        return "<not shown>"
    return destination


def _is_remote_source(source):
    # A URL or a git remote: ADD fetches it at build time, and never unpacks a URL's archive into a rootfs.
    return "://" in source or source.startswith("git@")


def is_base_rootfs_add(command):
    """A base image's rootfs ADD: one local source (classic: a file:<hex> content hash; a URL's download is a bare
    hash there) added into / itself."""
    found = add_destination(command)
    if found is None:
        return False
    destination, words = found
    sources = [word for word in words if not word.startswith("--")]
    if posixpath.normpath(destination) not in ("/", "//") or len(sources) != 1 or _is_remote_source(sources[0]):
        return False
    return CLASSIC_ROOTFS_SOURCE.match(sources[0]) is not None or command.startswith("ADD ")


# Instructions that only change the image's config (no files): Ubuntu's images start with ARG and LABEL entries
# before their rootfs ADD.
METADATA_INSTRUCTIONS = frozenset([
    "ARG", "LABEL", "ENV", "MAINTAINER", "CMD", "ENTRYPOINT", "EXPOSE", "USER", "WORKDIR", "VOLUME", "STOPSIGNAL",
    "HEALTHCHECK", "SHELL", "ONBUILD",
])


def base_rootfs_entry(commands):
    """Index of the history entry that laid the base image's files: the oldest one (history is newest first) that
    is not metadata only; None for an empty history."""
    for index in range(len(commands) - 1, -1, -1):
        if history_instruction(commands[index]) not in METADATA_INSTRUCTIONS:
            return index
    return None


@image_rule(
    "4.9", "Ensure that COPY is used instead of ADD in Dockerfiles", SECTION,
    level=1, scored=False, severity="low", fix="manual",
    reads="docker history .CreatedBy (one call per image, only with image_history: true)",
    remediation="Use COPY for local files; fetch remote files with a verified download in RUN.",
)
def add_instead_of_copy(image, state):
    # ADD fetches URLs and unpacks archives implicitly. Only the base image's rootfs ADD is exempt: the oldest
    # entry that writes files (metadata such as ARG and LABEL may come first), and only a local source into /.
    if image.history is None:
        return skipped("needs image_history: true (one `docker history` call per image)")
    commands = _history_commands(image)
    base = base_rootfs_entry(commands)
    adds = []
    for index, command in enumerate(commands):
        found = add_destination(command)
        if found is None or (index == base and is_base_rootfs_add(command)):
            continue
        adds.append("%d (into %s)" % (index, _shown_destination(found[0])))
    # Entries are counted from the newest (0) and named by destination only: sources may be URLs with tokens.
    if adds:
        return warned("ADD instructions in %d layer(s): history entries %s" % (len(adds), ", ".join(adds)))
    return passed("no ADD instruction beyond the base image's rootfs")


@image_rule(
    "4.10", "Ensure secrets are not stored in Dockerfiles", SECTION,
    level=1, scored=False, severity="high", fix="manual",
    reads="what a Dockerfile leaves in the image: .Config.Env and .Config.Labels (as BW-003), docker history "
          ".CreatedBy of ENV/ARG/RUN (as BW-011, needs image_history or image_audit) and secret files in every layer, "
          "deleted ones included (as BW-010, needs image_audit's layer scan; OS package files alone are low)",
    remediation="Pass secrets at build time with BuildKit secret mounts, never ENV/ARG/COPY; rebuild and rotate "
                "every exposed secret.",
)
def dockerfile_secrets(image, state):
    # The Dockerfile itself is not on the host, but every secret it stores lands in one of three
    # places of the image: its config (ENV, LABEL), its history (ENV, ARG, RUN) or its files (COPY, ADD).
    if image.history is None and image.scan is None:
        return skipped("needs the image's build history (image_history: true, or image_audit) or its layer scan")
    config = find_secrets(env_pairs(image.config.get("Env")) + sorted((image.config.get("Labels") or {}).items()))
    history = history_secrets(image.history) if image.history is not None else []
    files = image.scan.secret_count if image.scan is not None else 0
    found = []
    if config:
        found.append("%d in ENV/LABEL config (BW-003)" % len(config))
    if history:
        found.append("%d build history entries (BW-011)" % len(history))
    if files:
        # A file deleted by a later layer was still stored by the build: anyone with the image reads it.
        removed = image.scan.secrets_removed
        package_files = getattr(image.scan, "package_files", 0)
        found.append("%d secret files in the layers (BW-010)%s%s" % (
            files, ", %d of them deleted or overwritten by a later layer, still in the image" % removed if removed else "",
            ", %d of them package files of the image's OS packages" % package_files if package_files else ""))
    unread = [what for what, missing in (("history", image.history is None), ("layer files", image.scan is None)) if missing]
    if image.scan is not None and getattr(image.scan, "incomplete", None):
        unread.append("the layer files after the scan stopped (%s)" % image.scan.incomplete)
    not_read = " (not read: %s)" % ", ".join(unread) if unread else ""
    if found:
        # OS package files alone are not what a Dockerfile stored: low, as BW-010 says of them.
        package_only = not config and not history and only_package_files(image.scan)
        return failed("secrets stored by the build: %s%s" % (", ".join(found), not_read),
                      severity="low" if package_only else None)
    return passed("no secret in the image's config, history or files%s" % not_read)


manual_rule(
    "4.11", "Ensure only verified packages are installed", SECTION,
    level=2, scored=False, severity="medium", subject="images",
    reads="the Dockerfile's package sources",
    remediation="Install packages only from signed repositories; verify checksums of downloads.",
)

manual_rule(
    "4.12", "Ensure all signed artifacts are validated", SECTION,
    level=2, scored=False, severity="medium", subject="images",
    reads="the build pipeline",
    remediation="Verify signatures of every artifact before it enters an image.",
)
