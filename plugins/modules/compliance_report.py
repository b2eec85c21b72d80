#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Documentation of the compliance_report action (plugins/action/compliance_report.py); the action runs on the controller."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: compliance_report
short_description: Write the JSON, JUnit XML and HTML compliance reports of an audit run on the controller
version_added: 0.1.0
description:
  - Collects the registered results of M(bulwark.hardening.audit) (which holds the image audit's), or of
    M(bulwark.hardening.container_audit) and M(bulwark.hardening.image_audit) run as two tasks,
    of every host of the play (from C(hostvars), or from O(results)) and builds one report of the run
    (schema C(bulwark.hardening/compliance-report) version 1, documented in C(docs/report-schema.md)). Each host's
    entry records the CIS profile level and CIS Docker Benchmark version its audit reported
    (RV(bulwark.hardening.container_audit#module:summary.level)), and every figure of it counts each finding once
    over both audits - when both judged one image, whose verdict counts is documented there ("One set of numbers").
  - With O(dest), writes into that directory on the controller C(bulwark-report-<UTC time>-<label>.json) (every host,
    every listed finding), C(.xml) (JUnit, one testcase per rule and target, classname C(<host>.<section>)) and C(.html)
    (one self-contained page - summary per host, with the CIS profile it was audited against, and per section, a
    chart of pass and fail per section, the score over the earlier runs whose JSON reports are in the same directory,
    and the failing findings in a table to filter and sort), plus C(<host>-<label>.txt) with each host's summary lines.
  - Report files are written 0640 in a directory of mode 0750 (see O(mode)) - a host's findings are not for every
    user of the controller. Each file is written under a temporary name and renamed into place, so a file or a
    symlink already there under a report's name is replaced, never followed.
  - File names come from one slug function - host names and labels keep only C(A-Z a-z 0-9 _ . -), never start with
    a dot and are at most 100 characters; a host name that had to change gets 8 hex digits of its SHA-256, so two
    hosts never share a file (C(../../x) becomes C(x-<digest>-<label>.txt), C(web1) stays C(web1-<label>.txt)).
  - Text in the reports is printable - control characters, bytes that are not UTF-8 and bidirectional controls in
    host names, labels or evidence are shown as backslash escapes (C(\x1b)), so the JUnit XML is always
    well-formed and the HTML and text files show what is there.
  - An earlier JSON report in O(dest) that the trend cannot use (not JSON, another schema, a score that is not a
    number, a file others can write or a symlink) is left out of the trend with a warning.
  - Always returns a summary table (RV(summary_lines)) and a per-host summary for M(ansible.builtin.set_stats) (RV(stats)).
  - An action that runs on the controller only; it never connects to a host. Run it once (C(run_once)).
  - Hosts of the play without a usable container_audit result (unreachable, failed) are reported as C(missing).
  - With O(group) the report is one slice of that run group - AWX job slicing runs one audit as several jobs, each
    on a part of the inventory, and each writes its own report. The report records the group (C(run.group)) and its
    run id gets 8 hex digits of the SHA-256 of its host names (C(<UTC time>-<label>-<digest>)), so slices started
    in the same second with the same label never share a file.
  - With O(merge) the action reads reports instead of results - the JSON reports of one run group's slices - and
    writes one fleet report of them into O(dest) (JSON, JUnit XML and HTML, no per-host text files; the slices
    wrote those). Every host once, the summary counted again over the hosts (what one unsliced run of every host
    would have reported), the rules of every slice, C(run.group), and C(run.slices) with each slice's run id and
    host count. Its run id is C(<UTC time of the first slice>-<label>-fleet-<group>), so merging the same slices
    again writes the same files, and RV(changed) is false when they already hold the same content.
  - A merge refuses, naming the report and the reason, reports of different run groups or without one, of another
    schema or version than this collection writes, a merged fleet report given as a slice, the same host in two
    reports with different content, one rule described differently by two slices (slices run by different
    collection versions), slices with different labels, and two different reports of one run id.
author:
  - bulwark.hardening contributors (@bulwark)
options:
  dest:
    description:
      - Directory on the controller to write the report files into; created if missing (with its missing parents).
      - Without it nothing is written; the summary is still returned.
      - It must not be a symlink, must belong to the user running the play when it exists, and no parent may be
        writable by group or others (one with the sticky bit, as C(/tmp), may be). An existing directory is given the
        directory mode of O(mode); files others left in it are not read. Checked before anything is written.
    type: path
  mode:
    description:
      - Mode of the report files, as an octal string (V("0640")). The owner must read and write; execute and special
        bits are refused. The directory gets the same bits plus search where they grant read (V("0640") gives
        C(0750), V("0644") gives C(0755)).
      - Defaults to V("0640") (directory C(0750)).
    type: raw
  hosts:
    description:
      - Hosts to report on. By default every host of the play (C(ansible_play_hosts_all)), so hosts that failed
        show as missing.
    type: list
    elements: str
  results:
    description:
      - "The results per host - a dict of host names to dicts with the keys C(container_audit) and C(image_audit), each a
        registered result - instead of reading O(audit_var) and O(image_audit_var) from C(hostvars)."
    type: dict
  history:
    description: Number of runs, this one included, the HTML trend shows.
    type: int
    default: 20
  host_summaries:
    description: Also write C(<host>-<label>.txt) (both slugged, see the description) with each host's summary lines.
    type: bool
    default: true
  group:
    description:
      - The run group this run is a slice of (C(run.group) in the report), the same in every slice of one run -
        C(playbooks/audit.yml) gives C(bulwark_audit_run_group), by default the id of the AWX workflow job that runs
        the slices (C(awx_workflow_job_id)). A non-empty printable string of at most 100 characters.
      - With O(merge), the run group whose reports to merge - required when O(merge) names a directory; when it
        names files only, the group they all carry (and they must carry this one when it is given).
    type: str
  merge:
    description:
      - Merge the reports of one run group's slices into one fleet report written into O(dest) (required) instead of
        reporting on the play's hosts; O(results) and O(hosts) are refused with it, O(label) is not used (the fleet
        report has the slices' label).
      - Each entry is a JSON report file, or a directory whose C(bulwark-report-*.json) files of run group O(group)
        are the slices. In a directory, reports of other groups and merged fleet reports are passed over, and a file
        that cannot be read (others may write it, a symlink, not JSON) is passed over with a warning; a file named
        on its own must be readable. A report named twice counts once.
      - Write the fleet report into a directory of its own. The slices' directory works too, but the HTML trend
        there shows every slice as a run of its own.
    type: list
    elements: path
attributes:
  check_mode:
    support: full
    description: Writes nothing in check mode and says what it would write; give the task C(check_mode=false) to write
      reports during a C(--check) run (the reports are on the controller, the hosts are only read).
  diff_mode:
    support: none
    description: Writes new files each run; there is nothing to compare.
  platform:
    platforms: posix
    support: full
    description: Runs on the controller.
extends_documentation_fragment:
  - bulwark.hardening.audit_options.results
seealso:
  - module: bulwark.hardening.container_audit
  - module: bulwark.hardening.image_audit
"""

EXAMPLES = r"""
- name: Write the reports of every host of the play
  bulwark.hardening.compliance_report:
    dest: /var/lib/bulwark/reports
    label: weekly
  register: bulwark_report
  run_once: true
  check_mode: false

- name: Show the summary table
  ansible.builtin.debug:
    msg: "{{ bulwark_report.summary_lines }}"
  run_once: true

- name: Publish the per-host summary for AWX workflows
  ansible.builtin.set_stats:
    data:
      bulwark_compliance: "{{ bulwark_report.stats }}"
  run_once: true

- name: Write this slice's reports, one of the run group of the AWX workflow job
  bulwark.hardening.compliance_report:
    dest: /var/lib/bulwark/reports
    label: weekly
    group: "{{ awx_workflow_job_id | string }}"
  run_once: true
  check_mode: false

- name: Merge the slices' reports of that run group into one fleet report
  bulwark.hardening.compliance_report:
    merge:
      - /var/lib/bulwark/reports
    group: "{{ bulwark_audit_run_group }}"
    dest: /var/lib/bulwark/reports/fleet
  register: bulwark_fleet
"""

RETURN = r"""
changed:
  description:
    - Whether a file was written; with O(merge), whether the files in O(dest) did not already hold this fleet report
      (merging the same slices again is not a change).
  returned: always
  type: bool
  sample: true
run_id:
  description:
    - The run's id, C(<UTC time>-<label>), as in the file names; C(<UTC time>-<label>-<digest of the host names>) for
      a slice of a run group (O(group)); C(<UTC time of the first slice>-<label>-fleet-<group>) for a merged report
      (O(merge)).
  returned: always
  type: str
  sample: 20261126T053656Z-weekly
merged:
  description: With O(merge), the run group and the slices merged (the fleet report's C(run.slices)).
  returned: when merge is given
  type: dict
  contains:
    group:
      description: The run group.
      type: str
      sample: "4711"
    slices:
      description: Each slice's run id and number of hosts, sorted by id.
      type: list
      elements: dict
      sample: [{"id": "20261126T053656Z-weekly-1c0ffee2", "hosts": 250}, {"id": "20261126T053657Z-weekly-5ee0b0c4", "hosts": 249}]
files:
  description: Paths of the files written (empty without O(dest)).
  returned: always
  type: dict
  sample: {"json": "/var/lib/bulwark/reports/bulwark-report-20261126T053656Z-weekly.json",
           "junit": "/var/lib/bulwark/reports/bulwark-report-20261126T053656Z-weekly.xml",
           "html": "/var/lib/bulwark/reports/bulwark-report-20261126T053656Z-weekly.html",
           "text": ["/var/lib/bulwark/reports/web1-weekly.txt"]}
summary:
  description: The report's run summary (see C(docs/report-schema.md)).
  returned: always
  type: dict
  contains:
    hosts:
      description: Hosts reported on.
      type: int
      sample: 2
    audited:
      description: Hosts with an audit result.
      type: int
      sample: 2
    missing:
      description: Hosts without one.
      type: list
      elements: str
      sample: []
    score:
      description: Mean of the audited hosts' scores, in percent; null when none has one.
      type: float
      sample: 87.5
    by_status:
      description: Findings per status over every host and both audits.
      type: dict
      sample: {"fail": 12, "warn": 3, "pass": 380, "info": 15, "skipped": 2, "waived": 1}
    fail_by_severity:
      description: Failing findings per severity.
      type: dict
      sample: {"critical": 1, "high": 4, "medium": 7}
stats:
  description:
    - Per-host summary for M(ansible.builtin.set_stats) - status, score, cis_score, image_score, fail, warn, waived,
      pass, fail_by_severity, and cis_version and level when the audit reported them.
    - The figures of the reports and of the play's lines, each finding counted once over both audits
      (C(docs/report-schema.md), "One set of numbers").
  returned: always
  type: dict
  sample: {"web1": {"status": "audited", "score": 91.2, "cis_score": 57, "image_score": 80.0, "fail": 5, "warn": 1,
                    "waived": 0, "pass": 62, "fail_by_severity": {"high": 2, "medium": 3}, "cis_version": "1.8",
                    "level": 2}}
summary_lines:
  description: A short table, one line per host and one for the run, to print at the end of the play.
  returned: always
  type: list
  elements: str
  sample: ["host                       score  images  fail  warn waived  crit  high", "web1  91.2%  80.0%  5  1  0  0  2"]
"""
