# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""What the layer scan looks for in an image's files, and what it keeps: the result type, the caps, the stream.

images.save reads an image as `docker save` streams it (every layer tar
inside the save's tar) and images.layers reads each layer and puts the layers
together; this module says which files matter and what is kept of them.

What is looked for:
- regular files (and hard links) with the setuid or setgid bit (CIS 4.8);
- secret files, by path first, then by a bounded read (MAX_READ bytes) of
  the candidate's content: private keys, .env files with secret-looking
  entries, cloud credential files (AWS, gcloud, Azure), .npmrc with an auth
  token, .pypirc with a password, .docker/config.json with auths,
  .git-credentials, .netrc with a password (BW-010, 4.10).

Only the path, the kind and the file's length are kept, and while the scan
runs the digests of its content (to compare with a package database): a
secret value never leaves classify() (principle 9). Only candidate files
are read. A secret file that belongs to an OS package of the image (shipped
or made by its install script: images.packages) says which package; the
rules report such files at low severity.

The result (LayerScan) holds two views of the image. Setuid and setgid
files are those a container of the image sees: the layers merged, a file
deleted or replaced by a later layer left out (images.layers). Secret files
are those of every layer, each with the layer it is in and the later layer
that deleted or overwrote it, if any: a deleted file is still in the image,
and anyone who has the image can read it.

Caps (ScanLimits): entries read, bytes streamed and seconds spent. A scan
that reaches one stops there and says so (LayerScan.incomplete): what it
found so far is kept, rules that cannot decide say so, and the scan is never
cached as complete.

Names: member names are bytes in the archive. They are decoded as UTF-8 and
every byte that is not UTF-8, every control character and bidirectional
control is shown as a backslash escape (common.safe_text), so a result or a
cache entry is always text that Ansible and JSON carry, and a path shown is
never one that rewrites the line it is on. Very long paths are shortened in
the middle.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import socket
import time

from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable, is_printable
from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import find_secrets
from ansible_collections.bulwark.hardening.plugins.module_utils.images.packages import APK, DPKG, PACKAGE_SOURCES

# Bytes read of a candidate file's content; keys and credential files are far smaller.
MAX_READ = 64 * 1024
# Paths kept per list in the scan (counts are always exact).
MAX_LISTED = 200
# Characters of a path shown; longer ones keep their start and end (the file name) around "...".
MAX_PATH_SHOWN = 512
# Characters of a package name shown (Debian's and Alpine's are far shorter).
MAX_NAME_SHOWN = 128
# Default caps of one image's scan (module options scan_max_entries, scan_max_bytes, scan_max_seconds).
# Memory does not depend on them: they bound the time a hostile or huge image can take.
DEFAULT_MAX_ENTRIES = 2000000
DEFAULT_MAX_BYTES = 32 << 30
DEFAULT_MAX_SECONDS = 600

PRIVATE_KEY = re.compile(br"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
KEY_NAMES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk")
KEY_GLOBS = ("*.pem", "*.key", "*.p8")
ENV_NAME = re.compile(r"^\.env(?:\.[A-Za-z0-9_-]+)?$")
ENV_TEMPLATES = (".env.example", ".env.sample", ".env.template", ".env.dist")
ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?(?P<name>[^=:#\s][^=:]*?)\s*[=:]\s*(?P<value>.*?)\s*$")
NETRC_PASSWORD = re.compile(r"(?:^|\s)password\s+\S", re.MULTILINE)
URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^\s/:@]+:[^\s/@]+@", re.IGNORECASE)
NPM_AUTH_NAMES = ("_auth", "_authtoken", "_password")

# Secret kinds, as findings name them.
KIND_PRIVATE_KEY = "private key"
KIND_ENV = ".env file with secret values"
KIND_AWS = "AWS credentials"
KIND_GCLOUD = "gcloud credentials"
KIND_AZURE = "Azure credentials"
KIND_NPMRC = ".npmrc auth token"
KIND_PYPIRC = ".pypirc password"
KIND_DOCKER = "Docker registry credentials"
KIND_GIT = "git credentials"
KIND_NETRC = ".netrc password"


class ScanLimits(object):
    """Caps of one image's scan: archive entries read, bytes streamed, seconds spent (each a positive int)."""

    __slots__ = ("entries", "bytes", "seconds")

    def __init__(self, entries=DEFAULT_MAX_ENTRIES, bytes=DEFAULT_MAX_BYTES, seconds=DEFAULT_MAX_SECONDS):  # pylint: disable=redefined-builtin
        for name, value in (("scan_max_entries", entries), ("scan_max_bytes", bytes), ("scan_max_seconds", seconds)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError("%s must be a positive integer, not %r" % (name, value))
        self.entries, self.bytes, self.seconds = entries, bytes, seconds


class ScanStopped(Exception):
    """A cap was reached; the message says which (it becomes LayerScan.incomplete)."""


SECRET_KINDS = frozenset((KIND_PRIVATE_KEY, KIND_ENV, KIND_AWS, KIND_GCLOUD, KIND_AZURE, KIND_NPMRC, KIND_PYPIRC,
                          KIND_DOCKER, KIND_GIT, KIND_NETRC))
# How a later layer took a file away (LayerScan.secret_files[].removal).
DELETED = "deleted"
OVERWRITTEN = "overwritten"
REMOVALS = (DELETED, OVERWRITTEN)
SECRET_FIELDS = ("path", "kind", "length", "layer", "removed_in", "removal", "package", "package_source")


def _count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _layer_number(value):
    return value is None or (_count(value) and value >= 1)


def _shown_path(path):
    return isinstance(path, str) and path.startswith("/") and len(path) <= MAX_PATH_SHOWN and is_printable(path)


def secret_entry(path, kind, length, layer=None, removed_in=None, removal=None, package=None, package_source=None):
    """One secret file of LayerScan.secret_files: where it is, never what it holds.

    layer: the layer it is in, counted from the base (1), or None when the scan could not tell (it stopped
    before the layer order was known); removed_in and removal: the later layer that deleted or overwrote it,
    and which (DELETED, OVERWRITTEN), or None when it is still there (or the scan could not tell). package and
    package_source: the OS package whose file it is, or at whose path it is, and how (images.packages: SHIPPED,
    GENERATED - a package file -, REPLACED - not the package's file), or None when no package owns the path.
    """
    return {"path": path, "kind": kind, "length": length, "layer": layer, "removed_in": removed_in, "removal": removal,
            "package": package, "package_source": package_source}


def _valid_secret(entry):
    return (isinstance(entry, dict) and set(entry) == set(SECRET_FIELDS) and _shown_path(entry["path"])
            and entry["kind"] in SECRET_KINDS and _count(entry["length"]) and _layer_number(entry["layer"])
            and _layer_number(entry["removed_in"]) and (entry["removal"] is None) == (entry["removed_in"] is None)
            and entry["removal"] in (None,) + REMOVALS and _shown_name(entry["package"])
            and entry["package_source"] in (None,) + PACKAGE_SOURCES
            and (entry["package"] is None) == (entry["package_source"] is None))


def _shown_name(name):
    return name is None or isinstance(name, str) and 0 < len(name) <= MAX_NAME_SHOWN and is_printable(name)


class LayerScan(object):
    """What the layer scan found in one image (plain data, JSON-serializable).

    layers: the image's layers (0 when the scan stopped before it knew). files: regular files read, every layer.
    setuid, setgid (paths, at most MAX_LISTED) and their exact counts: what a container of the image sees.
    setid_in_layers: files with either bit in any layer read; setid_removed: those a later layer deleted or
    replaced. secret_files (at most MAX_LISTED, see secret_entry; package files last) and secret_count: every
    layer's; package_files: how many of them are package files (images.packages: shipped or generated by an OS
    package the image has installed). packages_read: the package databases of the merged view that were read
    ("dpkg", "apk"); packages_unread: why one was not (an RPM database), or None. incomplete: None for a whole
    scan, else why it stopped early (a cap, a layer it could not read); setuid and setgid then hold only the
    files proven in the merged view (every layer above them read), and setid_in_layers says what was seen.
    """

    __slots__ = ("layers", "files", "setuid", "setgid", "setuid_count", "setgid_count", "setid_in_layers", "setid_removed",
                 "secret_files", "secret_count", "package_files", "packages_read", "packages_unread", "bytes_read",
                 "incomplete")

    def __init__(self, setuid=(), setgid=(), setuid_count=None, setgid_count=None, secret_files=(), files=0,
                 bytes_read=0, incomplete=None, layers=0, setid_in_layers=None, setid_removed=0, secret_count=None,
                 package_files=0, packages_read=(), packages_unread=None):
        self.layers = layers
        self.files = files
        self.setuid = list(setuid)
        self.setgid = list(setgid)
        self.setuid_count = len(self.setuid) if setuid_count is None else setuid_count
        self.setgid_count = len(self.setgid) if setgid_count is None else setgid_count
        self.setid_in_layers = max(self.setuid_count, self.setgid_count) if setid_in_layers is None else setid_in_layers
        self.setid_removed = setid_removed
        # Never a value: where each file is and what it is.
        self.secret_files = [secret_entry(**dict((name, entry[name]) for name in SECRET_FIELDS if name in entry))
                             for entry in secret_files]
        self.secret_count = len(self.secret_files) if secret_count is None else secret_count
        self.package_files = package_files
        self.packages_read = list(packages_read)
        self.packages_unread = packages_unread
        self.bytes_read = bytes_read
        self.incomplete = incomplete

    @property
    def secrets_removed(self):
        """Secret files listed that a later layer deleted or overwrote (still in the image)."""
        return sum(1 for entry in self.secret_files if entry["removed_in"] is not None)

    def to_dict(self):
        return dict((name, getattr(self, name)) for name in self.__slots__)

    @classmethod
    def from_dict(cls, data):
        """A LayerScan from to_dict() output; ValueError when the data does not have that shape or holds text
        a scan never makes (an undecodable byte left as a surrogate, a control character: a cache written by
        an older version or by someone else)."""
        if not isinstance(data, dict) or set(data) != set(cls.__slots__):
            raise ValueError("not a layer scan")
        for name in ("setuid", "setgid", "secret_files"):
            if not isinstance(data[name], list):
                raise ValueError("%s is not a list" % name)
        if not all(_shown_path(path) for path in data["setuid"] + data["setgid"]):
            raise ValueError("a path is not printable text")
        if not all(_valid_secret(entry) for entry in data["secret_files"]):
            raise ValueError("bad secret file entry")
        counts = ("layers", "files", "setuid_count", "setgid_count", "setid_in_layers", "setid_removed", "secret_count",
                  "package_files", "bytes_read")
        if not all(_count(data[name]) for name in counts):
            raise ValueError("counts are not integers")
        if not (isinstance(data["packages_read"], list) and set(data["packages_read"]) <= set((DPKG, APK))):
            raise ValueError("packages_read is not a list of package managers")
        for name in ("incomplete", "packages_unread"):
            if data[name] is not None and not (isinstance(data[name], str) and is_printable(data[name])):
                raise ValueError("%s is not printable text" % name)
        return cls(**data)


# --- what a path is, and what its content says ------------------------------

def _ini_pairs(text):
    pairs = []
    for line in text.splitlines():
        if line.lstrip().startswith(("#", ";", "[")):
            continue
        match = ASSIGNMENT.match(line)
        if match:
            pairs.append((match.group("name"), match.group("value").strip("\"'")))
    return pairs


def _json_pairs(data, pairs=None):
    """(key, string value) of every mapping entry inside a JSON document."""
    pairs = [] if pairs is None else pairs
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str):
                pairs.append((str(key), value))
            else:
                _json_pairs(value, pairs)
    elif isinstance(data, list):
        for item in data:
            _json_pairs(item, pairs)
    return pairs


def _load_json(text):
    try:
        return json.loads(text)
    except ValueError:
        return None


def _has_secret_pairs(pairs):
    # A value that is a shell expansion ($TOKEN, ${TOKEN}) is a reference, not the secret.
    return bool(find_secrets([(name, value) for name, value in pairs if not value.startswith("$")]))


def _env_file(text):
    return _has_secret_pairs(_ini_pairs(text))


def _private_key(data):
    return PRIVATE_KEY.search(data) is not None


def _npmrc(text):
    # Keys carry a registry prefix with colons (//registry.npmjs.org/:_authToken=...): split on = only.
    for line in text.splitlines():
        name, sep, value = line.partition("=")
        value = value.strip().strip("\"'")
        short = name.strip().rsplit(":", 1)[-1].lower()
        if not sep:
            continue
        if short in NPM_AUTH_NAMES and value and not value.startswith("$"):
            return True
    return False


def _json_secrets(text):
    data = _load_json(text)
    if data is None:
        return _has_secret_pairs(_ini_pairs(text))
    return _has_secret_pairs(_json_pairs(data))


def _docker_config(text):
    data = _load_json(text)
    if not isinstance(data, dict):
        return False
    auths = data.get("auths")
    if not isinstance(auths, dict):
        return False
    return any(isinstance(entry, dict) and (entry.get("auth") or entry.get("identitytoken") or entry.get("password"))
               for entry in auths.values())


def _git_credentials(text):
    return URL_WITH_PASSWORD.search(text) is not None


def _netrc(text):
    return NETRC_PASSWORD.search(text) is not None


# Byte strings one of which is in every path candidate() accepts (test_scan checks it against the rules below):
# package databases list hundreds of thousands of paths, and a chunk of them holding none of these is skipped whole.
# Few and short, as each is searched for in every chunk: "/." stands for every dot-name (.env*, .azure, .npmrc,
# .pypirc, .aws, .config, .docker, .git-credentials, .netrc).
CANDIDATE_HINTS = (b"/.", b".pem", b".key", b".p8", b"id_", b"netrc")


def candidate(path):
    """(kind, content check) when path names a possible secret file, else None.

    The content check takes the decoded text (or bytes, for keys) of the first
    MAX_READ bytes and says whether it really holds a secret.
    """
    name = posixpath.basename(path)
    parts = path.split("/")
    if name in KEY_NAMES or any(fnmatch.fnmatchcase(name, pattern) for pattern in KEY_GLOBS):
        return KIND_PRIVATE_KEY, _private_key
    if ENV_NAME.match(name) and name not in ENV_TEMPLATES:
        return KIND_ENV, _env_file
    if path.endswith("/.aws/credentials"):
        return KIND_AWS, _env_file
    if "/.config/gcloud/" in path and fnmatch.fnmatchcase(name, "*credentials*.json") \
            or path.endswith("/.config/gcloud/application_default_credentials.json"):
        return KIND_GCLOUD, _json_secrets
    if ".azure" in parts[:-1]:
        return KIND_AZURE, _json_secrets
    if name == ".npmrc":
        return KIND_NPMRC, _npmrc
    if name == ".pypirc":
        return KIND_PYPIRC, _env_file
    if path.endswith("/.docker/config.json"):
        return KIND_DOCKER, _docker_config
    if name == ".git-credentials":
        return KIND_GIT, _git_credentials
    if name in (".netrc", "_netrc"):
        return KIND_NETRC, _netrc
    return None


def classify(path, data):
    """The secret kind of a candidate file's content (bytes, at most MAX_READ), or None."""
    found = candidate(path)
    if found is None:
        return None
    kind, check = found
    if check is _private_key:
        return kind if check(data) else None
    text = data.decode("utf-8", "replace")
    return kind if check(text) else None


# --- paths -------------------------------------------------------------------------

def image_path(name):
    """A tar member name (str; undecodable bytes as surrogates) as an absolute path in the image, as the
    layers are compared: './etc/passwd', 'etc/passwd' and 'etc/passwd/' are '/etc/passwd'."""
    path = "/" + name.lstrip("/")
    if "/." in path or "//" in path:  # ./, .., //, and hidden names (which normpath keeps): the slow way
        return posixpath.normpath(path)
    return path.rstrip("/") or "/"  # once per entry of every layer: the common case stays cheap


def shown_path(path):
    """An image path as findings show it: unprintable characters escaped, a long path shortened in the middle."""
    path = escape_unprintable(path)
    if len(path) > MAX_PATH_SHOWN:
        keep = (MAX_PATH_SHOWN - 3) // 2
        path = path[:keep] + "..." + path[-keep:]
    return path


def shown_name(name):
    """A package name from an image as findings show it: escaped, at most MAX_NAME_SHOWN characters."""
    name = escape_unprintable(name) or "?"
    return name if len(name) <= MAX_NAME_SHOWN else name[:MAX_NAME_SHOWN - 3] + "..."


def member_path(name):
    """A tar member name as the absolute path shown in findings (image_path, then shown_path)."""
    return shown_path(image_path(name))


class CountingStream(object):
    """A read-only file object over an iterator of byte chunks (a streamed `docker save`), counting bytes.

    With limits (ScanLimits) and a deadline (a clock() value), reading past limits.bytes or the deadline
    raises ScanStopped, checked at each new chunk: a single huge file cannot outrun the caps. A wait for the
    Engine that times out (the stream's timeout is the time left) stops the scan the same way.
    """

    def __init__(self, chunks, limits=None, deadline=None, clock=time.monotonic):
        self._chunks = iter(chunks)
        self._chunk = b""
        self._position = 0
        self.bytes_read = 0
        self._limits = limits
        self._deadline = deadline
        self._clock = clock

    def _next_chunk(self):
        if self._deadline is not None and self._clock() > self._deadline:
            raise ScanStopped("stopped after %d s (scan_max_seconds), %d bytes streamed"
                              % (self._limits.seconds if self._limits else 0, self.bytes_read))
        try:
            chunk = next(self._chunks, None)
        except socket.timeout:  # the stream waited for the Engine as long as the cap allows
            raise ScanStopped("stopped after %d s (scan_max_seconds) waiting for the Engine, %d bytes streamed"
                              % (self._limits.seconds if self._limits else 0, self.bytes_read))
        if chunk is None:
            return None
        self.bytes_read += len(chunk)
        if self._limits is not None and self.bytes_read > self._limits.bytes:
            raise ScanStopped("stopped after %d bytes streamed (scan_max_bytes)" % self.bytes_read)
        return chunk

    def read(self, size=-1):
        # Slices of the current chunk only: the SDK's chunks are 2 MB and tarfile reads 10 KB at a time.
        parts = []
        wanted = size
        while size < 0 or wanted > 0:
            if self._position >= len(self._chunk):
                chunk = self._next_chunk()
                if chunk is None:
                    break
                self._chunk, self._position = chunk, 0
                continue
            end = len(self._chunk) if size < 0 else min(len(self._chunk), self._position + wanted)
            parts.append(self._chunk[self._position:end])
            wanted -= end - self._position
            self._position = end
        return b"".join(parts)

    def close(self):
        """Stop the stream without reading the rest (its connection is closed)."""
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()
