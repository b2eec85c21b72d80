"""bulwark.hardening.audit against the real Docker Engine of this machine: one module run gives what container_audit and
image_audit give run apart (the same findings, rules and summaries), reads no image twice, and audit.yml runs one
module per host.

Builds one image FROM the locally built bulwark-test/sleeper with a private key in its second layer, and starts two
containers of it (one hardened, one on the defaults), all labelled bulwark.test=1 and named bulwark-it-one-*;
everything is removed at the end, whatever happens. The modules run through `ansible localhost -m`, the playbook
through `ansible-playbook bulwark.hardening.audit` (tests/integration/adhoc.py).
"""

import collections
import os

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module, run_playbook
from ansible_collections.bulwark.hardening.tests.integration.images import SLEEPER_REF, build_image, docker_api, ensure_sleeper_image

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
PREFIX = "bulwark-it-one-"
IMAGE = "bulwark-it-one/app:1"
LABEL_FILTER = "bulwark.test=1"
PRIVATE_KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n"
# What both audits are given: the container audit's selection, the image audit's, and what they share.
CONTAINER_OPTIONS = {"scope": ["images", "containers", "bulwark"], "name_filter": [PREFIX + "*"], "label_filter": [LABEL_FILTER]}
IMAGE_OPTIONS = {"images": [IMAGE]}
SHARED_OPTIONS = {"docker_host": DOCKER_HOST, "report": "all", "level": 2, "cis_version": "1.8"}
AUDIT_TASK = "Audit the host, its daemon and files, images and containers in one pass"


def _remove_test_objects(api):
    for container in api.containers(all=True, filters={"label": LABEL_FILTER, "name": PREFIX}):
        api.remove_container(container["Id"], force=True)
    for image in api.images(name=IMAGE.split(":", maxsplit=1)[0]):
        if (image.get("Labels") or {}).get("bulwark.test") == "1":
            api.remove_image(image["Id"], force=True)


@pytest.fixture(scope="module")
def lab():
    """The image and its two containers, running; removed afterwards even when a test fails."""
    api = docker_api(timeout=60)
    ensure_sleeper_image(api)
    _remove_test_objects(api)  # leftovers of an interrupted run
    try:
        image_id = build_image(api, IMAGE, "FROM %s\nCOPY id_ed25519 /home/app/.ssh/id_ed25519\n" % SLEEPER_REF,
                               {"id_ed25519": (PRIVATE_KEY, 0o600)})
        hardened = api.create_host_config(read_only=True, cap_drop=["ALL"], security_opt=["no-new-privileges"], mem_limit="16m",
                                          pids_limit=16, network_mode="none")
        for name, settings in (("hardened", {"user": "65534:65534", "host_config": hardened}),
                               ("default", {"host_config": api.create_host_config(network_mode="none")})):
            created = api.create_container(image_id, name=PREFIX + name, labels={"bulwark.test": "1"}, **settings)
            api.start(created["Id"])
        yield api, image_id
    finally:
        _remove_test_objects(api)


def _run(name, args, check=False):
    run = run_module(name, args, check=check)
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg") or run.stderr[-2000:]
    return run.result


@pytest.fixture(scope="module")
def results(lab, tmp_path_factory):  # pylint: disable=unused-argument
    """container_audit and image_audit run apart, then audit with the same options (each image audit with a cache of
    its own, so each scans the image)."""
    caches = tmp_path_factory.mktemp("audit-module")
    container = _run("container_audit", dict(SHARED_OPTIONS, **CONTAINER_OPTIONS))
    image = _run("image_audit", dict(SHARED_OPTIONS, cache_dir=str(caches / "apart"), **IMAGE_OPTIONS))
    both = _run("audit", dict(SHARED_OPTIONS, cache_dir=str(caches / "together"), **dict(CONTAINER_OPTIONS, **IMAGE_OPTIONS)))
    return container, image, both


def _verdicts(result):
    return sorted((finding["rule"], finding["target"], finding["status"], finding["severity"], finding["evidence"])
                  for finding in result["findings"])


def test_the_container_audit_part_is_container_audits_result(results):
    container, _image, both = results
    assert _verdicts(both) == _verdicts(container) and both["findings"]
    for key in ("summary", "rules", "containers", "images", "api_calls_by_endpoint"):
        assert both[key] == container[key], key
    assert both["containers"] == 2


def test_the_image_audit_part_is_image_audits_result(results):
    _container, image, both = results
    part = both["image_audit"]
    assert _verdicts(part) == _verdicts(image) and part["findings"]
    for key in ("summary", "rules", "images", "scan_errors", "scans_incomplete"):
        assert part[key] == image[key], key
    assert ("BW-010", IMAGE, "fail") in [verdict[:3] for verdict in _verdicts(part)]  # the layer scan ran
    assert part["cache"]["misses"] == image["cache"]["misses"] == 1 and part["cache"]["written"] == 1


def test_the_image_audit_reads_nothing_the_container_audit_read(results):
    _container, image, both = results
    # The container audit inspected the image its containers run: the image audit took that inspect over.
    assert both["api_calls_shared"] == {"inspect_image": 1}
    own = collections.Counter(both["image_audit"]["api_calls_by_endpoint"])
    assert "inspect_image" not in own
    assert own + collections.Counter(both["api_calls_shared"]) == collections.Counter(image["api_calls_by_endpoint"])
    assert both["image_audit"]["api_calls"] == image["api_calls"] - 1


def test_check_mode_writes_no_scan_cache(lab, tmp_path):  # pylint: disable=unused-argument
    cache = tmp_path / "never-written"
    both = _run("audit", dict(SHARED_OPTIONS, cache_dir=str(cache), **dict(CONTAINER_OPTIONS, **IMAGE_OPTIONS)), check=True)
    assert both["changed"] is False and both["image_audit"]["cache"]["written"] == 0 and not cache.exists()


def test_audit_playbook_runs_one_module_per_host(lab, tmp_path):  # pylint: disable=unused-argument
    run = run_playbook("bulwark.hardening.audit", extra_vars={
        "bulwark_audit_scope": CONTAINER_OPTIONS["scope"], "bulwark_audit_containers": CONTAINER_OPTIONS["name_filter"],
        "bulwark_audit_images": [IMAGE], "bulwark_audit_docker_host": DOCKER_HOST, "bulwark_audit_fail_severity": "none",
        "bulwark_audit_report_dir": str(tmp_path / "reports")})
    assert run.returncode == 0, run.stdout[-3000:]
    # Every task that ran a module on the host (an audit reports its API calls): one, with both audits in its result.
    module_tasks = [task["task"]["name"] for play in run.output["plays"] for task in play["tasks"]
                    if "api_calls" in task["hosts"].get("localhost", {})]
    assert module_tasks == [AUDIT_TASK]
    audit = run.tasks()[AUDIT_TASK]
    assert audit["containers"] == 2 and audit["image_audit"]["images"] == 1
    lines = run.tasks()["Show the compliance of each host, failing it at or above none"]["summary_lines"]
    assert lines[1].startswith("   over container_audit (2 containers) and image_audit (1 image, image score")
    report = run.tasks()["Report the compliance of every host (files into bulwark_audit_report_dir when set)"]
    assert report["summary"]["audited"] == 1 and {"html", "json", "junit"} <= set(report["files"])
