# -*- coding: utf-8 -*-
# Copyright: bulwark.hardening contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to the bulwark.hardening collection: other collections must not import it, and it may change in any release.
"""The rule catalog: every check bulwark knows, defined once.

A rule is metadata (id, title, section, level, scored, severity, how it is
fixed, what it reads, remediation) plus an evaluate function over gathered
state. Rules live in the rules_*.py modules, one per CIS section plus our
own BW rules, and register themselves here with the decorators below, so a
grep for a check id lands on its one definition.

Evaluate functions come in three shapes, chosen by the decorator:

- ``global_rule``: ``fn(state)`` returns an Outcome (target defaults to the
  rule's subject, e.g. "daemon") or a list of (target, Outcome) pairs;
- ``container_rule``: ``fn(container, state)`` per audited container;
- ``image_rule``: ``fn(image, state)`` per distinct image.

Manual rules (CIS checks that only a person can decide) have no evaluate
function and always report ``info`` with what to verify.

CIS versions: a rule has ONE canonical id, its CIS Docker Benchmark v1.6 id
(role task names, tags, fixed_by and tests use it), and knows its id in every
version it is part of: the definition names the ids that differ, e.g.
``ids={"1.8": "2.10"}`` on v1.6's 2.9, so one grep for an id finds its
definition in either numbering. A rule a version does not have says
``ids={"1.6": None}``; its canonical id is then ``<v1.8 id>@1.8``. The audit
run translates at the boundary (findings, summary, waivers): see
``Rule.id_in``.

Nothing here imports Ansible or the Docker SDK.
"""

from __future__ import annotations

import collections

from ansible_collections.bulwark.hardening.plugins.module_utils.rules.status import FAIL, INFO, PASS, SEVERITIES, SKIPPED, WARN

# How a failing check is fixed, which tells remediation tooling what it costs:
# live (docker update on the running container), recreate (new container),
# daemon (daemon.json + restart), files (ownership and modes of the daemon's
# files), host (OS configuration), manual (a person).
FIX_CLASSES = ("live", "recreate", "daemon", "files", "host", "manual")
# Fixes a role makes: such a rule names the role variables that fix it (fixed_by)
# or says why the roles leave it open (left_open). Live and recreate rules name
# the containers role's variables where container_remediate fixes them; the
# others of those classes stay with a person.
ROLE_FIX_CLASSES = ("daemon", "files", "host")

# Sections, keyed by the module's `scope` values. The number is the CIS
# section; "BW" marks bulwark's own rules.
SECTIONS = collections.OrderedDict(
    [
        ("host", ("1", "Host configuration")),
        ("daemon", ("2", "Docker daemon configuration")),
        ("files", ("3", "Docker daemon configuration files")),
        ("images", ("4", "Container images and build file")),
        ("containers", ("5", "Container runtime")),
        ("operations", ("6", "Docker security operations")),
        ("swarm", ("7", "Docker Swarm configuration")),
        ("bulwark", ("BW", "bulwark rules")),
    ]
)

# The CIS Docker Benchmark versions whose ids the audit speaks. v1.7.0 has v1.6.0's ids (one title
# differs: 1.1.9); v1.8.0 inserts 2.7 (devicemapper) and moves v1.6/v1.7 2.7-2.18 to 2.8-2.19.
CIS_VERSIONS = ("1.6", "1.8")
DEFAULT_CIS_VERSION = "1.8"
# The version whose ids canonical ids are (role task names, tags, fixed_by, tests).
CANONICAL_CIS_VERSION = "1.6"


def check_cis_version(version):
    """ValueError naming the choices unless version is one of CIS_VERSIONS (a string such as "1.8")."""
    if version not in CIS_VERSIONS:
        raise ValueError("cis_version must be one of %s (the CIS Docker Benchmark version whose ids and checks the "
                         "audit uses), not %r" % (", ".join(CIS_VERSIONS), version))


# CIS profile levels. Profiles are cumulative: the Level 2 profile is every
# Level 1 rule plus the Level 2 ones, so level 2 means every rule.
LEVELS = (1, 2)

# What a rule iterates over.
KIND_GLOBAL = "global"
KIND_CONTAINER = "container"
KIND_IMAGE = "image"
KIND_MANUAL = "manual"

# left_open: why the roles leave this failure open on this target (a reason the
# state shows, such as containers a change would hide), beside the rule's own.
# severity: this finding's, when what the state shows makes it less grave than the
# rule's (a secret file an OS package ships is low); None: the rule's.
Outcome = collections.namedtuple("Outcome", ["status", "evidence", "left_open", "severity"], defaults=(None, None))


def passed(evidence):
    return Outcome(PASS, evidence)


def failed(evidence, left_open=None, severity=None):
    """A failure; left_open says why the roles leave it open here (on purpose, until what it names changes);
    severity, when given, is this failure's instead of the rule's (one of SEVERITIES)."""
    if severity is not None and severity not in SEVERITIES:
        raise ValueError("severity %r is not one of %s" % (severity, ", ".join(SEVERITIES)))
    return Outcome(FAIL, evidence, left_open, severity)


def warned(evidence):
    return Outcome(WARN, evidence)


def info(evidence):
    return Outcome(INFO, evidence)


def skipped(evidence):
    return Outcome(SKIPPED, evidence)


class Rule(object):
    """One check: metadata plus how to evaluate it."""

    __slots__ = (
        "id", "title", "section", "level", "scored", "severity", "fix", "reads",
        "remediation", "kind", "evaluate", "subject", "fixed_by", "left_open", "image_evaluate", "ids", "titles",
    )

    def __init__(self, id, title, section, level, scored, severity, fix, reads, remediation,
                 kind, evaluate=None, subject=None, fixed_by=(), left_open=None, ids=None,
                 titles=None):  # pylint: disable=redefined-builtin
        # The canonical id: the CIS v1.6 id (or "<v1.8 id>@1.8" for a rule v1.6 does not have).
        self.id = id
        self.title = title
        self.section = section
        self.level = level
        self.scored = scored
        self.severity = severity
        self.fix = fix
        self.reads = reads
        self.remediation = remediation
        self.kind = kind
        self.evaluate = evaluate
        self.subject = subject
        # Role variables that fix a failure (daemon, files and host fixes; live and recreate ones the containers role makes).
        self.fixed_by = tuple(fixed_by)
        # Why the roles' defaults leave this rule failing on purpose, or None.
        self.left_open = left_open
        # A container rule's image form, fn(image, state): image_audit evaluates it over every local image.
        self.image_evaluate = None
        # {CIS version: id in that version, None when that version lacks the rule}, only where it differs from id.
        self.ids = dict(ids or {})
        # {CIS version: title in that version}, only where CIS retitled the check.
        self.titles = dict(titles or {})
        self._validate()

    def _validate(self):
        # Catalog mistakes are programming errors: fail at import, not mid-audit.
        problems = []
        if self.section not in SECTIONS:
            problems.append("section %r" % self.section)
        if self.level not in LEVELS:
            problems.append("level %r" % self.level)
        if self.severity not in SEVERITIES:
            problems.append("severity %r" % self.severity)
        if self.fix not in FIX_CLASSES:
            problems.append("fix %r" % self.fix)
        if not self.title or not self.remediation or not self.reads:
            problems.append("empty title, reads or remediation")
        if isinstance(self.fixed_by, str) or not all(isinstance(name, str) for name in self.fixed_by):
            problems.append("fixed_by %r (a tuple of role variable names)" % (self.fixed_by,))
        problems.extend(self._version_problems())
        if problems:
            raise ValueError("rule %s: bad %s" % (self.id, ", ".join(problems)))

    def _version_problems(self):
        problems = []
        unknown = sorted((set(self.ids) | set(self.titles)) - set(CIS_VERSIONS))
        if unknown:
            problems.append("CIS versions %s (known: %s)" % (", ".join(unknown), ", ".join(CIS_VERSIONS)))
        if self.section == "bulwark" and (self.ids or self.titles):
            problems.append("per-version ids or titles on a bulwark rule (BW ids are the same in every version)")
        base, at, version = self.id.partition("@")
        if (self.ids.get(CANONICAL_CIS_VERSION, self.id) is None) != bool(at):
            problems.append("id: a rule CIS v%s lacks, and only such a rule, has the canonical id <id>@<version>"
                            % CANONICAL_CIS_VERSION)
        elif at and self.ids.get(version) != base:
            problems.append("ids: canonical id %s needs ids[%r] == %r" % (self.id, version, base))
        return problems

    def in_version(self, version):
        """Whether CIS version `version` has this check (bulwark's own rules are in every version)."""
        return self.ids.get(version, self.id) is not None

    def id_in(self, version):
        """The id this check has in CIS version `version` (KeyError when that version lacks it)."""
        if not self.in_version(version):
            raise KeyError("rule %s is not part of CIS Docker Benchmark v%s" % (self.id, version))
        return self.ids.get(version, self.id)

    def title_in(self, version):
        """The title CIS gives this check in `version`."""
        return self.titles.get(version, self.title)

    @property
    def automated(self):
        return self.kind != KIND_MANUAL

    @property
    def section_number(self):
        return SECTIONS[self.section][0]


_REGISTRY = collections.OrderedDict()


def register(rule):
    if rule.id in _REGISTRY:
        raise ValueError("rule %s is defined twice" % rule.id)
    for version in CIS_VERSIONS:
        if not rule.in_version(version):
            continue
        same = [other.id for other in _REGISTRY.values()
                if other.in_version(version) and other.id_in(version) == rule.id_in(version)]
        if same:
            raise ValueError("rule %s: CIS v%s id %s is also rule %s's" % (rule.id, version, rule.id_in(version), same[0]))
    _REGISTRY[rule.id] = rule
    return rule


def registered_rule(rule_id):
    """The rule whose canonical id is rule_id (KeyError when none is)."""
    return _REGISTRY[rule_id]


def _decorator(kind, rule_id, title, section, subject=None, **meta):
    def wrap(function):
        register(Rule(rule_id, title, section, kind=kind, evaluate=function, subject=subject, **meta))
        return function
    return wrap


def global_rule(rule_id, title, section, subject, **meta):
    """Register fn(state) -> Outcome | [(target, Outcome)]; subject names the default target."""
    return _decorator(KIND_GLOBAL, rule_id, title, section, subject=subject, **meta)


def container_rule(rule_id, title, section, **meta):
    """Register fn(container, state) -> Outcome | None (None: does not apply to it)."""
    return _decorator(KIND_CONTAINER, rule_id, title, section, **meta)


def image_rule(rule_id, title, section, **meta):
    """Register fn(image, state) -> Outcome | None (None: does not apply to it)."""
    return _decorator(KIND_IMAGE, rule_id, title, section, **meta)


def image_form(rule_id, reads):
    """Give the registered container rule rule_id an image form, fn(image, state) -> Outcome | None.

    container_audit evaluates the rule over containers as before; image_audit
    evaluates the image form over every local image (4.1's USER, BW-005's
    pinning, BW-006's origin), under the same id. reads is appended to the
    rule's own, so the docs table says what the image form reads.
    """
    def wrap(function):
        rule = _REGISTRY[rule_id]
        if rule.kind != KIND_CONTAINER or rule.image_evaluate is not None:
            raise ValueError("rule %s: an image form is for a container rule, once" % rule_id)
        rule.image_evaluate = function
        rule.reads = "%s; image_audit: %s" % (rule.reads, reads)
        return function
    return wrap


def manual_rule(rule_id, title, section, level, scored, severity, reads, remediation, subject, fixed_by=()):
    """Register a check only a person can decide; it reports `info` with what to verify."""
    register(Rule(rule_id, title, section, level, scored, severity, "manual", reads, remediation,
                  KIND_MANUAL, subject=subject, fixed_by=fixed_by))


def rule_sort_key(rule_id):
    # Numeric ordering for CIS ids (1.1.10 after 1.1.9); BW rules last. A canonical "<id>@<version>" sorts
    # by its id.
    if rule_id.startswith("BW-"):
        return (1, (int(rule_id[3:]),))
    return (0, tuple(int(part) for part in rule_id.split("@")[0].split(".")))


def registered():
    """Every registered rule in the order of the newest CIS version's ids (every rule is in it; catalog.py
    imports the rule modules)."""
    newest = CIS_VERSIONS[-1]
    return sorted(_REGISTRY.values(), key=lambda rule: rule_sort_key(rule.id_in(newest)))
