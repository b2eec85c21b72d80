# -*- coding: utf-8 -*-
"""The report library with hostile input, for everything it writes: file names from one slug function, labels
checked up front, results of any shape (a compromised host registers what it likes), text XML and HTML can carry,
modes, symlinks and a directory someone else could write, earlier reports the trend cannot use."""

from __future__ import annotations

import json
import os
import re
import stat
import xml.etree.ElementTree as ET

import pytest

import schema_check
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.report_fixtures import two_hosts
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import files, html, junit, model

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))))
NOW = "2026-11-26T05:36:56Z"
HOSTILE_NAMES = ["../../x", "..", ".", "/etc/passwd", "a/b", "a-b", "a b", "nul\x00byte", "esc\x1b[2Jape", "bell\x07",
                 "tab\there", "new\nline", "\udcff\udcfe", "rtl\u202egpj.exe", "\ufffe\uffff", "x" * 10000, "", "-", "--..--",
                 "caf\u00e9", "\u0663\u0664", "<script>alert(1)</script>", "a\\b", "con", "web1"]
# Characters no written text may hold: C0 controls (but tab, newline, carriage return), DEL, C1, lone surrogates,
# U+FFFE/FFFF, bidirectional controls.
FORBIDDEN = re.compile(u"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ud800-\udfff\ufffe\uffff"
                       u"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


@pytest.fixture(scope="module")
def schema():
    with open(os.path.join(TOP, "docs", "report-schema.json")) as handle:
        return json.load(handle)


def hostile_results():
    results = {}
    for name in HOSTILE_NAMES:
        host = two_hosts()["web1"]
        host["container_audit"]["findings"][0]["evidence"] = "evidence of %s" % name
        host["container_audit"]["findings"][1]["target"] = name
        results[name] = host
    return results


# --- file names ------------------------------------------------------------------------------------

def test_every_slug_is_a_plain_file_name_and_host_slugs_never_collide():
    slugs = [model.slug(name, unique=True) for name in HOSTILE_NAMES]
    assert len(set(slugs)) == len(HOSTILE_NAMES)
    for name, slugged in zip(HOSTILE_NAMES, slugs):
        assert files.SAFE_NAME.match(slugged) and len(slugged) <= model.MAX_SLUG + 9, (name, slugged)
        assert (slugged == name) == (files.SAFE_NAME.match(name) is not None and not name.startswith((".", "-"))
                                     and not name.endswith((".", "-")) and len(name) <= model.MAX_SLUG)
    assert model.slug("web1", unique=True) == "web1" and model.host_file_name("web1", "after hardening") == "web1-after-hardening.txt"
    assert model.slug("after hardening / v2") == "after-hardening-v2"


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_host_file_names_are_safe_for_any_host(name):
    file_name = model.host_file_name(name, "weekly")
    assert files.SAFE_NAME.match(file_name) and len(file_name.encode()) <= 255 and os.sep not in file_name


@pytest.mark.parametrize("label,ok", [
    ("weekly", True), ("after hardening", True), ("Prüfung 2026", True), ("v1.2_(eu)", True), ("x" * 100, True),
    ("x" * 101, False), ("", False), ("   ", False), ("a/b", False), ("../../x", False), ("back\\slash", False),
    ("nul\x00", False), ("esc\x1b", False), ("new\nline", False), ("\udcff", False), ("rtl\u202e", False), ("..", False),
    (None, False), (7, False),
])
def test_labels_are_checked(label, ok):
    assert (model.label_problem(label) is None) == ok


# --- results of any shape -----------------------------------------------------------------------------

GARBAGE = [
    {"container_audit": {"summary": {"score": "high", "cis_score": "x", "by_status": {"fail": "many", "pass": -3},
                                     "by_section": [1, 2], "failed_rules": "4.1", "level": True, "total": 1.5},
                         "findings": {"not": "a list"}, "duration_s": "slow", "containers": True}},
    {"container_audit": {"summary": {"score": float("nan"), "by_status": None, "by_section": {"\u00b2": {"fail": 1}, "5": "x"}},
                         "findings": [None, 7, "text", {"status": "exploded"},
                                      {"status": "fail", "rule": 4.1, "severity": "apocalyptic", "fix": "magic", "level": 9,
                                       "fixed_by": "role", "evidence": {"nested": ["x"]}, "scored": "yes"}]},
     "image_audit": {"summary": "none"}},
    {"container_audit": {"summary": {"score": 1e309}, "findings": []}, "image_audit": {"summary": {"score": -5}}},
    {"container_audit": {"failed": True, "msg": {"not": "text"}}},
    {"container_audit": "a string"},
    {},
]


def test_results_of_any_shape_make_a_report_that_matches_the_schema_and_renders(schema):
    results = dict(("host%d" % number, value) for number, value in enumerate(GARBAGE))
    results.update(hostile_results())
    built = model.build_report(results, "weekly", NOW)
    text = model.to_json(built)
    text.encode("utf-8")
    assert schema_check.errors(json.loads(text), schema) == []
    assert not FORBIDDEN.search(text)
    root = ET.fromstring(junit.render_junit(built).encode("utf-8"))
    assert len(root.findall("testsuite")) >= len(results)
    page = html.render_html(built, model.trend([], built))
    assert not FORBIDDEN.search(page) and "<script>alert" not in page
    model.summary_table(built)
    json.dumps(model.stats(built)).encode("utf-8")


def test_hostile_host_names_are_shown_escaped_and_distinct():
    built = model.build_report(hostile_results(), "weekly", NOW)
    names = [host["name"] for host in built["hosts"]]
    assert len(set(names)) == len(HOSTILE_NAMES)
    assert "esc\\x1b[2Jape" in names and "nul\\x00byte" in names and "\\xff\\xfe" in names and "rtl\\u202egpj.exe" in names
    assert "tab\\x09here" in names and "new\\x0aline" in names  # a host name is one line


# --- the files ---------------------------------------------------------------------------------------

def mode_of(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


@pytest.mark.parametrize("value,expected", [(None, 0o640), ("0640", 0o640), ("640", 0o640), ("0o600", 0o600), (0o644, 0o644),
                                            ("0660", 0o660)])
def test_modes(value, expected):
    assert files.parse_mode(value) == expected
    assert files.directory_mode(expected) == expected | (expected & 0o444) >> 2


@pytest.mark.parametrize("value", ["0755", "0400", "0200", "1640", "4640", "rw-r-----", "", "0o640x", 0o1000, -1, True, 1.5, [6, 4, 0]])
def test_bad_modes_are_refused(value):
    with pytest.raises(files.ReportError):
        files.parse_mode(value)


def test_files_0640_in_a_0750_directory_made_with_its_parents_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        written = files.write_reports(str(tmp_path / "new" / "reports"), model.build_report(two_hosts(), "weekly", NOW),
                                      texts={"web1-weekly.txt": "lines\n"})
    finally:
        os.umask(old)
    assert mode_of(tmp_path / "new") == mode_of(tmp_path / "new" / "reports") == 0o750
    assert sorted(mode_of(path) for path in [written["json"], written["junit"], written["html"]] + written["text"]) == [0o640] * 4


def test_a_report_directory_that_is_a_symlink_is_refused_and_nothing_is_written(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(files.ReportError, match="symlink"):
        files.write_reports(str(tmp_path / "link"), model.build_report(two_hosts(), "weekly", NOW))
    assert os.listdir(str(real)) == []


def test_a_report_directory_below_a_parent_others_can_write_is_refused(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(str(shared), 0o777)
    with pytest.raises(files.ReportError, match="writable by group or others"):
        files.write_reports(str(shared / "reports"), model.build_report(two_hosts(), "weekly", NOW))
    assert os.listdir(str(shared)) == []


def test_existing_report_files_that_are_symlinks_are_replaced_never_followed(tmp_path):
    built = model.build_report(two_hosts(), "weekly", NOW)
    outside = tmp_path / "outside"
    outside.write_text("precious\n")
    directory = tmp_path / "reports"
    directory.mkdir(mode=0o750)
    for name in list(model.file_names(built).values()) + ["web1-weekly.txt"]:
        (directory / name).symlink_to(outside)
    files.write_reports(str(directory), built, texts={"web1-weekly.txt": "lines\n"})
    assert outside.read_text() == "precious\n"
    assert not any(os.path.islink(str(directory / name)) for name in os.listdir(str(directory)))


def test_a_world_writable_directory_is_tightened_and_what_others_left_there_is_not_read(tmp_path):
    directory = tmp_path / "reports"
    directory.mkdir()
    os.chmod(str(directory), 0o777)
    earlier = model.build_report(two_hosts(), "weekly", "2026-11-01T00:00:00Z")
    planted = directory / ("bulwark-report-%s.json" % earlier["run"]["id"])
    planted.write_text(model.to_json(earlier))
    os.chmod(str(planted), 0o666)
    (directory / "bulwark-report-link.json").symlink_to("/etc/passwd")
    warnings = []
    written = files.write_reports(str(directory), model.build_report(two_hosts(), "weekly", NOW), warnings=warnings)
    assert mode_of(directory) == 0o750
    assert earlier["run"]["id"] not in open(written["html"]).read()
    assert any("writable by group or others (mode 0777)" in warning for warning in warnings)
    assert any(planted.name in warning and "writable by group or others" in warning for warning in warnings)
    assert any("bulwark-report-link.json" in warning for warning in warnings)


def test_refused_names_are_never_written(tmp_path):
    for name in ["../x.txt", "a/b.txt", ".hidden", "", "x" * 300, "nul\x00.txt"]:
        with pytest.raises(files.ReportError):
            files.write_reports(str(tmp_path / "reports"), model.build_report(two_hosts(), "weekly", NOW), texts={name: "x"})
    assert not (tmp_path / "reports").exists()


# --- the trend ---------------------------------------------------------------------------------------

def earlier_document(**changes):
    document = json.loads(model.to_json(model.build_report(two_hosts(), "weekly", "2026-11-01T00:00:00Z")))
    for path, value in changes.items():
        where = document
        keys = path.split("__")
        for key in keys[:-1]:
            where = where[key]
        where[keys[-1]] = value
    return document


@pytest.mark.parametrize("changes,why", [
    ({"summary__score": "high"}, "summary.score"),
    ({"summary__score": True}, "summary.score"),
    ({"summary__score": 250}, "summary.score"),
    ({"summary__score": [50]}, "summary.score"),
    ({"summary__by_status__fail": "x"}, "fail"),
    ({"run__generated_at": 20261101}, "generated_at"),
    ({"run__generated_at": "yesterday"}, "generated_at"),
    ({"run__label": None}, "run.label"),
    ({"hosts": {"web1": 1}}, "host"),
    ({"hosts": [{"name": "web1", "score": "x"}]}, "host"),
    ({"run": []}, "not a report"),
])
def test_an_earlier_report_the_trend_cannot_use_is_skipped_with_a_warning(tmp_path, changes, why):
    name = "bulwark-report-20261101T000000Z-weekly.json"
    (tmp_path / name).write_text(json.dumps(earlier_document(**changes)))
    warnings = []
    assert model.load_history(str(tmp_path), warnings=warnings) == []
    assert len(warnings) == 1 and name in warnings[0] and why in warnings[0]
    built = model.build_report(two_hosts(), "weekly", NOW)
    html.render_html(built, model.trend(model.load_history(str(tmp_path)), built))


@pytest.mark.parametrize("content", [b"NaN", b'{"score": NaN}', b"\xff\xfe", b"[" * 100000, b"{not json"])
def test_unreadable_earlier_reports_are_skipped_with_a_warning(tmp_path, content):
    (tmp_path / "bulwark-report-odd.json").write_bytes(content)
    warnings = []
    assert model.load_history(str(tmp_path), warnings=warnings) == [] and len(warnings) == 1


def test_text_of_earlier_reports_is_made_printable(tmp_path):
    document = earlier_document(run__label="week\x1bly\u202e", hosts=[{"name": "h\x00", "score": 10}])
    (tmp_path / "bulwark-report-20261101T000000Z-weekly.json").write_text(json.dumps(document))
    [point] = model.load_history(str(tmp_path))
    assert point["label"] == "week\\x1bly\\u202e" and point["hosts"] == {"h\\x00": 10}
