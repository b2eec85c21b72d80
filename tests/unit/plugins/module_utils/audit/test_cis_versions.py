# -*- coding: utf-8 -*-
"""CIS Docker Benchmark v1.6 and v1.8 (issue 20, item 3): one rule, its id in each version.

v1.8.0 inserts 2.7 (devicemapper) and renumbers v1.6's 2.7-2.18 as 2.8-2.19. The catalog keeps one canonical id per
rule (v1.6's) and the audit speaks the chosen version at its boundary: findings, summary and waivers. The reference
lists (ids and CIS titles of both versions) are in fixtures/cis_docker_ids.json.
"""

from __future__ import annotations

import collections

import pytest

from ansible_collections.bulwark.hardening.plugins.module_utils.audit import run
from ansible_collections.bulwark.hardening.plugins.module_utils.system.host_facts import FileStat
from ansible_collections.bulwark.hardening.plugins.module_utils.system.audit_rules import AuditRules, parse_audit_rules
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.rule import CIS_VERSIONS, DEFAULT_CIS_VERSION, Rule
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError, run_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.rules.state import AuditOptions, HostFacts
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, connection_from
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.image_run import run_image_audit
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.plan import plan_container
from ansible_collections.bulwark.hardening.plugins.module_utils.remediate.remedies import Context
from ansible_collections.bulwark.hardening.plugins.module_utils.rules import catalog
from ansible_collections.bulwark.hardening.plugins.module_utils.audit.findings import expand_all
from ansible_collections.bulwark.hardening.plugins.modules import (
    container_audit, container_remediate, daemon_preflight, image_audit,
)

from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils import rule_fixtures
from ansible_collections.bulwark.hardening.tests.unit.plugins.module_utils.rule_fixtures import (
    container, dockerd_config, evidence, findings, load, state, status,
)

REFERENCE = load("cis_docker_ids.json")
DEVICEMAPPER = "2.7@1.8"  # canonical id of v1.8's 2.7 (v1.6 has no such check)
# v1.6 id -> v1.8 id of every renumbered rule (the reference's id map).
RENUMBERED = dict(("2.%d" % number, "2.%d" % (number + 1)) for number in range(7, 19))


def cis_rules(version):
    return [rule for rule in catalog.in_profile(catalog.all_rules(), 2, version) if rule.section != "bulwark"]


# --- the id map, against the reference lists ---------------------------------------------------------------------

@pytest.mark.parametrize("version", CIS_VERSIONS)
def test_every_reference_id_is_exactly_one_rule_in_its_version(version):
    ids = [rule.id_in(version) for rule in cis_rules(version)]
    reference = [rule_id for rule_id, _title in REFERENCE[version]]
    assert len(reference) == {"1.6": 117, "1.8": 118}[version]
    assert ids == reference  # the same ids, each once, in the benchmark's order
    assert len(catalog.ids_in(version)) == len(catalog.rules_for(run.ALL_SCOPES, 2, version))


@pytest.mark.parametrize("version", CIS_VERSIONS)
def test_every_title_is_cis_title_in_its_version(version):
    titles = dict(REFERENCE[version])
    assert [(rule.id_in(version), rule.title_in(version)) for rule in cis_rules(version)] == \
        [(rule_id, titles[rule_id]) for rule_id, _title in REFERENCE[version]]


def test_only_section_2_from_2_7_moves_and_v1_8_adds_its_2_7():
    moved = dict((rule.id, rule.id_in("1.8")) for rule in catalog.all_rules()
                 if rule.in_version("1.6") and rule.id_in("1.6") != rule.id_in("1.8"))
    assert moved == RENUMBERED
    added = [rule for rule in catalog.all_rules() if not rule.in_version("1.6")]
    assert [(rule.id, rule.id_in("1.8"), rule.title_in("1.8")) for rule in added] == [
        (DEVICEMAPPER, "2.7", "Ensure devicemapper storage driver is not used")]
    assert catalog.get_in("2.10", "1.8") is catalog.get("2.9") and catalog.get_in("2.10", "1.6") is catalog.get("2.10")


def test_the_rule_definition_names_its_ids_and_refuses_mistakes():
    for bad in ({"1.7": "2.8"}, {"1.6": None}):
        with pytest.raises(ValueError):
            Rule("2.99", "x", "daemon", 1, True, "low", "daemon", "x", "x", "global", ids=bad)
    with pytest.raises(ValueError, match="bulwark rule"):
        Rule("BW-099", "x", "bulwark", 1, True, "low", "live", "x", "x", "container", ids={"1.8": "BW-100"})
    with pytest.raises(KeyError, match="not part of"):
        catalog.get(DEVICEMAPPER).id_in("1.6")
    assert DEFAULT_CIS_VERSION == "1.8"


# --- the new 2.7: devicemapper, from docker info -------------------------------------------------------------------

# docker info's DriverStatus of a devicemapper daemon in its default loop-lvm mode (the pairs Docker reports).
LOOP_LVM_STATUS = [
    ["Pool Name", "docker-254:1-1835013-pool"], ["Pool Blocksize", "65.54kB"], ["Base Device Size", "10.74GB"],
    ["Backing Filesystem", "xfs"], ["Udev Sync Supported", "true"],
    ["Data file", "/dev/loop0"], ["Metadata file", "/dev/loop1"],
    ["Data loop file", "/var/lib/docker/devicemapper/devicemapper/data"],
    ["Metadata loop file", "/var/lib/docker/devicemapper/devicemapper/metadata"],
]


def test_2_7_passes_overlay2_and_fails_devicemapper():
    assert status(DEVICEMAPPER, state()) == "pass"  # the real fixture: Driver overlay2
    assert "overlay2" in evidence(DEVICEMAPPER, state())
    direct_lvm = state(info_changes={"Driver": "devicemapper", "DriverStatus": LOOP_LVM_STATUS[:5]})
    assert status(DEVICEMAPPER, direct_lvm) == "fail"
    loop_lvm = state(info_changes={"Driver": "devicemapper", "DriverStatus": LOOP_LVM_STATUS})
    assert status(DEVICEMAPPER, loop_lvm) == "fail"
    assert "loop-lvm" in evidence(DEVICEMAPPER, loop_lvm) and "devicemapper/data" in evidence(DEVICEMAPPER, loop_lvm)
    assert status(DEVICEMAPPER, state(no_info=True)) == "skipped"
    # aufs is 2.6's, not this rule's.
    assert status(DEVICEMAPPER, state(info_changes={"Driver": "aufs"})) == "pass"


def test_2_7_is_scored_level_1_and_fixed_like_2_6():
    rule, aufs = catalog.get(DEVICEMAPPER), catalog.get("2.6")
    assert (rule.level, rule.scored, rule.automated, rule.fix) == (1, True, True, "daemon")
    assert rule.fixed_by == aufs.fixed_by and rule.severity == aufs.severity


# --- run_audit: findings, summary and waivers in the chosen version's ids -----------------------------------------

class NoEngine(object):
    def __init__(self):
        self.calls = collections.Counter()

    @property
    def total(self):
        return sum(self.calls.values())


@pytest.fixture(name="devicemapper_host")
def devicemapper_host_fixture(monkeypatch):
    """run_audit over a daemon on devicemapper without userns remapping and with a custom cgroup parent, plain TCP."""
    audit_state = rule_fixtures.state(
        containers=[rule_fixtures.container("insecure")],
        info_changes={"Driver": "devicemapper", "DriverStatus": LOOP_LVM_STATUS},
        daemon=dockerd_config(["-H", "fd://", "-H", "tcp://0.0.0.0:2375", "--cgroup-parent=/custom"]))
    requests = []

    def gather(client, request, options):
        requests.append(request)
        audit_state.options = options  # what run_audit passes: the rules read cis_version from it
        return audit_state
    monkeypatch.setattr(run.gathering, "gather", gather)
    return requests


def by_rule(result):
    found = {}
    for finding in expand_all(result):
        found.setdefault(finding["rule"], []).append(finding)
    return found


def test_findings_and_summary_use_the_chosen_versions_ids(devicemapper_host):
    v1_8 = run_audit(report="all", client=NoEngine())
    v1_6 = run_audit(report="all", client=NoEngine(), cis_version="1.6")
    assert (v1_8["summary"]["cis_version"], v1_6["summary"]["cis_version"]) == ("1.8", "1.6")
    new, old = by_rule(v1_8), by_rule(v1_6)
    assert new["2.7"][0]["title"] == "Ensure devicemapper storage driver is not used" and new["2.7"][0]["status"] == "fail"
    assert new["2.8"][0]["title"] == old["2.7"][0]["title"] == "Ensure TLS authentication for Docker daemon is configured"
    assert new["2.10"][0]["title"] == old["2.9"][0]["title"] == "Enable user namespace support"
    assert "2.19" in new and "2.19" not in old
    # The devicemapper check is not evaluated under 1.6: one finding fewer, nothing else differs in number.
    assert v1_8["summary"]["total"] == v1_6["summary"]["total"] + 1
    assert v1_8["summary"]["by_section"]["2"]["fail"] == v1_6["summary"]["by_section"]["2"]["fail"] + 1
    assert {"2.7", "2.8", "2.10", "2.11"} <= set(v1_8["summary"]["failed_rules"])
    assert {"2.7", "2.9", "2.10"} <= set(v1_6["summary"]["failed_rules"]) and "2.11" not in v1_6["summary"]["failed_rules"]
    assert v1_8["summary"]["failed_rules"].index("2.7") < v1_8["summary"]["failed_rules"].index("2.10")
    # Evidence that names a rule names it as the version does (2.10 cgroup parent in v1.6 is 2.11 in v1.8).
    assert "waive 2.11 for this host" in new["2.11"][0]["evidence"]
    assert "waive 2.10 for this host" in old["2.10"][0]["evidence"]


def test_the_default_is_v1_8(devicemapper_host):
    assert run_audit(client=NoEngine())["summary"]["cis_version"] == "1.8"
    for module in (container_audit, image_audit, container_remediate, daemon_preflight):
        assert module.ARGUMENT_SPEC["cis_version"] == {"type": "str", "choices": ["1.6", "1.8"], "default": "1.8"}


def test_a_waiver_names_the_rule_by_the_id_of_the_audits_version(devicemapper_host):
    waive_2_10 = [{"rule": "2.10", "target": "daemon", "reason": "accepted"}]
    v1_8 = by_rule(run_audit(report="all", client=NoEngine(), waivers=waive_2_10))
    v1_6 = by_rule(run_audit(report="all", client=NoEngine(), waivers=waive_2_10, cis_version="1.6"))
    # Under 1.8, 2.10 is user namespaces; the cgroup parent (2.11) still fails.
    assert (v1_8["2.10"][0]["title"], v1_8["2.10"][0]["status"]) == ("Enable user namespace support", "waived")
    assert v1_8["2.11"][0]["status"] == "fail"
    # Under 1.6, 2.10 is the cgroup parent; user namespaces (2.9) still fail.
    assert (v1_6["2.10"][0]["title"], v1_6["2.10"][0]["status"]) == (
        "Ensure the default cgroup usage has been confirmed", "waived")
    assert v1_6["2.9"][0]["status"] == "fail"
    # v1.8's 2.7 is devicemapper, v1.6's TLS.
    waive_2_7 = [{"rule": "2.7", "reason": "accepted"}]
    v1_8 = by_rule(run_audit(report="all", client=NoEngine(), waivers=waive_2_7))
    v1_6 = by_rule(run_audit(report="all", client=NoEngine(), waivers=waive_2_7, cis_version="1.6"))
    assert (v1_8["2.7"][0]["status"], v1_8["2.8"][0]["status"]) == ("waived", "fail")
    assert v1_6["2.7"][0]["status"] == "waived" and "TLS" in v1_6["2.7"][0]["title"]


def test_an_id_the_version_lacks_is_refused_before_anything_is_gathered(devicemapper_host):
    with pytest.raises(AuditError, match=r"unknown rule '2.19'.*v1.6"):
        run_audit(waivers=[{"rule": "2.19", "reason": "r"}], client=NoEngine(), cis_version="1.6")
    for version in ("1.7", 1.8, None):
        with pytest.raises(AuditError, match="cis_version must be one of 1.6, 1.8"):
            run_audit(client=NoEngine(), cis_version=version)
    assert devicemapper_host == []


class OneImage(object):
    """The APIClient methods run_image_audit reads, over one real image (fixtures/image.json), no layer scan."""

    def images(self):
        return [{"Id": "sha256:" + "1" * 64, "RepoTags": ["app:1.0"], "RepoDigests": []}]

    def inspect_image(self, name):
        return dict(load("image.json"), Id=name, RepoTags=["app:1.0"], RepoDigests=[])

    def history(self, name):
        return [{"CreatedBy": "COPY app /bin/app # buildkit"}]


@pytest.mark.parametrize("version", CIS_VERSIONS)
def test_the_image_audit_records_the_version_and_takes_its_waivers(tmp_path, version):
    client = CountingClient(connection_from({}), api_factory=lambda api_version: OneImage())
    result = run_image_audit(client=client, cache_dir=str(tmp_path), layer_scan=False, cis_version=version,
                             waivers=[{"rule": "4.6", "reason": "no health check"}])
    assert result["summary"]["cis_version"] == version
    assert [finding["status"] for finding in result["findings"] if finding["rule"] == "4.6"] == ["waived"]
    with pytest.raises(AuditError, match="unknown rule '2.19'"):
        run_image_audit(client=client, cache_dir=str(tmp_path), layer_scan=False, cis_version="1.6",
                        waivers=[{"rule": "2.19", "reason": "r"}])


# --- text changes of v1.7/v1.8 that change a verdict -------------------------------------------------------------

LIB64_RW = {"Mounts": [{"Type": "bind", "Source": "/lib64", "Destination": "/lib64", "RW": True}]}
LIB64_RO = {"Mounts": [{"Type": "bind", "Source": "/lib64", "Destination": "/lib64", "RW": False}]}


def test_5_6_counts_lib64_under_v1_8_and_bw_009_leaves_it_to_5_6_there():
    v1_8 = state([container("hardened", LIB64_RW)])
    v1_6 = state([container("hardened", LIB64_RW)], options=AuditOptions(cis_version="1.6"))
    assert status("5.6", v1_8) == "fail" and "/lib64" in evidence("5.6", v1_8)
    assert status("BW-009", v1_8) == "pass"  # each exposure is reported once
    # v1.6's list has no /lib64: 5.6 passes as before and BW-009 reports the writable mount.
    assert status("5.6", v1_6) == "pass" and status("BW-009", v1_6) == "fail"
    assert status("5.6", state([container("hardened", LIB64_RO)])) == "warn"


def test_the_5_6_fix_makes_lib64_read_only_under_v1_8_as_bw_009_does_under_v1_6():
    lib64 = container("insecure", {"HostConfig.Binds": ["/lib64:/lib64"], "Mounts": LIB64_RW["Mounts"]})
    policy = {"recreate": True}
    v1_8 = plan_container(lib64, ["5.6"], policy, Context(None, None, "unix:///var/run/docker.sock"))
    v1_6 = plan_container(lib64, ["BW-009"], policy, Context(None, None, "unix:///var/run/docker.sock", cis_version="1.6"))
    for plan, rule_id in ((v1_8, "5.6"), (v1_6, "BW-009")):
        assert plan.fixes == {rule_id: "recreate"}, plan.skipped
        assert plan.working["HostConfig"]["Binds"] == ["/lib64:/lib64:ro"]


# CIS v1.7/v1.8's remediation for 1.1.5, in /etc/audit/rules.d/: volumes/ and overlay2/ excluded, the data root kept.
V1_8_DATA_ROOT_RULES = """\
-a exit,never -F dir=/var/lib/docker/volumes -k docker
-a exit,never -F dir=/var/lib/docker/overlay2 -k docker
-a exit,always -F path=/var/lib/docker -F perm=war -k docker
"""


@pytest.mark.parametrize("version", CIS_VERSIONS)
def test_1_1_5_judges_the_data_root_itself_so_v1_8s_exclusions_change_no_verdict(version):
    # 1.1.5 asks for a rule recording writes to the data root; the never rules v1.7 adds for volumes/ and overlay2/
    # cover directories below it, not the root: the same verdict in both versions.
    data_root = {"/var/lib/docker": FileStat("/var/lib/docker", 0, 0, 0o710, "dir")}
    rules = AuditRules("rule files /etc/audit/rules.d/docker.rules", parse_audit_rules(V1_8_DATA_ROOT_RULES), None)
    audit = state(host=HostFacts(audit_rules=rules, files=data_root), options=AuditOptions(cis_version=version))
    assert status("1.1.5", audit) == "pass", evidence("1.1.5", audit)
    # Without the data root's own rule, the exclusions alone record nothing: it fails.
    only_exclusions = AuditRules(rules.source, rules.watches[:2], None)
    audit = state(host=HostFacts(audit_rules=only_exclusions, files=data_root), options=AuditOptions(cis_version=version))
    assert [item.status for item in findings("1.1.5", audit)] == ["fail"]
