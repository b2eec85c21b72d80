# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""A compliance report as one self-contained HTML page.

Inline CSS, inline SVG charts drawn here (pass/fail per section, the score
over earlier runs) and a few lines of vanilla JavaScript that filter and
sort the findings table; nothing is fetched from anywhere (a Content Security
Policy forbids it, and allows only this page's own script by its hash).
Every value from the report goes through esc(): unprintable characters
(controls, undecodable bytes, bidirectional overrides that would reorder
what is shown) become backslash escapes (common.safe_text), then html.escape.
The evidence comes masked from the audit and is shown as it is, never unmasked.
"""

from __future__ import annotations

import base64
import hashlib
import html

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import SECTIONS
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import FAIL, SEVERITIES, SKIPPED, WAIVED, WARN, severity_rank

SECTION_TITLES = dict(SECTIONS.values())
# Severities worst first: the choices of the severity filter and the order the page counts the shown findings in.
SEVERITIES_WORST_FIRST = tuple(reversed(SEVERITIES))
# Findings the table lists; the page opens filtered on fail.
TABLE_STATUSES = (FAIL, WARN, WAIVED, SKIPPED)
COLORS = {"pass": "#2e7d32", "fail": "#c62828", "warn": "#ef8f00", "waived": "#7b7b7b"}

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem;color:#1d1d1f;background:#fafafa}
h1{font-size:1.4rem;margin:0 0 .2rem}h2{font-size:1.1rem;margin:1.6rem 0 .5rem;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:.9rem}
table{border-collapse:collapse;background:#fff;font-size:.85rem}
th,td{border:1px solid #ddd;padding:.25rem .45rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.n{text-align:right;font-variant-numeric:tabular-nums}
#findings th{cursor:pointer;user-select:none}#findings th[aria-sort=ascending]::after{content:" \\25B2"}
#findings th[aria-sort=descending]::after{content:" \\25BC"}
#findings td.ev,#findings td.rem{max-width:28rem;word-break:break-word}
.s-fail{color:#c62828;font-weight:600}.s-warn{color:#ef8f00}.s-waived,.s-skipped{color:#7b7b7b}
.sev-critical{background:#fde0e0}.sev-high{background:#fff0e0}
.cards{display:flex;gap:.8rem;flex-wrap:wrap}.card{background:#fff;border:1px solid #ddd;padding:.5rem .8rem;min-width:8rem}
.card b{display:block;font-size:1.3rem}.missing{color:#c62828}.explain{color:#555;font-size:.85rem;max-width:60rem}
.filters{margin:.4rem 0;display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}
code{font-size:.8rem}
"""

# The page's script; the severities it counts by come from rules.status (see JS below).
_JS_TEMPLATE = """
(function () {
  var table = document.getElementById('findings');
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var text = document.getElementById('f-text'), severity = document.getElementById('f-severity');
  var host = document.getElementById('f-host'), status = document.getElementById('f-status');
  function apply() {
    var needle = text.value.toLowerCase(), shown = 0, bySeverity = {};
    rows.forEach(function (row) {
      var ok = (!needle || row.textContent.toLowerCase().indexOf(needle) >= 0) &&
        (!severity.value || row.dataset.severity === severity.value) &&
        (!host.value || row.dataset.host === host.value) && (!status.value || row.dataset.status === status.value);
      row.hidden = !ok;
      if (ok) { shown += 1; bySeverity[row.dataset.severity] = (bySeverity[row.dataset.severity] || 0) + 1; }
    });
    document.getElementById('visible-count').textContent = String(shown);
    document.getElementById('visible-severity').textContent = @SEVERITIES_WORST_FIRST@.filter(function (s) {
      return bySeverity[s]; }).map(function (s) { return s + ' ' + bySeverity[s]; }).join(', ') || 'none';
  }
  [text, severity, host, status].forEach(function (el) { el.addEventListener('input', apply); el.addEventListener('change', apply); });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, index) {
    th.addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      rows.sort(function (a, b) {
        var x = a.cells[index].dataset.sort || a.cells[index].textContent, y = b.cells[index].dataset.sort || b.cells[index].textContent;
        var c = (isNaN(x) || isNaN(y) || x === '' || y === '') ? x.localeCompare(y, undefined, {numeric: true}) : x - y;
        return ascending ? c : -c;
      });
      rows.forEach(function (row) { table.tBodies[0].appendChild(row); });
    });
  });
  document.getElementById('total-count').textContent = String(rows.length);
  apply();
  document.body.setAttribute('data-ready', 'yes');
})();
"""
JS = _JS_TEMPLATE.replace("@SEVERITIES_WORST_FIRST@", "[%s]" % ", ".join("'%s'" % severity for severity in SEVERITIES_WORST_FIRST))


def esc(value):
    """Text or attribute value: printable (common.safe_text), then HTML-escaped (quotes included)."""
    return html.escape(escape_unprintable("" if value is None else value, keep_whitespace=True), quote=True)


def _score(value):
    return "n/a" if value is None else "%.1f%%" % value


def _section_title(section):
    return SECTION_TITLES.get(section, "")


def _section_totals(report):
    totals = {}
    for host in report["hosts"]:
        for section, counts in host["by_section"].items():
            total = totals.setdefault(section, dict.fromkeys(COLORS, 0))
            for status in COLORS:
                total[status] += counts.get(status, 0)
    return totals


def section_chart(report):
    """Inline SVG: one stacked bar per section (pass, fail, warn, waived summed over the hosts)."""
    totals = _section_totals(report)
    if not totals:
        return '<p class="empty">No section was audited.</p>'
    largest = max(sum(counts.values()) for counts in totals.values()) or 1
    label_w, bar_w, row_h = 250, 420, 24
    height = row_h * len(totals) + 30
    parts = ['<svg id="section-chart" role="img" aria-label="pass and fail per section" width="%d" height="%d" viewBox="0 0 %d %d">'
             % (label_w + bar_w + 150, height, label_w + bar_w + 150, height)]
    for index, section in enumerate(totals):
        counts = totals[section]
        y = index * row_h + 4
        parts.append('<text x="0" y="%d" font-size="12">%s %s</text>' % (y + 14, esc(section), esc(_section_title(section))))
        x = label_w
        for status in COLORS:
            width = bar_w * counts[status] / float(largest)
            if counts[status]:
                parts.append('<rect class="bar-%s" data-section="%s" data-count="%d" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s">'
                             '<title>%s %s: %d</title></rect>' % (status, esc(section), counts[status], x, y, max(width, 1), row_h - 8,
                                                                  COLORS[status], esc(section), status, counts[status]))
            x += width
        parts.append('<text x="%.1f" y="%d" font-size="11" fill="#444">%d pass, %d fail</text>'
                     % (x + 6, y + 13, counts["pass"], counts["fail"]))
    legend_y = len(totals) * row_h + 20
    for offset, status in enumerate(COLORS):
        parts.append('<rect x="%d" y="%d" width="10" height="10" fill="%s"></rect><text x="%d" y="%d" font-size="11">%s</text>'
                     % (label_w + offset * 80, legend_y - 9, COLORS[status], label_w + offset * 80 + 14, legend_y, status))
    parts.append("</svg>")
    return "".join(parts)


def trend_chart(points):
    """Inline SVG: the run's mean score (0-100 %) per run, oldest left; runs without a score leave a gap."""
    if not points:
        return '<p class="empty">No run yet.</p>'
    left, top, width, height = 40, 10, 560, 140
    step = width / float(max(len(points) - 1, 1))
    parts = ['<svg id="trend-chart" role="img" aria-label="score per run" width="%d" height="%d" viewBox="0 0 %d %d">'
             % (left + width + 30, top + height + 40, left + width + 30, top + height + 40)]
    for value in (0, 50, 100):
        y = top + height - height * value / 100.0
        parts.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"></line><text x="0" y="%.1f" font-size="10">%d%%</text>'
                     % (left, left + width, y, y, y + 3, value))
    coordinates = []
    for index, point in enumerate(points):
        x = left + (step * index if len(points) > 1 else width / 2.0)
        parts.append('<text x="%.1f" y="%d" font-size="9" text-anchor="middle">%d</text>' % (x, top + height + 14, index + 1))
        if point.get("score") is None:
            coordinates.append(None)
            continue
        y = top + height - height * point["score"] / 100.0
        coordinates.append((x, y))
    segment = []
    for coordinate in coordinates + [None]:
        if coordinate is None:
            if len(segment) > 1:
                parts.append('<polyline fill="none" stroke="#1565c0" stroke-width="2" points="%s"></polyline>'
                             % " ".join("%.1f,%.1f" % pair for pair in segment))
            segment = []
        else:
            segment.append(coordinate)
    for index, (point, coordinate) in enumerate(zip(points, coordinates)):
        if coordinate is None:
            continue
        last = index == len(points) - 1
        parts.append('<circle class="trend-point" data-run="%s" data-score="%s" cx="%.1f" cy="%.1f" r="%d" fill="%s"><title>%s %s: %s</title></circle>'
                     % (esc(point["id"]), esc(point["score"]), coordinate[0], coordinate[1], 5 if last else 3,
                        "#c62828" if last else "#1565c0", esc(point["generated_at"]), esc(point["label"]), _score(point["score"])))
    parts.append('<text x="%d" y="%d" font-size="10">run (oldest left, this run in red)</text></svg>' % (left, top + height + 32))
    return "".join(parts)


def profile(level, cis_version=None):
    """What a host was audited against: "CIS v1.8 Level 1 profile" (Level 1 rules only) or "CIS v1.8 Level 2 profile"
    (every rule); without the version when the audit did not report it."""
    if level is None:
        return "CIS v%s, level not reported" % cis_version if cis_version else "not reported"
    return "CIS %sLevel %s profile" % ("v%s " % cis_version if cis_version else "", level)


# What each figure the page shows means, next to where it shows it (the hosts table's headers carry it as a tooltip,
# the paragraph under the table spells it out). Counts are over findings, one rule's verdict on one target, each
# counted once over both audits.
EXPLAIN = {
    "profile": "the CIS Docker Benchmark version and profile level audited: Level 1 the Level 1 rules only, Level 2 every rule",
    "score": "passed / (passed + failed) over the host's findings of scored rules, in percent, each finding counted "
             "once over both audits; warn, info, skipped and waived count in neither",
    "image score": "the same over the image audit's findings the host counts",
    "cis_score": "the benchmark's own tally over the same findings: +1 per scored pass, -1 per scored fail",
    "counts": "findings (one rule's verdict on one target) per status, each counted once: when both audits judge one "
              "image, the image audit's verdict counts for image rules and the container audit's for how a container "
              "runs it (4.1, BW-005, BW-006); docs/report-schema.md",
    "mean score": "the mean of the audited hosts' scores",
}


def _explained_header(name, key=None):
    return '<th title="%s">%s</th>' % (esc(EXPLAIN[key or name]), esc(name))


def _hosts_table(report):
    rows = ['<table id="hosts"><thead><tr><th>host</th>', _explained_header("profile"), _explained_header("score"),
            _explained_header("image score"), _explained_header("cis_score"), _explained_header("fail", "counts"),
            _explained_header("warn", "counts"), _explained_header("waived", "counts"), _explained_header("pass", "counts"),
            '<th>critical fails</th><th>high fails</th></tr></thead><tbody>']
    for host in report["hosts"]:
        if host["status"] != "audited":
            rows.append('<tr data-host="%s"><td>%s</td><td colspan="10" class="missing">not audited: %s</td></tr>'
                        % (esc(host["name"]), esc(host["name"]), esc(host.get("error"))))
            continue
        counts = host["by_status"]
        rows.append('<tr data-host="%s"><td>%s</td><td class="profile" data-level="%s">%s</td><td class="n">%s</td><td class="n">%s</td>'
                    '<td class="n">%s</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td><td class="n">%d</td>'
                    '<td class="n">%d</td><td class="n">%d</td></tr>'
                    % (esc(host["name"]), esc(host["name"]), esc(host.get("level", "")),
                       esc(profile(host.get("level"), host.get("cis_version"))),
                       _score(host["score"]), _score(host["image_score"]), esc(host["cis_score"]),
                       counts["fail"], counts["warn"], counts["waived"], counts["pass"], host["fail_by_severity"].get("critical", 0),
                       host["fail_by_severity"].get("high", 0)))
    rows.append("</tbody></table>")
    rows.append('<p class="explain" id="explain-hosts"><b>score</b>: %s. <b>image score</b>: %s. <b>cis_score</b>: %s. '
                '<b>fail, warn, waived, pass</b>: %s.</p>' % (esc(EXPLAIN["score"]), esc(EXPLAIN["image score"]),
                                                              esc(EXPLAIN["cis_score"]), esc(EXPLAIN["counts"])))
    return "".join(rows)


def _sections_table(report):
    hosts = [host for host in report["hosts"] if host["status"] == "audited"]
    sections = list(_section_totals(report))
    if not sections:
        return ""
    rows = ['<table id="sections"><thead><tr><th>section</th>']
    rows.extend('<th title="%s">%s<br>fail / pass</th>' % (esc(EXPLAIN["counts"]), esc(host["name"])) for host in hosts)
    rows.append("</tr></thead><tbody>")
    for section in sections:
        rows.append('<tr><td>%s %s</td>' % (esc(section), esc(_section_title(section))))
        for host in hosts:
            counts = host["by_section"].get(section)
            if counts is None:
                rows.append('<td class="n">-</td>')
            else:
                rows.append('<td class="n"><span class="%s">%d</span> / %d</td>'
                            % ("s-fail" if counts.get("fail") else "", counts.get("fail", 0), counts.get("pass", 0)))
        rows.append("</tr>")
    rows.append("</tbody></table>")
    return "".join(rows)


def _trend_table(points):
    rows = ['<table id="trend"><thead><tr><th>#</th><th>run</th><th>label</th>', _explained_header("score", "mean score"),
            _explained_header("fail", "counts"), '</tr></thead><tbody>']
    for index, point in enumerate(points):
        rows.append('<tr><td class="n">%d</td><td>%s</td><td>%s</td><td class="n">%s</td><td class="n">%s</td></tr>'
                    % (index + 1, esc(point["generated_at"]), esc(point["label"]), _score(point["score"]), esc(point.get("fail"))))
    rows.append("</tbody></table>")
    return "".join(rows)


def table_findings(report):
    """(host, finding) pairs the findings table lists: problems only, worst severity first."""
    pairs = [(host["name"], finding) for host in report["hosts"] for finding in host["findings"] if finding.get("status") in TABLE_STATUSES]
    return sorted(pairs, key=lambda pair: (TABLE_STATUSES.index(pair[1]["status"]), -severity_rank(pair[1].get("severity")),
                                           pair[0], pair[1].get("rule", ""), pair[1].get("target", "")))


def _select(identifier, label, values, selected=""):
    options = ['<option value="">%s: all</option>' % esc(label)]
    options.extend('<option value="%s"%s>%s</option>' % (esc(value), " selected" if value == selected else "", esc(value)) for value in values)
    return '<label>%s <select id="%s">%s</select></label>' % (esc(label), identifier, "".join(options))


def _findings_table(report):
    pairs = table_findings(report)
    hosts = [host["name"] for host in report["hosts"]]
    statuses = [status for status in TABLE_STATUSES if any(finding["status"] == status for host_name, finding in pairs)]
    default = "fail" if "fail" in statuses else ""
    parts = ['<div class="filters"><input id="f-text" type="search" placeholder="filter text" aria-label="filter text">',
             _select("f-severity", "severity", SEVERITIES_WORST_FIRST),
             _select("f-host", "host", hosts), _select("f-status", "status", statuses, default),
             '<span><b id="visible-count">?</b> of <b id="total-count">?</b> findings shown (by severity: <span id="visible-severity">?</span>)'
             '</span></div>',
             '<table id="findings"><thead><tr><th>host</th><th>section</th><th>rule</th><th>title</th><th>target</th><th>status</th>'
             '<th>severity</th><th>evidence</th><th>remediation</th><th>fixed by; why still open</th></tr></thead><tbody>']
    for host, finding in pairs:
        fixed = ", ".join(finding.get("fixed_by") or [])
        if finding.get("left_open"):
            fixed = (fixed + "; " if fixed else "") + "left open: " + finding["left_open"]
        elif finding["status"] == "fail":
            fixed = (fixed + "; " if fixed else "") + "no reason given"
        severity = finding.get("severity", "")
        parts.append(
            '<tr data-host="%s" data-status="%s" data-severity="%s" data-source="%s" class="sev-%s">'
            '<td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="s-%s">%s</td><td data-sort="%d">%s</td>'
            '<td class="ev">%s</td><td class="rem">%s</td><td>%s</td></tr>'
            % (esc(host), esc(finding["status"]), esc(severity), esc(finding.get("source")), esc(severity),
               esc(host), esc(finding.get("section")), esc(finding.get("rule")), esc(finding.get("title")), esc(finding.get("target")),
               esc(finding["status"]), esc(finding["status"]), severity_rank(severity), esc(severity),
               esc(finding.get("evidence")), esc(finding.get("remediation")), esc(fixed)))
    parts.append("</tbody></table>")
    if not pairs:
        parts.append('<p class="empty">No failing, warning, waived or skipped finding.</p>')
    return "".join(parts)


def benchmark(report):
    """The CIS Docker Benchmark version(s) the audited hosts were audited against, as the page names them."""
    versions = sorted(set(host["cis_version"] for host in report["hosts"] if host.get("cis_version")))
    return "CIS Docker Benchmark %s" % ", ".join("v%s" % version for version in versions) if versions else "CIS Docker Benchmark"


def _script_hash(script):
    return "sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")


def render_html(report, points):
    """The page for report; points is the trend (model.trend()), oldest first, this run last."""
    run = report["run"]
    summary = report["summary"]
    csp = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src '%s'" % _script_hash(JS)
    counts = summary["by_status"]
    missing = ""
    if summary["missing"]:
        missing = '<p class="missing">Not audited: %s</p>' % esc(", ".join(summary["missing"]))
    return "".join([
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="%s">' % esc(csp),
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Compliance report: %s (%s)</title>" % (esc(run["label"]), esc(run["generated_at"])),
        "<style>%s</style></head><body>" % CSS,
        "<h1>Compliance report: %s</h1>" % esc(run["label"]),
        '<p class="meta">run <code>%s</code>, %s UTC%s; %s and bulwark rules; bulwark.hardening %s</p>'
        % (esc(run["id"]), esc(run["generated_at"]), " (check mode)" if run.get("check_mode") else "", esc(benchmark(report)),
           esc(run.get("collection_version") or "")),
        '<div class="cards">',
        '<div class="card">mean score<b id="run-score">%s</b></div>' % _score(summary["score"]),
        '<div class="card">hosts audited<b id="run-hosts">%d / %d</b></div>' % (summary["audited"], summary["hosts"]),
        '<div class="card">fail<b id="run-fail" class="s-fail">%d</b></div>' % counts["fail"],
        '<div class="card">warn<b>%d</b></div><div class="card">waived<b>%d</b></div>' % (counts["warn"], counts["waived"]),
        '<div class="card">pass<b>%d</b></div>' % counts["pass"],
        "</div>",
        '<p class="explain" id="explain-cards"><b>mean score</b>: %s (each host\'s score: %s). <b>fail, warn, waived, '
        'pass</b> (over every host): %s.</p>' % (esc(EXPLAIN["mean score"]), esc(EXPLAIN["score"]), esc(EXPLAIN["counts"])),
        missing,
        "<h2>Hosts</h2>", _hosts_table(report),
        "<h2>Sections</h2>", section_chart(report), _sections_table(report),
        "<h2>Trend</h2>", trend_chart(points), _trend_table(points),
        "<h2>Findings</h2>", _findings_table(report),
        "<script>%s</script></body></html>\n" % JS,
    ])
