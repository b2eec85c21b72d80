# -*- coding: utf-8 -*-
"""Package databases as real images hold them, for the layer scan's "package file" verdicts.

Taken from `docker save` of an image built here on the brownfield scenario's
database image (bulwark-brownfield/db: Debian 12, PostgreSQL, so ssl-cert):

    FROM bulwark-brownfield/db:<tag>
    RUN apt-get install --reinstall ssl-cert && apt-get install libpython3.11-testsuite   (layer 5)
    COPY server.key /etc/ssl/private/server.key                                         (layer 6)
    COPY server.key /usr/lib/python3.11/test/ssl_key.pem                                (layer 7)

Layer 5 held /var/lib/dpkg/status (these stanzas, shortened to the fields
dpkg writes first and the ones the scan reads), /var/lib/dpkg/info/ssl-cert.list
(whole, as here: the snakeoil key is not in it, ssl-cert's postinst makes it
with make-ssl-cert), libpython3.11-testsuite.list (these lines of its 1,526)
and .md5sums, the generated /etc/ssl/private/ssl-cert-snakeoil.key and the
test suite's keys (keycert.pem and others, shipped). The brownfield db image
itself holds no key: its Dockerfile removes the snakeoil key in the layer
that installs postgresql.

Key contents are made in the tests (never a real key in the repository); the
md5sums lines of the shipped keys are recomputed for them, as dpkg would have
written them for such a file. The apk database has the layout apk-tools
writes (P: package, F: directory, R: file, Z: Q1 + base64 SHA-1 of the
content); no Alpine image or archive is reachable here.
"""

from __future__ import annotations

import base64
import hashlib

from save_tars import entry

KEY_HEADER = b"-----BEGIN PRIVATE KEY-----\n"


def key(body):
    """A private key file's content around body (the scan recognises the PEM header, nothing more)."""
    return KEY_HEADER + body.encode() + b"\n-----END PRIVATE KEY-----\n"


STATUS_SSL_CERT = """Package: ssl-cert
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 64
Maintainer: Debian Apache Maintainers <debian-apache@lists.debian.org>
Architecture: all
Multi-Arch: foreign
Version: 1.1.2
Depends: debconf (>= 0.5) | debconf-2.0, openssl (>= 0.9.8g-9), adduser
Description: simple debconf wrapper for OpenSSL
 This package enables unattended installs of packages that
 need to create SSL certificates.
 .
 It is a simple wrapper for OpenSSL's certificate request utility that
 feeds it with the correct user variables.
"""

STATUS_TESTSUITE = """Package: libpython3.11-testsuite
Status: install ok installed
Priority: optional
Section: libdevel
Installed-Size: 24826
Maintainer: Matthias Klose <doko@debian.org>
Architecture: all
Source: python3.11
Version: 3.11.2-6+deb12u8
Depends: python3.11 (>= 3.11.2-6+deb12u8), net-tools
Suggests: python3-gdbm, python3-tk
Description: Testsuite for the Python standard library (v3.11)
 The complete testsuite for the Python standard library.  Note that
 a subset is found in the libpython3.11-stdlib package, which should
 be enough for other packages to use (please do not build-depend
 on this package, but file a bug report to include additional
 testsuite files in the libpython3.11-stdlib package).
"""

STATUS_OPENSSL = """Package: openssl
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 2310
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@alioth-lists.debian.net>
Architecture: amd64
Multi-Arch: foreign
Version: 3.0.20-1~deb12u2
Depends: libc6 (>= 2.34), libssl3 (>= 3.0.9)
Suggests: ca-certificates
Conffiles:
 /etc/ssl/openssl.cnf fe1993ec22f6b8a46cb9706acd8fc68f
Description: Secure Sockets Layer toolkit - cryptographic utility
 This package is part of the OpenSSL project's implementation of the SSL
 and TLS cryptographic protocols for secure communication over the
 Internet.
Homepage: https://www.openssl.org/
"""

STATUS_LIBBSD = """Package: libbsd0
Status: install ok installed
Priority: optional
Section: libs
Installed-Size: 202
Maintainer: Guillem Jover <guillem@debian.org>
Architecture: amd64
Multi-Arch: same
Source: libbsd
Version: 0.11.7-2
Depends: libc6 (>= 2.34), libmd0 (>= 1.0.3-2)
Description: utility functions from BSD systems - shared library
 This library provides some C functions such as strlcpy() that are commonly
 available on BSD systems but not on others like GNU systems.
Homepage: https://libbsd.freedesktop.org/
"""

SSL_CERT_LIST = """/.
/etc
/etc/ssl
/etc/ssl/certs
/etc/ssl/private
/usr
/usr/sbin
/usr/sbin/make-ssl-cert
/usr/share
/usr/share/doc
/usr/share/doc/ssl-cert
/usr/share/doc/ssl-cert/README
/usr/share/doc/ssl-cert/changelog.gz
/usr/share/doc/ssl-cert/copyright
/usr/share/lintian
/usr/share/lintian/overrides
/usr/share/lintian/overrides/ssl-cert
/usr/share/man
/usr/share/man/man8
/usr/share/man/man8/make-ssl-cert.8.gz
/usr/share/ssl-cert
/usr/share/ssl-cert/ssleay.cnf
"""

SSL_CERT_MD5SUMS = """634df147f1127699468cb9f0e1de3a4e  usr/sbin/make-ssl-cert
ced44f6f499b7890c94a6b1e9ef2fc20  usr/share/doc/ssl-cert/README
ed1ea9c5b5adc28e48b614dc9e767534  usr/share/doc/ssl-cert/changelog.gz
e32874bd059cc1d6177a794d3f1787da  usr/share/doc/ssl-cert/copyright
94a4726469c4af8642517dd2dd07d775  usr/share/lintian/overrides/ssl-cert
814eccaa15a7bb01f920753ab1499fa2  usr/share/man/man8/make-ssl-cert.8.gz
9eef3b8f4ed1ab9382464840b6e9a759  usr/share/ssl-cert/ssleay.cnf
"""

TESTSUITE_LIST = """/.
/usr
/usr/lib
/usr/lib/python3.11
/usr/lib/python3.11/test
/usr/lib/python3.11/test/inspect_stringized_annotations_2.py
/usr/lib/python3.11/test/keycert.passwd.pem
/usr/lib/python3.11/test/keycert.pem
/usr/lib/python3.11/test/keycert2.pem
/usr/lib/python3.11/test/keycert3.pem
/usr/lib/python3.11/test/keycert4.pem
/usr/lib/python3.11/test/keycertecc.pem
/usr/lib/python3.11/test/ssl_cert.pem
/usr/lib/python3.11/test/ssl_key.passwd.pem
/usr/lib/python3.11/test/ssl_key.pem
/usr/lib/python3.11/test/ssl_servers.py
"""

LIBBSD_LIST = """/.
/usr
/usr/lib
/usr/lib/x86_64-linux-gnu
/usr/lib/x86_64-linux-gnu/libbsd.so.0.11.7
/usr/share
/usr/share/doc
/usr/share/doc/libbsd0
/usr/share/doc/libbsd0/changelog.Debian.gz
/usr/share/doc/libbsd0/changelog.gz
/usr/share/doc/libbsd0/copyright
/usr/share/lintian
/usr/share/lintian/overrides
/usr/share/lintian/overrides/libbsd0
/usr/lib/x86_64-linux-gnu/libbsd.so.0
"""

SNAKEOIL = "/etc/ssl/private/ssl-cert-snakeoil.key"
KEYCERT = "/usr/lib/python3.11/test/keycert.pem"
SSL_KEY = "/usr/lib/python3.11/test/ssl_key.pem"
SERVER_KEY = "/etc/ssl/private/server.key"
INFO = "var/lib/dpkg/info/"


def status(*stanzas):
    return "\n".join(stanzas).encode()


def md5sums(files):
    """An .md5sums file (bytes) as dpkg writes it: md5, two spaces, the path without its leading slash."""
    return "".join("%s  %s\n" % (hashlib.md5(data).hexdigest(), path.lstrip("/")) for path, data in files).encode()


def dpkg_base():
    """The base layer: dpkg's status with openssl and libbsd0 (multi-arch: its list is libbsd0:amd64.list)."""
    return [entry("var/lib/dpkg/status", status(STATUS_OPENSSL, STATUS_LIBBSD)),
            entry(INFO + "libbsd0:amd64.list", LIBBSD_LIST.encode())]


def ssl_cert_install(snakeoil, keycert, ssl_key, installed_status=None):
    """The layer of `apt-get install ssl-cert libpython3.11-testsuite`: lists, md5sums, status, the generated snakeoil
    key and the test suite's shipped keys (keycert, ssl_key: their content, as md5sums records it)."""
    shipped = [(KEYCERT, keycert), (SSL_KEY, ssl_key)]
    stanzas = installed_status or (STATUS_OPENSSL, STATUS_LIBBSD, STATUS_SSL_CERT, STATUS_TESTSUITE)
    return [entry("var/lib/dpkg/status", status(*stanzas)),
            entry(INFO + "ssl-cert.list", SSL_CERT_LIST.encode()),
            entry(INFO + "ssl-cert.md5sums", SSL_CERT_MD5SUMS.encode()),
            entry(INFO + "libpython3.11-testsuite.list", TESTSUITE_LIST.encode()),
            entry(INFO + "libpython3.11-testsuite.md5sums", md5sums(shipped)),
            entry(SNAKEOIL.lstrip("/"), snakeoil, 0o640)] + [entry(path.lstrip("/"), data) for path, data in shipped]


def apk_checksum(data):
    return "Q1" + base64.b64encode(hashlib.sha1(data).digest()).decode()


def apk_installed(packages):
    """/lib/apk/db/installed (bytes) for [(package, version, {directory: [(file name, content or None)]})]."""
    stanzas = []
    for name, version, directories in packages:
        lines = ["C:Q1" + base64.b64encode(hashlib.sha1(name.encode()).digest()).decode(), "P:" + name, "V:" + version,
                 "A:x86_64", "S:1024", "I:4096", "T:" + name, "U:https://alpinelinux.org", "L:MIT", "o:" + name,
                 "m:Natanael Copa <ncopa@alpinelinux.org>", "t:1700000000"]
        for directory, files in directories.items():
            lines += ["F:" + directory, "M:0:0:755"]
            for file_name, data in files:
                lines.append("R:" + file_name)
                lines.append("a:0:0:600")
                if data is not None:
                    lines.append("Z:" + apk_checksum(data))
        stanzas.append("\n".join(lines) + "\n")
    return "\n".join(stanzas).encode() + b"\n"
