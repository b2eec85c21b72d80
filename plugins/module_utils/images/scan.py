# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scan an image's filesystem without running it: setuid/setgid files and secret files.

How (scan_image): create a container from the image WITHOUT starting it
(networking disabled, a command that never runs), stream its filesystem
through the Engine's export endpoint into tarfile's stream mode ('r|'),
and remove the container in a finally. Nothing is written to disk and the
archive is never held in memory: tar headers pass by one at a time.

What is recorded (LayerScan):
- regular files (and hard links) with the setuid or setgid bit: paths and counts;
- secret files, by path first, then by a bounded read (MAX_READ bytes) of
  the candidate's content: private keys, .env files with secret-looking
  entries, cloud credential files (AWS, gcloud, Azure), .npmrc with an auth
  token, .pypirc with a password, .docker/config.json with auths,
  .git-credentials, .netrc with a password.

Only the path, the kind and the file's length are kept: a secret value
never leaves classify() (principle 9). Only candidate files are read.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import tarfile

from ansible_collections.bulwark.hardening.plugins.module_utils.common.secrets import find_secrets

# Bytes read of a candidate file's content; keys and credential files are far smaller.
MAX_READ = 64 * 1024
# Paths kept per list in the scan (counts are always exact).
MAX_LISTED = 200
# The never-run command of the scan container (images without CMD/ENTRYPOINT need one to be created).
SCAN_COMMAND = ["/bulwark-layer-scan-never-runs"]
SCAN_LABEL = "bulwark.image-scan"

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


class LayerScan(object):
    """What the layer scan found in one image's filesystem (plain data, JSON-serializable)."""

    __slots__ = ("setuid", "setgid", "setuid_count", "setgid_count", "secret_files", "files", "bytes_read")

    def __init__(self, setuid=(), setgid=(), setuid_count=None, setgid_count=None, secret_files=(), files=0,
                 bytes_read=0):
        self.setuid = list(setuid)
        self.setgid = list(setgid)
        self.setuid_count = len(self.setuid) if setuid_count is None else setuid_count
        self.setgid_count = len(self.setgid) if setgid_count is None else setgid_count
        # [{"path", "kind", "length"}]: never a value.
        self.secret_files = [dict(entry) for entry in secret_files]
        self.files = files
        self.bytes_read = bytes_read

    def to_dict(self):
        return dict((name, getattr(self, name)) for name in self.__slots__)

    @classmethod
    def from_dict(cls, data):
        """A LayerScan from to_dict() output; ValueError when the data does not have that shape."""
        if not isinstance(data, dict) or set(data) != set(cls.__slots__):
            raise ValueError("not a layer scan")
        for name in ("setuid", "setgid", "secret_files"):
            if not isinstance(data[name], list):
                raise ValueError("%s is not a list" % name)
        if not all(isinstance(path, str) for path in data["setuid"] + data["setgid"]):
            raise ValueError("paths are not strings")
        if not all(isinstance(entry, dict) and set(entry) == {"path", "kind", "length"} for entry in data["secret_files"]):
            raise ValueError("bad secret file entry")
        if not all(isinstance(data[name], int) for name in ("setuid_count", "setgid_count", "files", "bytes_read")):
            raise ValueError("counts are not integers")
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


# --- the archive --------------------------------------------------------------

def member_path(name):
    """A tar member name as an absolute path in the image ('./etc/passwd' and 'etc/passwd' -> '/etc/passwd')."""
    if name.startswith("./"):
        name = name[2:]
    return "/" + name.strip("/")


def scan_archive(fileobj):
    """LayerScan of a filesystem tar archive read as a stream (never seeks)."""
    setuid, setgid, secret_files = [], [], []
    setuid_count = setgid_count = files = 0
    with tarfile.open(fileobj=fileobj, mode="r|") as archive:
        for member in archive:
            if not (member.isreg() or member.islnk()):
                continue
            files += 1
            path = member_path(member.name)
            if member.mode & 0o4000:
                setuid_count += 1
                if len(setuid) < MAX_LISTED:
                    setuid.append(path)
            if member.mode & 0o2000:
                setgid_count += 1
                if len(setgid) < MAX_LISTED:
                    setgid.append(path)
            if not member.isreg() or member.size == 0 or candidate(path) is None:
                continue
            handle = archive.extractfile(member)
            kind = classify(path, handle.read(MAX_READ)) if handle is not None else None
            if kind:
                secret_files.append({"path": path, "kind": kind, "length": member.size})
    return LayerScan(setuid, setgid, setuid_count, setgid_count, secret_files[:MAX_LISTED], files)


class CountingStream(object):
    """A read-only file object over an iterator of byte chunks (the SDK's export stream), counting bytes."""

    def __init__(self, chunks):
        self._chunks = iter(chunks)
        self._chunk = b""
        self._position = 0
        self.bytes_read = 0

    def read(self, size=-1):
        # Slices of the current chunk only: the SDK's chunks are 2 MB and tarfile reads 10 KB at a time.
        parts = []
        wanted = size
        while size < 0 or wanted > 0:
            if self._position >= len(self._chunk):
                chunk = next(self._chunks, None)
                if chunk is None:
                    break
                self.bytes_read += len(chunk)
                self._chunk, self._position = chunk, 0
                continue
            end = len(self._chunk) if size < 0 else min(len(self._chunk), self._position + wanted)
            parts.append(self._chunk[self._position:end])
            wanted -= end - self._position
            self._position = end
        return b"".join(parts)


def scan_image(client, image_id):
    """LayerScan of an image, through a created (never started) container's export; the container is removed.

    client: engine.connection.CountingClient. API calls: create_container,
    export, remove_container (one each).
    """
    created = client.call("create_container", image_id, command=SCAN_COMMAND, network_disabled=True,
                          labels={SCAN_LABEL: "1"})
    try:
        stream = CountingStream(client.call("export", created["Id"]))
        scan = scan_archive(stream)
        # Drain what tarfile left unread (end-of-archive padding), so the connection ends cleanly.
        while stream.read(1 << 16):
            pass
        scan.bytes_read = stream.bytes_read
        return scan
    finally:
        client.call("remove_container", created["Id"], v=True, force=True)


def remove_leftover_scans(client):
    """Remove scan containers an interrupted run left behind (label bulwark.image-scan=1, never started);
    return how many. One list call; the containers are this module's own, whatever mode it runs in."""
    leftovers = client.call("containers", all=True, filters={"label": SCAN_LABEL + "=1"})
    for container in leftovers:
        client.call("remove_container", container["Id"], v=True, force=True)
    return len(leftovers)
