"""The report renderers at fleet size: a report of 40,000 findings (8 hosts of 5,000) rendered as JSON, JUnit XML
and HTML, each the median of a few repeats, with the size of each file.

    .venv/bin/python benchmarks/report_render.py [--findings 40000] [--hosts 8] [--repeats 5] [--write DIR] [--chromium]

The results are made up (tests/unit/plugins/plugin_utils/report/fleet_results.py: the catalog's real rules, CIS
v1.8 Level 2, about half of the findings passing) and turned into the report by model.build_report, as
compliance_report does. --write keeps the three files in DIR to look at. --chromium also loads the HTML in headless
Chromium (over the DevTools pipe, as tests/integration/test_report_browser.py does) and reports the time from
navigation to the first page of findings drawn, then to the last page and to a text filter over every finding.
No Docker needed.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

import measure  # links the collection's import path (tests/farm.py) first
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report import html, junit, model
from ansible_collections.bulwark.hardening.tests.unit.plugins.plugin_utils.report.fleet_results import fleet_results

NOW = "2026-11-26T06:00:00Z"


def timed(function, repeats):
    """(median wall seconds, median CPU seconds of this process, result of the last call) of `repeats` calls. The
    CPU time is the steadier figure on a machine others share: rendering is single-threaded pure Python."""
    walls, cpus = [], []
    result = None
    for _repeat in range(repeats):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = function()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - started_cpu)
    return statistics.median(walls), statistics.median(cpus), result


def render_figures(report, repeats):
    """{output: {"s": median seconds, "cpu_s": median CPU seconds, "bytes": size in UTF-8}} for JSON, JUnit and
    HTML, and the texts."""
    points = model.trend([], report)
    renderers = (("json", lambda: model.to_json(report)), ("junit", lambda: junit.render_junit(report)),
                 ("html", lambda: html.render_html(report, points)))
    figures, texts = {}, {}
    for name, render in renderers:
        seconds, cpu_seconds, text = timed(render, repeats)
        figures[name] = {"s": round(seconds, 3), "cpu_s": round(cpu_seconds, 3), "bytes": len(text.encode("utf-8"))}
        texts[name] = text
    return figures, texts


def chromium_figures(path):
    """Times the page takes in headless Chromium (ms): first page of findings drawn, then the last page, then a
    text filter over every finding; None when Chromium is not installed."""
    from ansible_collections.bulwark.hardening.tests.integration import test_report_browser as browser  # pylint: disable=import-outside-toplevel
    if browser.CHROMIUM is None:
        return None
    with browser.DevTools() as tools:
        return browser.page_timings(tools, "file://" + path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--findings", type=int, default=40000)
    parser.add_argument("--hosts", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--write", help="keep the JSON, JUnit and HTML files in this directory")
    parser.add_argument("--chromium", action="store_true", help="also time the HTML in headless Chromium")
    args = parser.parse_args()
    started = time.perf_counter()
    results = fleet_results(args.findings, args.hosts)
    made = time.perf_counter() - started
    build_s, _cpu, report = timed(lambda: model.build_report(results, "fleet", NOW), 1)
    listed = sum(len(host["findings"]) for host in report["hosts"])
    figures, texts = render_figures(report, args.repeats)
    out = {"machine": measure.machine(), "load_before": os.getloadavg()[0], "findings": listed, "hosts": args.hosts, "repeats": args.repeats,
           "report_version": report.get("version"), "results_made_s": round(made, 2), "build_report_s": round(build_s, 3),
           "table_rows": len(html.table_findings(report)), "render": figures}
    with tempfile.TemporaryDirectory(prefix="bulwark-report-render-") as scratch:
        directory = args.write or scratch
        if args.write or args.chromium:
            os.makedirs(directory, exist_ok=True)
            for name, suffix in (("json", ".json"), ("junit", ".xml"), ("html", ".html")):
                with open(os.path.join(directory, "fleet" + suffix), "w", encoding="utf-8") as handle:
                    handle.write(texts[name])
        if args.write:
            out["written"] = directory
        if args.chromium:
            out["chromium_ms"] = chromium_figures(os.path.join(directory, "fleet.html"))
    for name, figure in figures.items():
        print("%-5s %7.3f s (CPU %.3f s)  %6.1f MB" % (name, figure["s"], figure["cpu_s"], figure["bytes"] / 1e6), file=sys.stderr)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
