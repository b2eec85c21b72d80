# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""Which secret files of an image belong to its OS packages, from the package databases in its layers.

A private key a distribution package ships (a test suite's keys) or that its
install script makes (Debian's ssl-cert makes /etc/ssl/private/
ssl-cert-snakeoil.key in its postinst) is in every image that installs the
package: it is worth knowing, not a secret the image's authors stored. The
layer scan reports such a file as a package file (low), and keeps every
other secret file at its rule's severity.

What is read, as the layers stream past (images.layers), keeping only lines
that name a possible secret file (images.scan.candidate: a path test, no
read), so memory follows the few such paths, not the size of the database:

- dpkg (Debian, Ubuntu): /var/lib/dpkg/status (which packages are installed,
  as 8-byte keyed hashes of their names, and the md5 of conffiles),
  /var/lib/dpkg/info/<package>[:<arch>].list (the files a package ships) and
  .md5sums (their content's md5);
- apk (Alpine): /lib/apk/db/installed (packages, their files and each
  file's checksum, Q1 = SHA-1 and Q2 = SHA-256 in base64);
- RPM: the database is recognised, not read. Its Berkeley DB and ndb forms
  need readers the Python standard library does not have, and its SQLite
  form is read by sqlite3 from a file only (or whole in memory on Python
  3.11+), never from a stream: the scan says "RPM database not read" and
  leaves such files at their rule's severity.

Which version counts: the one a container of the image sees, the layers
merged (a database file a later layer deleted or overwrote is not read as
the image's). A secret file is a package file when a package installed in
that view owns its path and the file is the package's:

- shipped: the content has the digest the database records (md5sums,
  Conffiles, apk's Z:), or, where it records none, the file was written in
  a layer where the same package was installed or upgraded (its .list file,
  or apk's database, is in that layer);
- generated: the path is one a package's install script is known to make
  (GENERATED_FILES, a short table checked against the packages' scripts),
  and the file was written in a layer that installed or upgraded that
  package (dpkg runs the postinst in the same step). A file at that path
  written by another step (make-ssl-cert --force-overwrite in a later RUN,
  a team's own key copied there) cannot be told apart and is not claimed.

Anything else at a package's path is REPLACED: the package's path, not its
file - a team's key copied over a package's is exactly what must not pass
as a package file.
"""

from __future__ import annotations

import array
import posixpath
import re

# How a secret file relates to a package (LayerScan.secret_files[].package_source).
SHIPPED = "shipped"
GENERATED = "generated"
REPLACED = "replaced"
PACKAGE_SOURCES = (SHIPPED, GENERATED, REPLACED)
PACKAGE_FILE_SOURCES = (SHIPPED, GENERATED)

DPKG = "dpkg"
APK = "apk"
RPM = "rpm"
RPM_UNREAD = ("RPM database not read (its Berkeley DB, ndb and SQLite forms cannot be read from the image's "
              "stream with the Python standard library): its files are not told from other secret files")

DPKG_STATUS = "/var/lib/dpkg/status"
DPKG_INFO = "/var/lib/dpkg/info/"
APK_INSTALLED = "/lib/apk/db/installed"
RPM_DATABASES = frozenset("%s/%s" % (directory, name) for directory in ("/var/lib/rpm", "/usr/lib/sysimage/rpm")
                          for name in ("Packages", "Packages.db", "rpmdb.sqlite"))

# Files an install script makes, by path: (package manager, package). Only files checked in the package's own
# script: ssl-cert's postinst runs `make-ssl-cert generate-default-snakeoil`, which writes this key (Debian 11-13,
# Ubuntu alike). Its certificate (/etc/ssl/certs/ssl-cert-snakeoil.pem) holds no private key.
GENERATED_FILES = {
    "/etc/ssl/private/ssl-cert-snakeoil.key": (DPKG, "ssl-cert"),
}

# dpkg states in which the package is installed and configured (its postinst ran).
DPKG_INSTALLED = frozenset(("installed", "triggers-awaited", "triggers-pending"))
# Merged /usr: a list names /lib/x, /bin/x or /sbin/x where the image stores usr/lib/x (a symlink makes them one).
MERGED_USR = re.compile(r"^/usr(/(?:s?bin|lib(?:32|64|x32)?)/.*)$")
# Bytes of one line of a package database; a longer line (no real database has one) is skipped.
MAX_LINE = 64 * 1024
# Bytes read at a time from a package database.
CHUNK = 256 * 1024
MD5_HEX = re.compile(r"^[0-9a-f]{32}$")
# Installed packages one database may name (Debian's whole archive has about 70,000); a database naming more is
# hostile, and none of its packages is taken as installed.
MAX_PACKAGES = 200000


def database_kind(path):
    """What package database file an image path is: 'dpkg-status', 'dpkg-list', 'dpkg-md5sums', 'apk', 'rpm',
    or None."""
    if path == DPKG_STATUS:
        return "dpkg-status"
    if path.startswith(DPKG_INFO) and "/" not in path[len(DPKG_INFO):]:
        if path.endswith(".list"):
            return "dpkg-list"
        if path.endswith(".md5sums"):
            return "dpkg-md5sums"
        return None
    if path == APK_INSTALLED:
        return APK
    if path in RPM_DATABASES:
        return RPM
    return None


def dpkg_package(path):
    """The package a dpkg info file belongs to: '.../libbsd0:amd64.list' -> 'libbsd0'."""
    return posixpath.basename(path).rpartition(".")[0].partition(":")[0]


def lines(handle, hints=None):
    """Text lines (newline stripped) of a streamed file, each at most MAX_LINE bytes (a longer one is skipped).

    hints: byte strings; when given, only lines holding one of them are yielded, and a chunk of the file that
    holds none is skipped without being split into lines (a package's list is mostly such chunks)."""
    carry = b""
    skipping = False  # inside a line longer than MAX_LINE: dropped up to its newline
    while True:
        chunk = handle.read(CHUNK)
        if not chunk:
            break
        if skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                continue
            chunk, skipping = chunk[newline + 1:], False
        data = carry + chunk
        cut = data.rfind(b"\n")
        if cut < 0:
            carry, data = data, b""
        else:
            carry, data = data[cut + 1:], data[:cut]
        if len(carry) > MAX_LINE:
            carry, skipping = b"", True
        yield from _wanted_lines(data, hints)
    yield from _wanted_lines(carry, hints)


def _wanted_lines(data, hints):
    if not data or hints is not None and not any(hint in data for hint in hints):
        return
    for line in data.split(b"\n"):
        if len(line) <= MAX_LINE and (hints is None or any(hint in line for hint in hints)):
            yield line.rstrip(b"\r").decode("utf-8", "surrogateescape")


def package_key(manager, name):
    """The text hashed for a package's name (installed and written sets): 'dpkg:openssl'."""
    return "%s:%s" % (manager, name)


def read_dpkg_status(handle, wanted, installed):
    """[(package, path, md5 hex)] of the conffiles for which wanted(path) holds of a dpkg status file's installed
    packages; installed(name) is called with each installed package's name. A stanza's fields may come in any
    order: a package counts once its whole stanza was read."""
    conffiles = []
    stanza = {"name": None, "state": None, "conffiles": []}
    in_conffiles = False

    def end(stanza):
        if stanza["name"] and stanza["state"] in DPKG_INSTALLED:
            installed(stanza["name"])
            conffiles.extend((stanza["name"], path, digest) for path, digest in stanza["conffiles"])
        return {"name": None, "state": None, "conffiles": []}

    for line in lines(handle):
        if not line.strip():
            stanza = end(stanza)
            in_conffiles = False
            continue
        if line[:1] in (" ", "\t"):
            fields = line.split()
            if in_conffiles and len(fields) >= 2 and fields[0].startswith("/") and MD5_HEX.match(fields[1]) \
                    and wanted(fields[0]):
                stanza["conffiles"].append((fields[0], fields[1]))
            continue
        field, _sep, value = line.partition(":")
        in_conffiles = field == "Conffiles"
        if field == "Package":
            stanza["name"] = value.strip()
        elif field == "Status":
            words = value.split()
            stanza["state"] = words[-1] if words else None
    end(stanza)
    return conffiles


def read_dpkg_list(handle, wanted, hints=None):
    """Paths of a dpkg .list file for which wanted(path) holds (hints: see lines())."""
    return [line for line in lines(handle, hints) if line.startswith("/") and wanted(line)]


def read_dpkg_md5sums(handle, wanted, hints=None):
    """[(path, md5 hex)] of a dpkg .md5sums file ("<md5>  <path without the leading slash>") where wanted(path)
    (hints: see lines())."""
    found = []
    # md5sums writes paths without their leading slash: a dot-name at the root follows the two spaces.
    for line in lines(handle, hints + (b"  .",) if hints is not None else None):
        digest, _sep, path = line.partition("  ")
        path = "/" + path.lstrip("/")
        if MD5_HEX.match(digest) and wanted(path):
            found.append((path, digest))
    return found


def read_apk_installed(handle, wanted, installed):
    """[(path, package, checksum or None)] where wanted(path) of apk's installed database; installed(name) is
    called with each package's name (the database lists installed packages only).

    Stanzas (one per package, blank line between) of "X:value" lines: P: the name, F: a directory (relative
    to /; none yet: /), R: a file of the last F:, Z: the checksum of the last R:."""
    files = []
    name, directory, current = None, "", None
    for line in lines(handle):
        if not line.strip():
            name, directory, current = None, "", None
            continue
        field, value = line[:2], line[2:]
        if field == "P:":
            name = value
            installed(value)
        elif field == "F:":
            directory, current = value, None
        elif field == "R:":
            path = "/" + posixpath.join(directory, value).lstrip("/")
            current = [path, name, None] if name is not None and wanted(path) else None
            if current is not None:
                files.append(current)
        elif field == "Z:" and current is not None:
            current[2] = value
    return [tuple(item) for item in files]


def aliases(path):
    """The names a package database may give an image path: itself, and the unmerged name of a merged-/usr path."""
    merged = MERGED_USR.match(path)
    return (path, merged.group(1)) if merged else (path,)


def digest_matches(recorded, digests):
    """Whether a database's checksum (md5 hex, apk Q1/Q2 base64) is the file's; None when the form is unknown.

    digests: {"md5": hex, "sha1": base64, "sha256": base64} of the file's whole content."""
    if recorded is None:
        return None
    if MD5_HEX.match(recorded):
        return recorded == digests.get("md5")
    if recorded.startswith("Q1"):
        return recorded[2:] == digests.get("sha1")
    if recorded.startswith("Q2"):
        return recorded[2:] == digests.get("sha256")
    return None


def describe(package, source):
    """Evidence for a secret file's package: 'package file (ssl-cert), generated by ...', or the path's owner."""
    if source == SHIPPED:
        return "package file (%s)" % package
    if source == GENERATED:
        return "package file (%s), generated by package %s's install script" % (package, package)
    if source == REPLACED:
        return "at a path of package %s but not its file (other content, or written by another build step)" % package
    return ""


class PackageRecord(object):
    """What one layer holds of package databases, kept small: only what decides a secret file's package.

    files: {database path: kind} of the database files in the layer that matter (the status and apk databases,
    lists and md5sums naming a possible secret file, an RPM database). installed: {database path: array of
    8-byte hashes of package_key()} of the packages a status or apk database says are installed (empty for one
    naming more than MAX_PACKAGES). written: hashes of the packages this layer installed or upgraded (a dpkg
    .list file in it, or every package of an apk database in it). owned: [(database path, manager, package,
    path, checksum or None)]; md5sums: {(package, path): (database path, md5 hex)}.
    """

    __slots__ = ("files", "installed", "written", "owned", "md5sums")

    def __init__(self):
        self.files = {}
        self.installed = {}
        self.written = array.array("Q")
        self.owned = []
        self.md5sums = {}


def read_database(record, path, kind, handle, wanted, hasher, keep, hints=None):
    """Read one package database file of a layer into record (a PackageRecord).

    wanted(path): whether a path could be a secret file; hints: byte strings one of which every such path holds
    (images.scan.CANDIDATE_HINTS); hasher: the scan's PathHasher; keep(path): counts a kept path against the
    scan's budget (ScanStopped past it)."""
    if kind == RPM:
        record.files[path] = kind
        return
    if kind == "dpkg-status":
        installed = record.installed[path] = array.array("Q")
        conffiles = read_dpkg_status(handle, wanted, _collector(installed, DPKG, hasher))
        record.files[path] = kind
        _drop_if_too_many(installed)
        for package, owned_path, digest in conffiles:
            keep(owned_path)
            record.owned.append((path, DPKG, package, owned_path, digest))
        return
    if kind == "dpkg-list":
        package = dpkg_package(path)
        record.written.append(hasher(package_key(DPKG, package)))
        for owned_path in read_dpkg_list(handle, wanted, hints):
            keep(owned_path)
            record.files[path] = kind
            record.owned.append((path, DPKG, package, owned_path, None))
        return
    if kind == "dpkg-md5sums":
        package = dpkg_package(path)
        for owned_path, digest in read_dpkg_md5sums(handle, wanted, hints):
            keep(owned_path)
            record.files[path] = kind
            record.md5sums[(package, owned_path)] = (path, digest)
        return
    if kind == APK:
        installed = record.installed[path] = array.array("Q")
        files = read_apk_installed(handle, wanted, _collector(installed, APK, hasher))
        record.files[path] = kind
        _drop_if_too_many(installed)
        record.written.extend(installed)
        for owned_path, package, checksum in files:
            keep(owned_path)
            record.owned.append((path, APK, package, owned_path, checksum))


def _collector(hashes, manager, hasher):
    """A callback adding a package name's hash to hashes (an array), up to one past MAX_PACKAGES."""
    def collect(name):
        if len(hashes) <= MAX_PACKAGES:
            hashes.append(hasher(package_key(manager, name)))
    return collect


def _drop_if_too_many(hashes):
    if len(hashes) > MAX_PACKAGES:
        del hashes[:]


class PackageView(object):
    """The package databases of the merged view, and which packages each layer installed or upgraded.

    Built by images.layers from the layers' PackageRecords (order: from the base up, None for a layer not read);
    present(path, position) says whether the database file of that layer is the one a container sees. owners:
    {path: {(manager, package): checksum or None}}, a checksum known from any live database winning over none.
    """

    def __init__(self, order, present, hasher):
        self.hasher = hasher
        self.installed = set()
        self.owners = {}
        self.read = set()
        self.unread = None
        self.written = [record.packages.written if record is not None and record.packages is not None else ()
                        for record in order]
        md5sums = {}
        for position, record in enumerate(order):
            packages = record.packages if record is not None else None
            if packages is None:
                continue
            live = set(path for path in packages.files if present(path, position))
            for path in live:
                if packages.files[path] == RPM:
                    self.unread = RPM_UNREAD
                    continue
                self.read.add(APK if packages.files[path] == APK else DPKG)
                self.installed.update(packages.installed.get(path, ()))
            for database, manager, package, path, checksum in packages.owned:
                if database in live:
                    known = self.owners.setdefault(path, {})
                    known[(manager, package)] = known.get((manager, package)) or checksum
            for (package, path), (database, digest) in packages.md5sums.items():
                if database in live:
                    md5sums[(package, path)] = digest
        for path, known in self.owners.items():
            for (manager, package), checksum in known.items():
                if checksum is None and manager == DPKG:
                    known[(manager, package)] = md5sums.get((package, path))

    def _installed(self, manager, package):
        return self.hasher(package_key(manager, package)) in self.installed

    def _written(self, manager, package, position):
        return self.hasher(package_key(manager, package)) in self.written[position]

    def attribute(self, path, position, digests):
        """(package, source) of a secret file at path in layer position (from 0 at the base), or (None, None).

        digests: the file's {"md5": hex, "sha1": base64, "sha256": base64} (images.layers)."""
        replaced = None
        for name in aliases(path):
            for (manager, package), checksum in sorted(self.owners.get(name, {}).items()):
                if not self._installed(manager, package):
                    continue
                match = digest_matches(checksum, digests)
                if match is None:  # the database records no checksum: the layer that wrote it says
                    match = self._written(manager, package, position)
                if match:
                    return package, SHIPPED
                replaced = replaced or package
        if replaced:
            return replaced, REPLACED
        generated = GENERATED_FILES.get(path)
        if generated and self._installed(*generated):
            return generated[1], GENERATED if self._written(generated[0], generated[1], position) else REPLACED
        return None, None
