# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""A compliance report as one self-contained HTML page.

Inline CSS, inline SVG charts drawn here (pass/fail per section, the score
over earlier runs) and a small vanilla JavaScript that draws the findings
table; nothing is fetched from anywhere (a Content Security Policy forbids
it, and allows only this page's own script by its hash).

Everything but the findings table is static HTML. A fleet's report lists tens
of thousands of findings, more than a browser lays out as table rows in
reasonable time (40,000 findings made a page that took Chromium 16 s to
show), so the table's findings are in the page once as JSON data
(findings_data: each text once, each rule's title and remediation once, a
row a few numbers) and the script draws them PAGE_SIZE rows at a time. The
filters (text, severity, host, status) and the sort act on every finding,
not only the page shown; the page's address after '#' holds the filters,
sort and page number (#status=warn&host=web1&page=3), so a link opens the
same view. Without JavaScript the summary tables, charts and counts remain.

Every value from the report goes through esc() (markup) or _clean() (the
JSON data): unprintable characters (controls, undecodable bytes,
bidirectional overrides that would reorder what is shown) become backslash
escapes (common.safe_text); esc() then HTML-escapes, script_json() makes the
data unable to end its <script> element (every '<', '>' and '&' in it is a
JSON \\u escape), and the script puts the data into the page as text only.
The evidence comes masked from the audit and is shown as it is, never unmasked.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import SECTIONS
from ansible_collections.bulwark.hardening.plugins.module_utils.common.safe_text import escape_unprintable
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import FAIL, SEVERITIES, SKIPPED, WAIVED, WARN, severity_rank
from ansible_collections.bulwark.hardening.plugins.plugin_utils.report.model import details

SECTION_TITLES = dict(SECTIONS.values())
# Severities worst first: the choices of the severity filter and the order the page counts the shown findings in.
SEVERITIES_WORST_FIRST = tuple(reversed(SEVERITIES))
# Findings the table lists; the page opens filtered on fail.
TABLE_STATUSES = (FAIL, WARN, WAIVED, SKIPPED)
COLORS = {"pass": "#2e7d32", "fail": "#c62828", "warn": "#ef8f00", "waived": "#7b7b7b"}
# Rows of the findings table the script draws at a time.
PAGE_SIZE = 200
# What each row of findings_data() holds, in order: indexes into its strings (rule: into its rules; left_open: -1 when none).
DATA_FIELDS = ("host", "rule", "target", "status", "severity", "evidence", "left_open", "source")

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
.filters,.pager{margin:.4rem 0;display:flex;gap:.5rem;flex-wrap:wrap;align-items:center}
.pager input{width:5rem}
code{font-size:.8rem}
"""

# The page's script. It reads findings_data() from the page, filters, sorts and pages it, and draws the rows of one
# page with text nodes (never markup). The state is in the address after '#' (q, severity, host, status, sort, dir,
# page; page=last is the last page), read at load and when it changes. The severities it counts by come from
# rules.status, the page size from PAGE_SIZE (see JS below).
_JS_TEMPLATE = """
(function () {
  'use strict';
  var PAGE_SIZE = @PAGE_SIZE@, SEVERITIES = @SEVERITIES_WORST_FIRST@, FILTERS = ['severity', 'host', 'status'];
  function byId(id) { return document.getElementById(id); }
  var data = JSON.parse(byId('findings-data').textContent);
  var strings = data.strings, rules = data.rules, rows = data.rows, width = data.fields.length, at = {};
  data.fields.forEach(function (name, index) { at[name] = index; });
  var total = rows.length / width, table = byId('findings'), body = table.tBodies[0];
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  var controls = {q: byId('f-text'), severity: byId('f-severity'), host: byId('f-host'), status: byId('f-status')};
  var pageInput = byId('page-input'), DEFAULT_STATUS = controls.status.value;
  var state = {}, order = null, view = [], lowered = null, idOf = null, sortKeys = {};
  var collator = new Intl.Collator(undefined, {numeric: true});

  function identity(count) { var list = new Array(count); for (var i = 0; i < count; i += 1) { list[i] = i; } return list; }
  function text(row, name) { var id = rows[row * width + at[name]]; return id < 0 ? '' : strings[id]; }
  function rule(row) { return rules[rows[row * width + at.rule]]; }  // [id, section, title, remediation, fixed by]
  function fixedCell(row) {
    var fixed = rule(row)[4], open = text(row, 'left_open');
    if (open) { return (fixed ? fixed + '; ' : '') + 'left open: ' + open; }
    return text(row, 'status') === 'fail' ? (fixed ? fixed + '; ' : '') + 'no reason given' : fixed;
  }
  function field(name, className) {
    return {name: name, cell: function (row) { return text(row, name); }, className: className};
  }
  function ruleField(name, index, className) {
    return {name: name, cell: function (row) { return rule(row)[index]; }, className: className};
  }
  var COLUMNS = [field('host'), ruleField('section', 1), ruleField('rule', 0), ruleField('title', 2), field('target'),
    field('status', function (row) { return 's-' + text(row, 'status'); }), field('severity'), field('evidence', function () { return 'ev'; }),
    ruleField('remediation', 3, function () { return 'rem'; }), {name: 'fixed', cell: fixedCell}];
  COLUMNS[6].rank = function (row) { var index = SEVERITIES.indexOf(text(row, 'severity')); return index < 0 ? 0 : SEVERITIES.length - index; };

  // Sort keys of a column: a rank per row, from the text shown (numbers in it compared as numbers).
  function keysOf(column) {
    if (sortKeys[column.name]) { return sortKeys[column.name]; }
    var keys = new Float64Array(total), texts = [], seen = new Map(), row;
    for (row = 0; row < total; row += 1) {
      if (column.rank) { keys[row] = column.rank(row); continue; }
      var shown = column.cell(row), known = seen.get(shown);
      if (known === undefined) { known = texts.length; seen.set(shown, known); texts.push(shown); }
      keys[row] = known;
    }
    if (!column.rank) {
      var rank = new Float64Array(texts.length);
      identity(texts.length).sort(function (a, b) { return collator.compare(texts[a], texts[b]); })
        .forEach(function (index, position) { rank[index] = position; });
      for (row = 0; row < total; row += 1) { keys[row] = rank[keys[row]]; }
    }
    sortKeys[column.name] = keys;
    return keys;
  }
  function sort() {
    var column = COLUMNS.filter(function (one) { return one.name === state.sort; })[0];
    headers.forEach(function (th, index) {
      if (column && COLUMNS[index] === column) { th.setAttribute('aria-sort', state.dir); } else { th.removeAttribute('aria-sort'); }
    });
    order = identity(total);
    if (!column) { return; }
    var keys = keysOf(column), sign = state.dir === 'descending' ? -1 : 1;
    order.sort(function (a, b) { return (keys[a] - keys[b]) * sign || a - b; });
  }

  // The text filter: each text and each rule is tested once, then a row matches when any cell it shows does.
  function textMatcher(needle) {
    if (!needle) { return null; }
    lowered = lowered || strings.map(function (value) { return value.toLowerCase(); });
    var hit = new Uint8Array(strings.length), fixedHits = new Map();
    for (var i = 0; i < strings.length; i += 1) { hit[i] = lowered[i].indexOf(needle) >= 0 ? 1 : 0; }
    var ruleHit = rules.map(function (shown) {
      return shown.slice(0, 4).some(function (value) { return value.toLowerCase().indexOf(needle) >= 0; });
    });
    return function (row) {
      var base = row * width;
      if (hit[rows[base + at.host]] || hit[rows[base + at.target]] || hit[rows[base + at.status]] || hit[rows[base + at.severity]] ||
          hit[rows[base + at.evidence]] || ruleHit[rows[base + at.rule]]) { return true; }
      var fixed = fixedCell(row), known = fixedHits.get(fixed);
      if (known === undefined) { known = fixed.toLowerCase().indexOf(needle) >= 0; fixedHits.set(fixed, known); }
      return known;
    };
  }
  function wanted(value) {
    if (!value) { return null; }
    if (!idOf) { idOf = new Map(); strings.forEach(function (one, index) { if (!idOf.has(one)) { idOf.set(one, index); } }); }
    return idOf.has(value) ? idOf.get(value) : -2;
  }
  function filter() {
    var match = textMatcher(state.q.toLowerCase()), want = {}, bySeverity = {}, shown = [];
    FILTERS.forEach(function (name) { want[name] = wanted(state[name]); });
    for (var i = 0; i < total; i += 1) {
      var row = order[i], base = row * width;
      if ((want.status !== null && rows[base + at.status] !== want.status) || (want.host !== null && rows[base + at.host] !== want.host) ||
          (want.severity !== null && rows[base + at.severity] !== want.severity) || (match && !match(row))) { continue; }
      shown.push(row);
      var severity = strings[rows[base + at.severity]];
      bySeverity[severity] = (bySeverity[severity] || 0) + 1;
    }
    view = shown;
    byId('visible-count').textContent = String(shown.length);
    byId('visible-severity').textContent = SEVERITIES.filter(function (s) { return bySeverity[s]; })
      .map(function (s) { return s + ' ' + bySeverity[s]; }).join(', ') || 'none';
  }

  function rowElement(row) {
    var tr = document.createElement('tr'), severity = text(row, 'severity');
    tr.setAttribute('data-host', text(row, 'host'));
    tr.setAttribute('data-status', text(row, 'status'));
    tr.setAttribute('data-severity', severity);
    tr.setAttribute('data-source', text(row, 'source'));
    tr.className = 'sev-' + severity;
    COLUMNS.forEach(function (column) {
      var td = document.createElement('td');
      td.textContent = column.cell(row);
      if (column.className) { td.className = column.className(row); }
      tr.appendChild(td);
    });
    return tr;
  }
  function pages() { return Math.max(1, Math.ceil(view.length / PAGE_SIZE)); }
  function draw() {
    state.page = state.page === 'last' ? pages() : Math.min(Math.max(1, state.page), pages());
    var start = (state.page - 1) * PAGE_SIZE, end = Math.min(view.length, start + PAGE_SIZE), rowsShown = document.createDocumentFragment();
    for (var i = start; i < end; i += 1) { rowsShown.appendChild(rowElement(view[i])); }
    body.textContent = '';
    body.appendChild(rowsShown);
    pageInput.value = String(state.page);
    pageInput.max = String(pages());
    Array.prototype.forEach.call(document.querySelectorAll('.page-count'), function (el) { el.textContent = String(pages()); });
    Array.prototype.forEach.call(document.querySelectorAll('.page-number'), function (el) { el.textContent = String(state.page); });
    Array.prototype.forEach.call(document.querySelectorAll('.page-range'), function (el) {
      el.textContent = view.length ? (start + 1) + '\\u2013' + end : 'none';
    });
    Array.prototype.forEach.call(document.querySelectorAll('[data-go]'), function (button) {
      var go = button.getAttribute('data-go');
      button.disabled = (go === 'first' || go === 'previous') ? state.page <= 1 : state.page >= pages();
    });
    byId('findings-none').hidden = view.length > 0 || total === 0;
    writeHash();
  }

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    state.q = params.get('q') || '';
    FILTERS.forEach(function (name) { state[name] = params.has(name) ? params.get(name) : (name === 'status' ? DEFAULT_STATUS : ''); });
    var page = params.get('page');
    state.page = page === 'last' ? 'last' : Math.max(1, parseInt(page, 10) || 1);
    state.sort = params.get('sort') || '';
    state.dir = params.get('dir') === 'desc' ? 'descending' : 'ascending';
    controls.q.value = state.q;
    // A value a select does not offer (a host not in this report) leaves that select, and its filter, at all.
    FILTERS.forEach(function (name) { controls[name].value = state[name]; state[name] = controls[name].value; });
  }
  function writeHash() {
    var params = new URLSearchParams();
    if (state.q) { params.set('q', state.q); }
    FILTERS.forEach(function (name) {
      if (state[name] !== (name === 'status' ? DEFAULT_STATUS : '')) { params.set(name, state[name]); }
    });
    if (state.sort) { params.set('sort', state.sort); params.set('dir', state.dir === 'descending' ? 'desc' : 'asc'); }
    if (state.page > 1) { params.set('page', String(state.page)); }
    var hash = params.toString();
    if (hash === location.hash.replace(/^#/, '')) { return; }
    try {
      history.replaceState(null, '', hash ? '#' + hash : location.pathname + location.search);
    } catch (error) {
      // Some browsers refuse to change the address of a file: page; the view still works, only the link does not follow it.
    }
  }
  function show() { sort(); filter(); draw(); }

  ['q'].concat(FILTERS).forEach(function (name) {
    controls[name].addEventListener(name === 'q' ? 'input' : 'change', function () {
      state[name] = controls[name].value;
      state.page = 1;
      filter();
      draw();
    });
  });
  headers.forEach(function (th, index) {
    th.addEventListener('click', function () {
      state.dir = state.sort === COLUMNS[index].name && state.dir === 'ascending' ? 'descending' : 'ascending';
      state.sort = COLUMNS[index].name;
      state.page = 1;
      show();
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-go]'), function (button) {
    button.addEventListener('click', function () {
      var go = button.getAttribute('data-go');
      state.page = go === 'first' ? 1 : go === 'last' ? pages() : state.page + (go === 'next' ? 1 : -1);
      draw();
    });
  });
  pageInput.addEventListener('change', function () { state.page = parseInt(pageInput.value, 10) || 1; draw(); });
  window.addEventListener('hashchange', function () { readHash(); show(); });

  byId('total-count').textContent = String(total);
  readHash();
  show();
  document.body.setAttribute('data-ready', 'yes');
  // For whoever times the page (benchmarks/report_render.py): when the first page of findings was drawn.
  performance.mark('bulwark-findings-drawn');
})();
"""
JS = (_JS_TEMPLATE.replace("@SEVERITIES_WORST_FIRST@", "[%s]" % ", ".join("'%s'" % severity for severity in SEVERITIES_WORST_FIRST))
      .replace("@PAGE_SIZE@", str(PAGE_SIZE)))


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
    """(host entry, finding) pairs the findings table lists: problems only, worst severity first."""
    pairs = [(host, finding) for host in report["hosts"] for finding in host["findings"] if finding.get("status") in TABLE_STATUSES]
    return sorted(pairs, key=lambda pair: (TABLE_STATUSES.index(pair[1]["status"]), -severity_rank(pair[1].get("severity")),
                                           pair[0]["name"], pair[1].get("rule", ""), pair[1].get("target", "")))


def _clean(value):
    """A text of the JSON data: printable (common.safe_text), as esc() makes it before it HTML-escapes."""
    return escape_unprintable("" if value is None else value, keep_whitespace=True)


def fixed_text(finding):
    """What the last column says of a finding (its full view): the role variables that fix its rule, and why it is
    still open ("no reason given" for a failure without a reason). The page's script says the same (fixedCell)."""
    fixed = ", ".join("%s" % variable for variable in finding.get("fixed_by") or [])
    if finding.get("left_open"):
        return (fixed + "; " if fixed else "") + "left open: %s" % finding["left_open"]
    if finding.get("status") == FAIL:
        return (fixed + "; " if fixed else "") + "no reason given"
    return fixed


def findings_data(report):
    """The findings table as data for the page's script, in table order (table_findings()):
    {"fields": DATA_FIELDS, "strings": every text a row shows, once; "rules": [id, section, title, remediation,
    fixed by] of each rule once, as the table shows them; "rows": len(DATA_FIELDS) numbers per row, one after the
    other: indexes into strings (rule: into rules; left_open: -1 when the finding has none)}.
    Each finding's rule comes from the report's rules (model.details); every text is printable (_clean)."""
    strings, string_index = [], {}
    rules, rule_index = [], {}
    rows = []

    def text_number(value):
        # Looked up as given first: host names, statuses and targets repeat, and are cleaned once.
        number = string_index.get(value) if isinstance(value, str) else None
        if number is None:
            text = _clean(value)
            number = string_index.get(text)
            if number is None:
                number = string_index[text] = len(strings)
                strings.append(text)
            if isinstance(value, str):
                string_index[value] = number
        return number

    for host, finding in table_findings(report):
        full = details(report, host, finding)
        fixed_by = ", ".join("%s" % variable for variable in full.get("fixed_by") or [])
        shown = ("%s" % full.get("rule", ""), "%s" % full.get("section", ""), "%s" % full.get("title", ""),
                 "%s" % (full.get("remediation") or ""), fixed_by)
        rule_number = rule_index.get(shown)
        if rule_number is None:
            rule_number = rule_index[shown] = len(rules)
            rules.append([_clean(value) for value in shown])
        rows.extend((text_number(host["name"]), rule_number, text_number(full.get("target")), text_number(full.get("status")),
                     text_number(full.get("severity")), text_number(full.get("evidence")),
                     text_number(full["left_open"]) if full.get("left_open") else -1, text_number(full.get("source"))))
    return {"fields": list(DATA_FIELDS), "strings": strings, "rules": rules, "rows": rows}


def script_json(data):
    """data as JSON that can stand inside a <script> element: '<', '>' and '&' only occur inside JSON strings, where
    each becomes its \\u escape, so no '</script>' or '<!--' can end or change the element; U+2028 and U+2029 too,
    for older JavaScript parsers."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for character in "<>&\u2028\u2029":
        if character in text:
            text = text.replace(character, "\\u%04x" % ord(character))
    return text


def _select(identifier, label, values, selected=""):
    options = ['<option value="">%s: all</option>' % esc(label)]
    options.extend('<option value="%s"%s>%s</option>' % (esc(value), " selected" if value == selected else "", esc(value)) for value in values)
    return '<label>%s <select id="%s">%s</select></label>' % (esc(label), identifier, "".join(options))


def _pager(where):
    """Buttons to the first, previous, next and last page; the one at the top also takes a page number."""
    number = ('<label>page <input id="page-input" type="number" min="1" value="1"></label>' if where == "top"
              else 'page <b class="page-number">?</b>')
    return ('<div class="pager" id="pager-%s"><button type="button" data-go="first">&laquo; first</button>'
            '<button type="button" data-go="previous">&lsaquo; previous</button>%s of <b class="page-count">?</b>'
            '<button type="button" data-go="next">next &rsaquo;</button><button type="button" data-go="last">last &raquo;</button>'
            '<span>(findings <span class="page-range">?</span>)</span></div>' % (where, number))


def _findings_table(report):
    """The filters, the pagers and the table's head; the script draws the rows from findings_data()."""
    pairs = table_findings(report)
    hosts = [host["name"] for host in report["hosts"]]
    statuses = [status for status in TABLE_STATUSES if any(finding["status"] == status for host, finding in pairs)]
    default = "fail" if "fail" in statuses else ""
    parts = ['<div class="filters"><input id="f-text" type="search" placeholder="filter text" aria-label="filter text">',
             _select("f-severity", "severity", SEVERITIES_WORST_FIRST),
             _select("f-host", "host", hosts), _select("f-status", "status", statuses, default),
             '<span><b id="visible-count">?</b> of <b id="total-count">?</b> findings shown (by severity: <span id="visible-severity">?</span>)'
             '</span></div>',
             '<p class="explain">%d findings a page; the filters and the sort (click a header) cover every finding. The address '
             'of the page keeps them and the page number, so a link opens this view.</p>' % PAGE_SIZE,
             '<noscript><p class="missing">The findings table is drawn by this page\'s script: allow JavaScript for this file '
             'to see it (the summary above needs none, and the JSON report lists every finding).</p></noscript>',
             _pager("top"),
             '<table id="findings"><thead><tr><th>host</th><th>section</th><th>rule</th><th>title</th><th>target</th><th>status</th>'
             '<th>severity</th><th>evidence</th><th>remediation</th><th>fixed by; why still open</th></tr></thead><tbody></tbody></table>',
             '<p class="empty" id="findings-none" hidden>No finding matches the filters.</p>',
             _pager("bottom")]
    if not pairs:
        parts.append('<p class="empty">No failing, warning, waived or skipped finding.</p>')
    parts.append('<script type="application/json" id="findings-data">%s</script>' % script_json(findings_data(report)))
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
