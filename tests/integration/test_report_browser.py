# -*- coding: utf-8 -*-
"""The HTML compliance report in a real browser: headless Chromium (Debian's package) loads the page written from
fixture results (two hosts, two earlier runs for the trend), and the test reads what the page's script RENDERED
from the dumped DOM: the visible-row count after the default filter (status fail), the per-severity count, the
total, the trend points. A screenshot is saved as .cache/report-browser/report.png.

`make integration` installs chromium first (scripts/integration-tools.sh, root on Debian only); without it this test skips.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.report_fixtures import HOSTILE, two_hosts
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import files, model

pytestmark = pytest.mark.integration

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCREENSHOTS = os.path.join(TOP, ".cache", "report-browser")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args):
    command = [CHROMIUM, "--headless", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage", "--hide-scrollbars",
               "--user-data-dir=" + os.path.join(SCREENSHOTS, "profile")]
    if os.geteuid() == 0:
        command.append("--no-sandbox")  # Chromium refuses to run as root with its sandbox
    done = subprocess.run(command + list(args), capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def earlier_run(directory, when, bias):
    results = two_hosts()
    for host in results.values():
        host["container_audit"]["summary"]["score"] += bias
    files.write_reports(directory, model.build_report(results, "weekly", when))


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (as root on Debian: scripts/integration-tools.sh, or apt-get install chromium)")
    directory = str(tmp_path_factory.mktemp("reports"))
    earlier_run(directory, "2026-11-12T06:00:00Z", -30)  # mean score 20.0
    earlier_run(directory, "2026-11-19T06:00:00Z", -10)  # 40.0
    report = model.build_report(two_hosts(hostile=True), "weekly", "2026-11-26T06:00:00Z")
    return report, files.write_reports(directory, report)


@pytest.fixture(scope="module")
def dom(written):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    return chromium("--virtual-time-budget=5000", "--dump-dom", "file://" + written[1]["html"])


def test_script_ran_and_counted_the_failing_rows(written, dom):
    report = written[0]
    fails = report["summary"]["by_status"]["fail"]
    assert fails == 7
    assert 'data-ready="yes"' in dom, "the page's script did not run"
    # In the file the counters are '?': these numbers exist only once the script ran.
    assert re.search(r'<b id="visible-count">(\d+)</b>', dom).group(1) == str(fails)
    assert re.search(r'<b id="total-count">(\d+)</b>', dom).group(1) == "13"
    assert re.search(r'<span id="visible-severity">([^<]*)</span>', dom).group(1) == "critical 2, high 1, medium 2, low 2"
    rows = re.findall(r'<tr data-host="[^"]*" data-status="(\w+)"[^>]*?( hidden="")?>', dom)
    assert len(rows) == 13
    assert sorted(status for status, hidden in rows if not hidden) == ["fail"] * 7
    assert all(hidden for status, hidden in rows if status != "fail")


def test_rendered_numbers_trend_and_no_injected_markup(written, dom):
    assert re.search(r'<b id="run-score">([^<]+)</b>', dom).group(1) == "50.0%"
    assert re.search(r'<b id="run-hosts">([^<]+)</b>', dom).group(1) == "2 / 2"
    assert re.findall(r'class="trend-point" data-run="[^"]+" data-score="([^"]+)"', dom) == ["20.0", "40.0", "50.0"]
    assert HOSTILE not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    assert dom.count("<script>") == 1


def test_screenshot(written, dom):
    path = os.path.join(SCREENSHOTS, "report.png")
    if os.path.exists(path):
        os.unlink(path)
    chromium("--window-size=1280,2200", "--virtual-time-budget=5000", "--screenshot=" + path, "file://" + written[1]["html"])
    with open(path, "rb") as handle:
        assert handle.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(path) > 20000


def test_hostile_host_names_and_labels_render_escaped_and_the_script_still_runs(tmp_path):
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (as root on Debian: scripts/integration-tools.sh, or apt-get install chromium)")
    results = two_hosts()
    evil = "evil\x1b[2J\u202e<b>x</b>\udcff\x00"
    results[evil] = results.pop("web1")
    results[evil]["container_audit"]["findings"][0]["evidence"] = "icc=true\x07\u2066hidden\u2069"
    report = model.build_report(results, "weekly (eu)", "2026-11-26T06:00:00Z")
    written = files.write_reports(str(tmp_path / "reports"), report)
    dom = chromium("--virtual-time-budget=5000", "--dump-dom", "file://" + written["html"])
    assert 'data-ready="yes"' in dom
    assert "evil\\x1b[2J\\u202e&lt;b&gt;x&lt;/b&gt;\\xff\\x00" in dom and "<b>x</b>" not in dom
    assert "icc=true\\x07\\u2066hidden\\u2069" in dom
    assert not re.search(u"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u202a-\u202e\u2066-\u2069]", dom)
    assert re.search(r'<b id="visible-count">(\d+)</b>', dom).group(1) == str(report["summary"]["by_status"]["fail"])
