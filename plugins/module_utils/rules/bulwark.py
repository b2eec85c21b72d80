# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""bulwark's own rules (BW-xxx): risks the CIS benchmark does not name, or names too loosely.

Same sources as section 4 and 5 (one inspect per container and per image),
plus `docker diff` for containers labelled bulwark.immutable=true (BW-004),
one call per such container, and the opt-in per-container extras: `docker
top` with process_checks (BW-012, the same answer 5.7 reads) and `docker
diff` of every running container with drift_checks (BW-013).
"""

from __future__ import annotations

import collections
import re

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import (
    container_rule, failed, image_form, image_rule, passed, skipped,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.images.history import describe as describe_history
from ansible_collections.bulwark.hardening.plugins.module_utils.images.history import history_secrets
from ansible_collections.bulwark.hardening.plugins.module_utils.images.packages import describe as describe_package
from ansible_collections.bulwark.hardening.plugins.module_utils.common import references
from ansible_collections.bulwark.hardening.plugins.module_utils.common.paths import is_within, normal_path
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.cis5_containers import cis_sensitive_dirs
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.container_inspect import (
    bind_mounts, capability_names, describe_mount, docker_socket_path, process_commands, within_directories,
)
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import env_pairs, find_secrets

SECTION = "bulwark"

# Host paths beyond CIS 5.6's list whose write access gives a container the host:
# credentials and home directories, runtime sockets, Docker's and Kubernetes'
# state, logs (tampering), system binaries. The Docker socket itself is 5.32's,
# and /lib64 is 5.6's under CIS v1.8 (bw009_paths).
EXTRA_SENSITIVE_PATHS = (
    "/root", "/home", "/run", "/var/run", "/var/lib/docker", "/var/lib/containerd", "/var/lib/kubelet",
    "/var/log", "/bin", "/sbin", "/lib32", "/lib64", "/libx32",
)

# Files Docker itself writes into every container's filesystem.
DOCKER_MANAGED_FILES = ("/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv")
DIFF_KINDS = {0: "changed", 1: "added", 2: "deleted"}
DIFF_EXAMPLES = 5


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
    left_open="which build of an image a service runs is its owner's choice: no role pins it; reference the image by "
              "digest where the container is defined",
)
def image_pinned(container, state):
    # A tag can be re-pointed upstream: the next recreate silently runs different code.
    reference = container.config.get("Image") or ""
    if _pinned(reference, container.image_id):
        return passed("Config.Image=%s" % reference)
    return failed("Config.Image=%s is a mutable tag" % reference)


def trusted_reference(reference, allowlist):
    """True when the reference's registry and repository are in allowlist (registry[/path prefix] entries)."""
    # Entries and references go through one alias table: `index.docker.io/library` is `docker.io/library`.
    registry, path = references.split_repository(reference)
    full = registry + "/" + path
    entries = [references.canonical_prefix(entry) for entry in allowlist if entry.strip()]
    return any(full == entry or full.startswith(entry + "/") for entry in entries)


def _same_digest_reference(reference, repo_digest):
    """True when a digest reference names the same repository and manifest digest as a RepoDigest."""
    registry, path, _tag, digest = references.parse_reference(reference)
    other_registry, other_path, _other_tag, other_digest = references.parse_reference(repo_digest)
    return bool(digest) and (registry, path, digest) == (other_registry, other_path, other_digest)


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


def _repositories(names):
    return ", ".join(sorted(set("%s/%s" % references.split_repository(name) for name in names)))


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
    if any(trusted_reference(origin, allowlist) for origin in origins):
        return passed("from %s (RepoDigests)" % _repositories(o for o in origins if trusted_reference(o, allowlist)))
    return failed("from untrusted registries only: %s (RepoDigests)" % _repositories(origins))


# --- image forms and image rules of image_audit (every local image) ---------------

def _repo_digests(image):
    return [digest for digest in image.inspect.get("RepoDigests") or [] if "@" in digest]


def _repo_tags(image):
    return [tag for tag in image.inspect.get("RepoTags") or [] if tag and tag != "<none>:<none>"]


@image_form("BW-005", reads="image inspect .RepoDigests and .RepoTags")
def image_pinnable(image, state):
    # An image is pinnable only through a registry digest (RepoDigests): without one, whatever runs it
    # names it by a tag that the next build or `docker tag` re-points (`latest` above all), or by nothing.
    digests = _repo_digests(image)
    if digests:
        return passed("pinnable by digest: %s" % digests[0])
    tags = _repo_tags(image)
    if not tags:
        return failed("untagged and without a registry digest: nothing names it but its id")
    latest = [tag for tag in tags if tag.endswith(":latest")]
    note = " (`latest`: %s)" % ", ".join(latest) if latest else ""
    return failed("no registry digest: referred to only by mutable tags %s%s" % (", ".join(tags), note))


@image_form("BW-006", reads="image inspect .RepoDigests; option trusted_registries")
def image_trusted_registry(image, state):
    # The same proof as for a container: a registry digest, never a tag.
    allowlist = state.options.trusted_registries
    if not allowlist:
        return skipped("no trusted_registries given")
    origins = _repo_digests(image)
    if not origins:
        return failed("no registry digest (RepoDigests is empty): built, imported or tagged locally, so it has no "
                      "registry origin whatever its name")
    if any(trusted_reference(origin, allowlist) for origin in origins):
        return passed("from %s (RepoDigests)" % _repositories(o for o in origins if trusted_reference(o, allowlist)))
    return failed("from untrusted registries only: %s (RepoDigests)" % _repositories(origins))


SECRET_FILE_EXAMPLES = 5
STILL_IN_IMAGE = ("layers counted from the base; a file a later layer deleted or overwrote is still in the image: "
                  "anyone who has the image can read it")


def in_layers(scan):
    """' in N layers' of a layer scan (nothing when it does not know)."""
    layers = getattr(scan, "layers", 0)
    return " in %d layer%s" % (layers, "" if layers == 1 else "s") if layers else ""


def describe_secret_file(entry, layers=0):
    """One secret file as evidence: path, kind, length, its layer, what a later layer did to it and the OS package
    it belongs to (or whose path it took); never a value."""
    where = ""
    if entry.get("layer"):
        where = ", layer %d of %d" % (entry["layer"], layers) if layers else ", layer %d" % entry["layer"]
        if entry.get("removed_in"):
            where += ", %s in layer %d" % (entry["removal"], entry["removed_in"])
    if entry.get("package"):
        where += ", " + describe_package(entry["package"], entry["package_source"])
    return "%s (%s, %d bytes%s)" % (entry["path"], entry["kind"], entry["length"], where)


def only_package_files(scan):
    """Whether every secret file of a whole layer scan is a package file (shipped or generated by an OS package the
    image has installed): such findings are low. A stopped scan never says so - the rest was not read."""
    package_files = getattr(scan, "package_files", 0)
    return bool(package_files) and package_files == scan.secret_count and not getattr(scan, "incomplete", None)


def _secret_files_summary(scan):
    """'N secret files' with how many of them are package files."""
    package_files = getattr(scan, "package_files", 0)
    if package_files and package_files == scan.secret_count:
        return "%d secret files, all of them package files of the image's OS packages" % scan.secret_count
    if package_files:
        return "%d secret files (%d of them package files of the image's OS packages, low on their own)" % (
            scan.secret_count, package_files)
    return "%d secret files" % scan.secret_count


@image_rule(
    "BW-010", "Image layers hold no secret files", SECTION,
    level=1, scored=True, severity="critical", fix="manual",
    reads="the image's files in every layer (image_audit layer_scan: docker save streamed, whiteouts honoured, "
          "cached by image id): private keys, .env files, cloud credentials, .npmrc/.pypirc/.docker/config.json "
          "auth, .git-credentials, .netrc - also those a later layer deleted; a file an installed OS package ships "
          "or makes (dpkg and apk databases of the image; RPM's are not read) is a package file, low",
    remediation="Rebuild without the file (BuildKit secret mounts at build time, runtime secrets at run time); a file "
                "deleted in a later layer is still in the earlier one. Rotate every exposed credential. A package "
                "file is the same in every image with that package: drop the package, or make the key at run time.",
)
def secret_files(image, state):
    # Anyone who can pull the image can unpack every layer and read the key, whatever a later layer deletes.
    scan = image.scan
    if scan is None:
        return skipped("no layer scan of this image (image_audit with layer_scan: true reads its files)")
    # A scan stopped at a cap (images.scan.ScanLimits) proves what it found, never the absence of the rest.
    stopped = getattr(scan, "incomplete", None)
    if scan.secret_count:
        shown = [describe_secret_file(entry, scan.layers) for entry in scan.secret_files[:SECRET_FILE_EXAMPLES]]
        more = ", ..." if scan.secret_count > SECRET_FILE_EXAMPLES else ""
        layered = " (%s)" % STILL_IN_IMAGE if any(entry.get("layer") for entry in scan.secret_files) else ""
        stopped_note = " (layer scan incomplete: %s)" % stopped if stopped else ""
        # Files no package was told to own stay critical where a package database could not be read: say so.
        unread = getattr(scan, "packages_unread", None)
        unread_note = " (%s)" % unread if unread and not only_package_files(scan) else ""
        return failed("%s: %s%s%s%s%s" % (_secret_files_summary(scan), ", ".join(shown), more, layered, unread_note,
                                          stopped_note),
                      severity="low" if only_package_files(scan) else None)
    if stopped:
        return skipped("layer scan incomplete: %s; no secret file among the %d files read" % (stopped, scan.files))
    return passed("no secret file among %d files%s" % (scan.files, in_layers(scan)))


@image_rule(
    "BW-011", "Image build history holds no secret values", SECTION,
    level=1, scored=True, severity="high", fix="manual",
    reads="docker history .CreatedBy (ENV, ARG and RUN text; one call per image: image_audit always, "
          "container_audit with image_history: true)",
    remediation="Rebuild without secrets in ENV/ARG/RUN (BuildKit `RUN --mount=type=secret`); the history ships "
                "with the image, so rotate every exposed secret.",
)
def history_secret_values(image, state):
    # `docker history` shows every ENV, ARG and RUN line to anyone holding the image, even after a later
    # layer unset the variable.
    if image.history is None:
        return skipped("needs image_history: true (one `docker history` call per image)")
    found = history_secrets(image.history)
    if found:
        return failed("secret-like values in %d history entries: %s" % (len(found), describe_history(found)))
    return passed("no secret-like value in %d history entries" % len(image.history))


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


def bw009_paths(cis_version):
    """BW-009's host paths, normalised: EXTRA_SENSITIVE_PATHS without those CIS version cis_version's 5.6 judges
    (/lib64 under v1.8), so each exposure is reported once."""
    system_dirs = cis_sensitive_dirs(cis_version)
    return [normal_path(path) for path in EXTRA_SENSITIVE_PATHS if not within_directories(path, system_dirs)]


@container_rule(
    "BW-009", "No writable mount of a sensitive host path", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="inspect .Mounts (writable bind sources equal to or below %s; under CIS v1.8, /lib64 is 5.6's)"
          % ", ".join(EXTRA_SENSITIVE_PATHS),
    remediation="Mount only application data directories, read-only where possible (:ro).",
    fixed_by=("containers_recreate_enabled",),
)
def sensitive_writable_mounts(container, state):
    # Sub-paths count: /run/containerd/containerd.sock is as dangerous as /run. The CIS system
    # directories are 5.6's and the Docker socket 5.32's, so each exposure is reported once.
    socket = docker_socket_path(state.options.docker_host)
    wanted = bw009_paths(state.options.cis_version)
    exposed = [mount for mount in bind_mounts(container)
               if mount[2] and mount[0] != socket and mount[0].rsplit("/", 1)[-1] != "docker.sock"
               and any(is_within(mount[0], path) for path in wanted)]
    if exposed:
        return failed("writable bind mounts of sensitive host paths: %s" % ", ".join(describe_mount(m) for m in exposed))
    return passed("no writable mount of a sensitive host path")


# --- BW-012: nothing downloaded at run time ---------------------------------------------

# Programs that fetch whatever their arguments say: installers of system and language packages, and downloaders
# (git's remote helpers are the processes that talk to the remote while git fetches).
ALWAYS_FETCH = frozenset([
    "apt", "apt-get", "aptitude", "dpkg", "apk", "yum", "dnf", "microdnf", "zypper", "pip", "pip3", "pipx", "gem",
    "cpan", "cpanm", "curl", "wget", "pnpx", "git-remote-http", "git-remote-https", "git-remote-ftp",
    "git-remote-ftps",
])
# pip also installs itself as pip3.11 and the like.
VERSIONED_PIP = re.compile(r"^pip[0-9.]*$")
# Interpreters whose scripts are package managers: `python3 /usr/bin/pip3 install`, `/usr/bin/python3 /usr/bin/dnf`,
# `node /usr/bin/npm`, `ruby /usr/bin/gem`, `php /usr/bin/composer`. The program is then the script (or python's
# -m module), not the interpreter.
INTERPRETERS = re.compile(r"^(?P<family>python|ruby|node|php)(?:js)?[0-9.]*$")
# Per interpreter: options that run inline code (no script follows) and options that take a value.
INLINE_CODE_OPTIONS = {"python": ("-c",), "node": ("-e", "-p", "--eval", "--print"), "ruby": ("-e",), "php": ("-r",)}
VALUED_OPTIONS = {"python": ("-W", "-X", "-Q"), "node": ("-r", "--require", "--import", "--loader"),
                  "ruby": ("-r", "-I", "-C"), "php": ("-d", "-c")}
# Entry scripts of node's package managers that are not named after the tool (yarn 2+ runs its release file).
SCRIPT_NAMES = {"npm-cli.js": "npm", "npx-cli.js": "npx", "yarn.js": "yarn", "yarn.cjs": "yarn", "yarnpkg": "yarn",
                "pnpm.cjs": "pnpm", "pnpm.js": "pnpm", "pnpx.cjs": "pnpx"}
YARN_RELEASE = re.compile(r"^yarn-[0-9][^/]*\.c?js$")
# Multi-call binaries run the applet their first argument names: `busybox wget URL` is wget.
MULTI_CALL = ("busybox", "toybox")

FETCH, LAUNCH = "fetch", "launch"


class SubcommandTool(object):
    """A tool whose subcommand decides: fetching ones install or download, launching ones run what is installed.

    other: what an unlisted subcommand does (FETCH, LAUNCH for tools that run a package script by its name, or
    None: neither); bare: what the tool does without a subcommand; valued: its global options that take a
    value before the subcommand (`npm --prefix DIR start`); fetching_options: options of a launching subcommand
    that fetch extra packages first (`uv run --with requests`).
    """

    def __init__(self, fetching=(), launching=(), other=None, bare=None, valued=(), fetching_options=()):
        self.fetching = frozenset(fetching)
        self.launching = frozenset(launching)
        self.other = other
        self.bare = bare
        self.valued = frozenset(valued)
        self.fetching_options = tuple(fetching_options)


NPM_SCRIPTS = ("start", "stop", "restart", "test", "t", "tst", "run", "run-script", "rum", "urn")
# npx and `npm exec` run a package's binary, the project's own when installed: launchers, as npx is.
SUBCOMMAND_TOOLS = {
    "npm": SubcommandTool(fetching=("install", "i", "in", "add", "ci", "clean-install", "update", "up", "upgrade",
                                    "install-test", "it", "install-ci-test", "cit", "init", "create", "dedupe",
                                    "rebuild", "cache", "audit", "link"),
                          launching=NPM_SCRIPTS + ("exec", "x", "explore"), other=FETCH,
                          valued=("--prefix", "--workspace", "-w", "--userconfig", "--cache", "--registry",
                                  "--loglevel")),
    # yarn and pnpm run a package.json script named as their subcommand (`yarn serve`); bare yarn installs.
    "yarn": SubcommandTool(fetching=("install", "add", "upgrade", "up", "upgrade-interactive", "dlx", "global",
                                     "create", "import", "set", "self-update", "remove", "unplug", "policies"),
                           launching=("run", "start", "test", "node", "exec"), other=LAUNCH, bare=FETCH,
                           valued=("--cwd", "--modules-folder", "--cache-folder", "--registry", "--mutex",
                                   "--network-timeout")),
    "pnpm": SubcommandTool(fetching=("install", "i", "add", "update", "up", "upgrade", "dlx", "create", "fetch",
                                     "import", "setup", "env", "self-update", "install-test", "it", "remove", "rm"),
                           launching=("run", "start", "test", "t", "exec"), other=LAUNCH,
                           valued=("-C", "--dir", "--filter", "-F", "--workspace-dir")),
    "uv": SubcommandTool(fetching=("pip", "add", "remove", "sync", "lock", "tool", "python", "self", "venv", "build",
                                   "tree", "export"),
                         launching=("run",), other=FETCH, fetching_options=("--with",),
                         valued=("--directory", "--project", "--cache-dir", "--config-file", "--color")),
    "uvx": SubcommandTool(other=FETCH, bare=FETCH),
    "poetry": SubcommandTool(fetching=("install", "add", "update", "lock", "self", "remove", "sync"),
                             launching=("run", "shell"), other=FETCH,
                             valued=("-C", "--directory", "-P", "--project")),
    "pipenv": SubcommandTool(fetching=("install", "sync", "update", "lock", "uninstall"), launching=("run", "shell"),
                             other=FETCH, bare=None),
    "composer": SubcommandTool(fetching=("install", "i", "update", "u", "upgrade", "require", "r", "create-project",
                                         "global", "self-update", "selfupdate", "reinstall", "remove", "rm"),
                               launching=("run-script", "run", "exec"), other=LAUNCH,
                               valued=("-d", "--working-dir")),
    "bundle": SubcommandTool(fetching=("install", "update", "add", "package", "pack", "cache", "lock", "outdated"),
                             launching=("exec", "console"), other=FETCH, bare=FETCH),
    "go": SubcommandTool(fetching=("get", "install", "run", "build", "test", "generate", "mod", "work", "vet"),
                         valued=("-C",)),
    "cargo": SubcommandTool(fetching=("install", "build", "b", "run", "r", "fetch", "update", "add", "test", "t"),
                            valued=("-C", "--config", "-Z", "--color")),
    "git": SubcommandTool(fetching=("clone", "fetch", "pull", "submodule", "ls-remote", "fetch-pack", "remote-http",
                                    "remote-https", "remote-ftp", "remote-ftps"),
                          valued=("-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env")),
    "corepack": SubcommandTool(fetching=("prepare", "install", "pack", "use", "up")),
}
# conda's drop-in replacements take its subcommands; bundler is bundle's other name.
for _alias, _tool in (("conda", "conda"), ("mamba", "conda"), ("micromamba", "conda")):
    SUBCOMMAND_TOOLS[_alias] = SubcommandTool(fetching=("install", "create", "update", "upgrade", "env", "remove"),
                                              launching=("run",), other=FETCH)
SUBCOMMAND_TOOLS["bundler"] = SUBCOMMAND_TOOLS["bundle"]


def _interpreted_program(family, args):
    """(script or python -m module, its arguments) an interpreter runs; None for inline code or stdin."""
    inline, valued = INLINE_CODE_OPTIONS[family], VALUED_OPTIONS[family]
    index = 0
    while index < len(args):
        arg = args[index]
        if arg == "--":
            return (args[index + 1], args[index + 2:]) if index + 1 < len(args) else None
        if not arg.startswith("-") or arg == "-":
            return None if arg == "-" else (arg, args[index + 1:])
        if family == "python" and arg.startswith("-m"):
            if arg != "-m":
                return arg[2:].split(".")[0], args[index + 1:]
            return (args[index + 1].split(".")[0], args[index + 2:]) if index + 1 < len(args) else None
        if arg in inline or any(arg.startswith(option) and not option.startswith("--") for option in inline):
            return None
        if arg in valued:
            index += 1
        index += 1
    return None


def _tool_name(path):
    base = path.rsplit("/", 1)[-1]
    if YARN_RELEASE.match(base):
        return "yarn"
    return SCRIPT_NAMES.get(base, base)


def program_and_arguments(command):
    """(program, its arguments) of a `docker top` command line: the basename of argv[0], or the applet a
    multi-call binary runs, or the script or module an interpreter runs. `sleep curl` runs sleep."""
    argv = command.split()
    if not argv:
        return "", []
    name, args = argv[0].rsplit("/", 1)[-1], argv[1:]
    if name in MULTI_CALL and args and not args[0].startswith("-"):
        name, args = args[0].rsplit("/", 1)[-1], args[1:]
    interpreter = INTERPRETERS.match(name)
    if interpreter:
        script = _interpreted_program(interpreter.group("family"), args)
        if script:
            name, args = _tool_name(script[0]), script[1]
    if name == "corepack" and args and args[0] in ("yarn", "pnpm", "npm", "npx"):
        name, args = args[0], args[1:]
    return SCRIPT_NAMES.get(name, name), args


def program_name(command):
    """The program a `docker top` command line runs (program_and_arguments without the arguments)."""
    return program_and_arguments(command)[0]


def _subcommand(tool, args):
    """(subcommand or None, the arguments after it), skipping the tool's global options and their values."""
    index = 0
    while index < len(args):
        arg = args[index]
        if not arg.startswith("-"):
            return arg, args[index + 1:]
        if arg in tool.valued:
            index += 1
        index += 1
    return None, []


def classify_process(command):
    """(FETCH, LAUNCH or None, what evidence calls it) for one process: a fetch, a package script launch, or neither.

    Evidence names only the program and a subcommand of the tool's own vocabulary, never other arguments:
    command lines carry URLs, tokens and paths.
    """
    name, args = program_and_arguments(command)
    if name in ALWAYS_FETCH or VERSIONED_PIP.match(name):
        return FETCH, name
    tool = SUBCOMMAND_TOOLS.get(name)
    if tool is None:
        return None, name
    subcommand, rest = _subcommand(tool, args)
    if subcommand is None:
        return tool.bare, name
    known = subcommand in tool.fetching or subcommand in tool.launching
    shown = "%s %s" % (name, subcommand) if known else "%s <%s>" % (name, "script" if tool.other == LAUNCH else "command")
    if subcommand in tool.fetching:
        return FETCH, shown
    if subcommand in tool.launching:
        for option in tool.fetching_options:
            if any(arg == option or arg.startswith(option + "=") for arg in rest):
                return FETCH, "%s %s" % (shown, option)
        return LAUNCH, shown
    return tool.other, (name if tool.other == FETCH else shown)


def _health_check(container):
    """(form, command text) of the container's HEALTHCHECK (CMD or CMD-SHELL), whitespace normalised; None without one."""
    test = (container.config.get("Healthcheck") or {}).get("Test") or []
    if len(test) < 2 or test[0] not in ("CMD", "CMD-SHELL"):
        return None
    return test[0], " ".join(" ".join(test[1:]).split())


def _runs_health_check(command, health_check):
    # `curl -f http://localhost/` as a HEALTHCHECK is the health check's own probe, not a fetch: the same command
    # line (CMD form), or a command of the check's shell text (CMD-SHELL form: `curl -f ... || exit 1`).
    if health_check is None:
        return False
    form, text = health_check
    command = " ".join(command.split())
    if form == "CMD":
        return command == text
    return (" %s " % command) in (" %s " % text)


@container_rule(
    "BW-012", "Container runs no package manager or downloader (nothing fetched at run time)", SECTION,
    level=1, scored=True, severity="medium", fix="recreate",
    reads="docker top (the one call per running container that 5.7 reads, only with process_checks: true): "
          "each process's program (basename of argv[0], the applet busybox runs, or the script or `-m` module "
          "python, node, ruby or php runs) against the installers and downloaders %s, and the subcommand of %s "
          "(`npm install` fetches, `npm start` and `yarn <script>` launch what is installed and are not counted); "
          "the container's own HEALTHCHECK command is not counted"
          % (", ".join(sorted(ALWAYS_FETCH)), ", ".join(sorted(SUBCOMMAND_TOOLS))),
    remediation="Install packages and fetch files when the image is built (Dockerfile), not in the entrypoint or "
                "through docker exec; rebuild, recreate the container, and leave downloaders out of runtime images.",
)
def runtime_fetchers(container, state):
    # Code fetched at run time is code no image scan, signature or review has seen, and it differs between
    # restarts. A package manager that only launches a script (`npm start`) runs what the image holds. Only
    # program names and subcommands are reported: command lines can carry tokens and URLs with credentials.
    if not state.options.process_checks:
        return skipped("needs process_checks: true (one `docker top` call per running container)")
    if not container.running:
        return skipped("container not running")
    if container.top is None:
        return skipped("process list not available")
    commands = process_commands(container.top)
    health_check = _health_check(container)
    found, launchers, probes = collections.Counter(), collections.Counter(), 0
    for command in commands:
        verdict, shown = classify_process(command)
        if verdict == LAUNCH:
            launchers[shown] += 1
        elif verdict != FETCH:
            continue
        elif _runs_health_check(command, health_check):
            probes += 1
        else:
            found[shown] += 1
    note = _not_counted(probes, launchers)
    if found:
        listed = ", ".join("%s (%d)" % (name, count) for name, count in sorted(found.items()))
        return failed("package managers or downloaders running: %s, among %d processes%s" % (listed, len(commands), note))
    return passed("no package manager or downloader among %d processes%s" % (len(commands), note))


def _not_counted(probes, launchers):
    notes = []
    if probes:
        notes.append("%d health-check process%s not counted" % (probes, "" if probes == 1 else "es"))
    if launchers:
        total = sum(launchers.values())
        notes.append("%d launcher%s not counted: %s" % (total, "" if total == 1 else "s", ", ".join(sorted(launchers))))
    return "".join(" (%s)" % note for note in notes)


# --- BW-013: binaries and libraries changed inside the container -----------------------

# Where a container's programs and shared libraries live. Paths are compared as text in normal_path() spelling;
# on merged-/usr images /bin is a symlink to /usr/bin, and both spellings are listed.
SYSTEM_CODE_DIRS = (
    "/bin", "/sbin", "/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin",
    "/lib", "/lib64", "/usr/lib", "/usr/lib64", "/usr/local/lib",
)


# The dynamic loader's own configuration: a library named in /etc/ld.so.preload is loaded into every program, and
# ld.so.conf(.d) and its cache decide where libraries are looked up. Changing them changes the code that runs.
LOADER_CONFIG = ("/etc/ld.so.preload", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/ld.so.cache")
# Python writes bytecode of the modules it imports into a __pycache__ directory beside them when the image has none:
# a cache of code the image holds, not new code. Bytecode beside its source (no __pycache__) is loaded in the
# source's place and counts.
BYTECODE_CACHE_DIR = "__pycache__"
BYTECODE_SUFFIXES = (".pyc",)


def is_bytecode_cache(path):
    """True for a __pycache__ directory and the .pyc files in it."""
    parts = path.split("/")
    if parts[-1] == BYTECODE_CACHE_DIR:
        return True
    return len(parts) > 1 and parts[-2] == BYTECODE_CACHE_DIR and parts[-1].endswith(BYTECODE_SUFFIXES)


def _is_code_path(path):
    return any(is_within(path, directory) for directory in [normal_path(p) for p in SYSTEM_CODE_DIRS + LOADER_CONFIG])


def code_changes(container):
    """(diff entries under SYSTEM_CODE_DIRS and LOADER_CONFIG, number of bytecode cache entries left out), minus
    Docker's own mount points and the directories listed only because entries below them were added or changed
    (those entries are reported)."""
    changes = container.diff or []
    paths = [normal_path(change.get("Path", "")) for change in changes]
    parents = set()
    for path in paths:
        while path.count("/") > 1:
            path = path.rsplit("/", 1)[0]
            parents.add(path)
    found, caches = [], 0
    for change, path in zip(changes, paths):
        if not _is_code_path(path) or _made_by_docker(path, container):
            continue
        if is_bytecode_cache(path):
            caches += 1
        elif not (change.get("Kind") in (0, 1) and path in parents):
            found.append((DIFF_KINDS.get(change.get("Kind"), "changed"), path))
    return found, caches


@container_rule(
    "BW-013", "Container has not changed its own binaries or libraries", SECTION,
    level=1, scored=True, severity="high", fix="recreate",
    reads="`docker diff` (one call per running container, only with drift_checks: true; the same answer BW-004 "
          "reads): added, changed and deleted paths under %s and the loader's configuration %s, minus mount "
          "points Docker creates and the bytecode python caches in __pycache__ (reported, not counted)"
          % (", ".join(SYSTEM_CODE_DIRS), ", ".join(LOADER_CONFIG)),
    remediation="Find out what changed the files (an intrusion, or a package installed at run time), then recreate "
                "the container from its image; install software when the image is built, and run with --read-only.",
)
def code_drift(container, state):
    # Programs and libraries that differ from the image's run code nobody reviewed: a dropped tool, a replaced
    # binary, a library preloaded by an intruder, or a package installed at start-up.
    if not state.options.drift_checks:
        return skipped("needs drift_checks: true (one `docker diff` call per running container)")
    if container.diff is None:
        return skipped("container not running" if not container.running else "filesystem changes not available")
    found, caches = code_changes(container)
    note = " (%d interpreter bytecode cache entr%s not counted)" % (caches, "y" if caches == 1 else "ies") if caches else ""
    if not found:
        return passed("no binary or library added, changed or deleted%s" % note)
    counts = collections.Counter(kind for kind, _path in found)
    summary = ", ".join("%d %s" % (counts[kind], kind) for kind in ("added", "changed", "deleted") if counts[kind])
    examples = ", ".join("%s %s" % item for item in found[:DIFF_EXAMPLES])
    more = ", ..." if len(found) > DIFF_EXAMPLES else ""
    return failed("binaries or libraries differ from the image: %s: %s%s%s" % (summary, examples, more, note))
