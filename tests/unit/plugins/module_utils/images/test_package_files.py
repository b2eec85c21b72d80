# -*- coding: utf-8 -*-
"""Secret files that belong to the image's OS packages: found by the layer scan, reported low as "package file".

A key a Debian package ships (its path in /var/lib/dpkg/info/<pkg>.list, its content as <pkg>.md5sums or the
status file's Conffiles say) or that its install script makes (ssl-cert's snakeoil key, made by the postinst in
the layer that installed ssl-cert) is a package file while dpkg's status says the package is installed - in the
merged view, whiteouts applied. A file at such a path that is not the package's (other content, written by a
later build step) stays what it is: a secret file. apk's database is read the same way; an RPM database is not
(it says so). Fixtures: package_fixtures.py (real dpkg data from an image built on bulwark-brownfield/db).
"""

from __future__ import annotations

import hashlib
import io
import json

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import evaluate_images
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import failed
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, AuditState, ImageView
from ansible_collections.bulwark.hardening.plugins.module_utils.images import layers as layering
from ansible_collections.bulwark.hardening.plugins.module_utils.images import packages
from ansible_collections.bulwark.hardening.plugins.module_utils.images import scan as scanning
from ansible_collections.bulwark.hardening.plugins.module_utils.images.save import scan_save
from ansible_collections.bulwark.hardening.plugins.module_utils.images.scan import LayerScan, ScanLimits
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog

from package_fixtures import (
    INFO, KEYCERT, SERVER_KEY, SNAKEOIL, SSL_CERT_LIST, SSL_KEY, STATUS_LIBBSD, STATUS_OPENSSL, STATUS_SSL_CERT,
    STATUS_TESTSUITE, apk_installed, dpkg_base, key, ssl_cert_install, status,
)
from save_tars import DIR, LAYOUTS, entry, layer_tar, save_of

SNAKEOIL_KEY = key("c25ha2VvaWwgZ2VuZXJhdGVkIGJ5IG1ha2Utc3NsLWNlcnQ")
KEYCERT_KEY = key("cHl0aG9uIHRlc3Qgc3VpdGUga2V5Y2VydA")
SSL_KEY_KEY = key("cHl0aG9uIHRlc3Qgc3VpdGUgc3NsX2tleQ")
USER_KEY = key("dGhlIHRlYW0ncyBvd24gc2VydmVyIGtleQ")


@pytest.fixture(params=sorted(LAYOUTS))
def layout(request):
    return request.param


def scan_of(layout, layers, **options):
    data, image_id = save_of(layout, layers)
    return scan_save(io.BytesIO(data), image_id=image_id, **options)


def owners(scan):
    """{(path, layer): (package, package_source)} of every secret file listed."""
    return dict(((item["path"], item["layer"]), (item["package"], item["package_source"])) for item in scan.secret_files)


def brownfield_like():
    """The layers of the real image (package_fixtures' docstring): base, install, two COPYs of the team's key."""
    return [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY),
            [entry("etc/ssl/private/server.key", USER_KEY, 0o600)],
            [entry(SSL_KEY.lstrip("/"), USER_KEY)]]


# --- dpkg: shipped files, generated files, and files that only sit at a package's path ----------------

def test_package_files_of_the_real_image_are_told_from_the_teams_keys(layout):
    scan = scan_of(layout, brownfield_like())
    assert scan.incomplete is None and scan.secret_count == 5
    assert owners(scan) == {
        (SNAKEOIL, 2): ("ssl-cert", packages.GENERATED),        # made by ssl-cert's postinst, not in its list
        (KEYCERT, 2): ("libpython3.11-testsuite", packages.SHIPPED),
        (SSL_KEY, 2): ("libpython3.11-testsuite", packages.SHIPPED),   # the package's copy, overwritten later
        (SERVER_KEY, 3): (None, None),
        (SSL_KEY, 4): ("libpython3.11-testsuite", packages.REPLACED),  # the team's key at the package's path
    }
    assert scan.package_files == 3 and scan.packages_read == ["dpkg"] and scan.packages_unread is None
    assert "c25ha2VvaWw" not in json.dumps(scan.to_dict())


def test_a_package_file_is_listed_after_the_files_that_are_not(layout):
    scan = scan_of(layout, brownfield_like())
    assert [item["package_source"] in packages.PACKAGE_FILE_SOURCES for item in scan.secret_files] == \
        [False, False, True, True, True]


def test_the_snakeoil_key_is_not_a_package_file_when_ssl_cert_is_not_installed(layout):
    removed = STATUS_SSL_CERT.replace("Status: install ok installed", "Status: deinstall ok config-files")
    install = ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY,
                               installed_status=(STATUS_OPENSSL, STATUS_LIBBSD, removed, STATUS_TESTSUITE))
    scan = scan_of(layout, [dpkg_base(), install])
    assert owners(scan)[(SNAKEOIL, 2)] == (None, None)
    assert owners(scan)[(KEYCERT, 2)] == ("libpython3.11-testsuite", packages.SHIPPED)


def test_a_package_removed_by_a_later_layer_owns_nothing(layout):
    # apt-get purge libpython3.11-testsuite in layer 3: its list and md5sums deleted, status rewritten without it.
    purge = [entry("var/lib/dpkg/status", status(STATUS_OPENSSL, STATUS_LIBBSD, STATUS_SSL_CERT)),
             entry(INFO + ".wh.libpython3.11-testsuite.list"), entry(INFO + ".wh.libpython3.11-testsuite.md5sums")]
    scan = scan_of(layout, [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY), purge])
    assert owners(scan)[(KEYCERT, 2)] == (None, None)
    assert owners(scan)[(SNAKEOIL, 2)] == ("ssl-cert", packages.GENERATED)


def test_without_a_dpkg_status_in_the_merged_view_nothing_is_a_package_file(layout):
    scan = scan_of(layout, [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY),
                            [entry("var/lib/dpkg/.wh.status")]])
    assert set(owners(scan).values()) == {(None, None)} and scan.package_files == 0


def test_a_snakeoil_key_made_again_by_a_later_step_is_not_the_packages(layout):
    # RUN make-ssl-cert generate-default-snakeoil --force-overwrite, or a COPY of a real key to that name: the
    # scan cannot tell which, so the key stays a secret file.
    scan = scan_of(layout, [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY),
                            [entry(SNAKEOIL.lstrip("/"), USER_KEY, 0o640)]])
    assert owners(scan)[(SNAKEOIL, 3)] == ("ssl-cert", packages.REPLACED)
    assert owners(scan)[(SNAKEOIL, 2)] == ("ssl-cert", packages.GENERATED)


def test_an_upgrade_in_a_later_layer_keeps_the_key_made_at_install(layout):
    # apt-get upgrade rewrites ssl-cert.list in layer 3; the postinst leaves the existing key alone.
    upgrade = [entry("var/lib/dpkg/status", status(STATUS_OPENSSL, STATUS_LIBBSD, STATUS_SSL_CERT, STATUS_TESTSUITE)),
               entry(INFO + "ssl-cert.list", SSL_CERT_LIST.encode())]
    scan = scan_of(layout, [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY), upgrade])
    assert owners(scan)[(SNAKEOIL, 2)] == ("ssl-cert", packages.GENERATED)


def test_a_listed_key_with_other_content_in_the_same_step_is_not_the_packages(layout):
    # RUN apt-get install libpython3.11-testsuite && cp team.key /usr/lib/python3.11/test/keycert.pem: md5sums says.
    install = ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY)
    install = [item for item in install if item[0] != KEYCERT.lstrip("/")] + [entry(KEYCERT.lstrip("/"), USER_KEY)]
    scan = scan_of(layout, [dpkg_base(), install])
    assert owners(scan)[(KEYCERT, 2)] == ("libpython3.11-testsuite", packages.REPLACED)


def test_a_key_shipped_as_a_conffile_is_checked_against_the_status_file(layout):
    conffile = "/etc/ssl/private/vendor.pem"
    stanza = STATUS_OPENSSL.replace(" /etc/ssl/openssl.cnf", " %s %s\n /etc/ssl/openssl.cnf"
                                    % (conffile, hashlib.md5(SSL_KEY_KEY).hexdigest()))
    layer = [entry("var/lib/dpkg/status", status(stanza, STATUS_LIBBSD)),
             entry(INFO + "openssl.list", ("/.\n/etc\n/etc/ssl\n/etc/ssl/private\n%s\n" % conffile).encode()),
             entry(conffile.lstrip("/"), SSL_KEY_KEY)]
    assert owners(scan_of(layout, [layer]))[(conffile, 1)] == ("openssl", packages.SHIPPED)
    changed = [item for item in layer if item[0] != conffile.lstrip("/")] + [entry(conffile.lstrip("/"), USER_KEY)]
    assert owners(scan_of(layout, [changed]))[(conffile, 1)] == ("openssl", packages.REPLACED)


def test_a_multiarch_list_names_its_package_without_the_architecture(layout):
    path = "/usr/lib/x86_64-linux-gnu/libbsd-test.key"
    listed = dpkg_base()
    listed[1] = entry(INFO + "libbsd0:amd64.list", ("/usr\n/usr/lib\n/usr/lib/x86_64-linux-gnu\n%s\n" % path).encode())
    scan = scan_of(layout, [listed + [entry(path.lstrip("/"), USER_KEY)]])
    assert owners(scan)[(path, 1)] == ("libbsd0", packages.SHIPPED)  # no md5sums: written with its list


def test_merged_usr_paths_match_the_lists_unmerged_names(layout):
    # Debian 12 lists /lib/...; on a merged-/usr image the file is stored under usr/lib/.
    layer = [entry("var/lib/dpkg/status", status(STATUS_LIBBSD)),
             entry(INFO + "libbsd0:amd64.list", b"/lib\n/lib/bsd-test.key\n"),
             entry("usr/lib/bsd-test.key", USER_KEY)]
    assert owners(scan_of(layout, [layer]))[("/usr/lib/bsd-test.key", 1)] == ("libbsd0", packages.SHIPPED)


# --- apk, rpm -------------------------------------------------------------------------------------

def test_apk_files_are_package_files_when_their_checksum_matches(layout):
    shipped = {"usr/share/openssl/test": [("server.key", KEYCERT_KEY), ("other.key", None)]}
    database = apk_installed([("musl", "1.2.4-r2", {"lib": [("ld-musl-x86_64.so.1", b"\x7fELF")]}),
                              ("openssl-test", "3.1.4-r0", shipped)])
    layer = [entry("lib/apk/db/installed", database), entry("usr/share/openssl/test/server.key", KEYCERT_KEY),
             entry("usr/share/openssl/test/other.key", SSL_KEY_KEY)]
    scan = scan_of(layout, [layer, [entry("usr/share/openssl/test/server.key", USER_KEY)]])
    assert owners(scan) == {
        ("/usr/share/openssl/test/server.key", 1): ("openssl-test", packages.SHIPPED),
        ("/usr/share/openssl/test/other.key", 1): ("openssl-test", packages.SHIPPED),  # no checksum: same layer
        ("/usr/share/openssl/test/server.key", 2): ("openssl-test", packages.REPLACED),
    }
    assert scan.packages_read == ["apk"]


def test_an_rpm_database_is_not_read_and_says_so(layout):
    scan = scan_of(layout, [[entry("var/lib/rpm/rpmdb.sqlite", b"SQLite format 3\x00"),
                             entry("etc/pki/tls/private/localhost.key", USER_KEY)]])
    assert owners(scan) == {("/etc/pki/tls/private/localhost.key", 1): (None, None)}
    assert scan.packages_unread.startswith("RPM database not read")


# --- bounds ---------------------------------------------------------------------------------------

def test_a_list_keeps_only_the_paths_that_could_be_secret_files():
    lines = "".join("/usr/share/doc/pkg/file%d.txt\n" % number for number in range(100000)) + "/etc/pkg/a.key\n"
    record = layering.read_layer(io.BytesIO(layer_tar([entry(INFO + "pkg.list", lines.encode())])),
                                 layering.Budget(ScanLimits(), lambda: 0, 10), layering.PathHasher(b"k" * 16))
    assert [(owned[2], owned[3]) for owned in record.packages.owned] == [("pkg", "/etc/pkg/a.key")]


def test_an_endless_line_in_a_package_database_is_skipped_not_kept():
    data = b"/etc/" + b"x" * (4 << 20) + b".key\n/etc/pkg/b.key\n"
    record = layering.read_layer(io.BytesIO(layer_tar([entry(INFO + "pkg.list", data)])),
                                 layering.Budget(ScanLimits(), lambda: 0, 10), layering.PathHasher(b"k" * 16))
    assert [owned[3] for owned in record.packages.owned] == ["/etc/pkg/b.key"]


def test_a_scan_that_does_not_know_the_layer_order_claims_no_package():
    data, image_id = LAYOUTS["classic"]([layer_tar(layer) for layer in brownfield_like()], with_manifest=False)
    scan = scan_save(io.BytesIO(data), image_id=image_id)
    assert scan.incomplete and scan.package_files == 0
    assert set(owners(scan).values()) == {(None, None)}


# --- the verdicts: BW-010 and 4.10 ----------------------------------------------------------------

def image_findings(scan, config_env=None):
    inspect = {"Id": "sha256:" + "ab" * 32, "RepoTags": ["shop/db:1"], "RepoDigests": [],
               "Config": {"Env": config_env or [], "User": "postgres"}}
    view = ImageView(inspect, history=[{"CreatedBy": "/bin/sh -c #(nop)  CMD [\"postgres\"]"}])
    view.scan = scan
    state = AuditState(options=AuditOptions(image_history=True), images={view.id: view})
    rules = [catalog.get("BW-010"), catalog.get("4.10")]
    return dict((finding.rule.id, finding.to_dict()) for finding in evaluate_images(rules, state))


def test_only_package_files_fail_bw010_and_410_at_low_severity(layout):
    scan = scan_of(layout, [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY)])
    found = image_findings(scan)
    assert found["BW-010"]["status"] == "fail" and found["BW-010"]["severity"] == "low"
    assert "package file (ssl-cert), generated by package ssl-cert's install script" in found["BW-010"]["evidence"]
    assert "%s (private key, %d bytes, layer 2 of 2, package file (libpython3.11-testsuite))" % (
        KEYCERT, len(KEYCERT_KEY)) in found["BW-010"]["evidence"]
    assert found["4.10"]["status"] == "fail" and found["4.10"]["severity"] == "low"
    assert "3 of them package files" in found["4.10"]["evidence"]


def test_a_package_file_beside_the_teams_key_leaves_the_verdict_at_its_severity(layout):
    found = image_findings(scan_of(layout, brownfield_like()))
    assert found["BW-010"]["status"] == "fail" and found["BW-010"]["severity"] == "critical"
    evidence = found["BW-010"]["evidence"]
    assert evidence.startswith("5 secret files (3 of them package files of the image's OS packages, low on their own): "
                               "%s (private key" % SERVER_KEY), evidence
    assert "%s (private key, %d bytes, layer 4 of 4, at a path of package libpython3.11-testsuite but not its file" % (
        SSL_KEY, len(USER_KEY)) in evidence
    assert found["4.10"]["severity"] == "high"


def test_a_secret_in_the_config_keeps_410_high_beside_package_files(layout):
    scan = scan_of(layout, [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY)])
    found = image_findings(scan, config_env=["DB_PASSWORD=Xq7rT2mLp9vK4wZs8bN3cY6d"])
    assert found["4.10"]["severity"] == "high" and found["BW-010"]["severity"] == "low"


def test_a_stopped_scan_never_lowers_the_severity(layout):
    scan = scan_of(layout, [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY)])
    scan.incomplete = "stopped after 1 s (scan_max_seconds)"
    found = image_findings(scan)
    assert found["BW-010"]["status"] == "fail" and found["BW-010"]["severity"] == "critical"


def test_an_rpm_image_says_its_database_was_not_read(layout):
    scan = scan_of(layout, [[entry("usr/lib/sysimage/rpm/rpmdb.sqlite", b"SQLite format 3\x00"),
                             entry("etc/pki/tls/private/localhost.key", USER_KEY)]])
    found = image_findings(scan)
    assert found["BW-010"]["severity"] == "critical"
    assert "RPM database not read" in found["BW-010"]["evidence"]


def test_a_scan_round_trips_through_the_cache_format(layout):
    scan = scan_of(layout, brownfield_like())
    assert LayerScan.from_dict(json.loads(json.dumps(scan.to_dict()))).to_dict() == scan.to_dict()
    older = scan.to_dict()
    for item in older["secret_files"]:
        del item["package"], item["package_source"]
    with pytest.raises(ValueError):
        LayerScan.from_dict(older)


def test_unused_directory_entries_of_dpkg_do_not_disturb_the_scan(layout):
    scan = scan_of(layout, [[entry("var/", None, 0o755, DIR), entry("var/lib/dpkg/info/", None, 0o755, DIR)]
                            + dpkg_base()])
    assert scan.incomplete is None and scan.packages_read == ["dpkg"]


# --- the readers, on their own --------------------------------------------------------------------

def wanted(path):
    return path.endswith((".key", ".pem")) or path.endswith("/.env")


def test_apk_gives_a_checksum_only_to_the_file_it_follows():
    database = io.BytesIO(b"P:app\nF:etc/app\nR:no-checksum.key\na:0:0:600\nR:README\nZ:Q1readme=\n\n")
    names = []
    assert packages.read_apk_installed(database, wanted, names.append) == [("/etc/app/no-checksum.key", "app", None)]
    assert names == ["app"]


def test_dpkg_status_counts_only_installed_packages_and_their_conffiles():
    removed = STATUS_SSL_CERT.replace("install ok installed", "deinstall ok config-files")
    conffile = STATUS_OPENSSL.replace(" /etc/ssl/openssl.cnf", " /etc/ssl/private/vendor.key %s\n /etc/ssl/openssl.cnf"
                                      % ("0" * 32))
    names = []
    found = packages.read_dpkg_status(io.BytesIO(status(conffile, removed, STATUS_LIBBSD)), wanted, names.append)
    assert names == ["openssl", "libbsd0"] and found == [("openssl", "/etc/ssl/private/vendor.key", "0" * 32)]


def test_md5sums_of_a_dot_name_at_the_root_are_read():
    data = io.BytesIO(b"%s  .env\n%s  usr/share/doc/x/README\n" % (b"1" * 32, b"2" * 32))
    assert packages.read_dpkg_md5sums(data, wanted, scanning.CANDIDATE_HINTS) == [("/.env", "1" * 32)]


def test_a_database_naming_more_packages_than_any_real_one_installs_none(layout, monkeypatch):
    monkeypatch.setattr(packages, "MAX_PACKAGES", 2)
    scan = scan_of(layout, [dpkg_base(), ssl_cert_install(SNAKEOIL_KEY, KEYCERT_KEY, SSL_KEY_KEY)])
    assert scan.package_files == 0 and set(owners(scan).values()) == {(None, None)}


def test_a_failure_names_only_a_known_severity():
    assert failed("x", severity="low").severity == "low" and failed("x").severity is None
    with pytest.raises(ValueError):
        failed("x", severity="minor")
