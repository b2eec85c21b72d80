"""image_audit against the real Docker Engine of this machine.

Builds one small local image per case (no registry: FROM the locally
imported bulwark-test/sleeper, through the Engine's classic builder; the
setuid case from a rootfs tar with a 0o4755 file), each a hardened baseline
(non-root USER, a HEALTHCHECK) plus one weakness. Runs the module through
`ansible localhost -m bulwark.hardening.image_audit` and checks the exact
failing rule ids per image, that no secret value appears anywhere in the
output, that each image is read once with docker save and nothing is created
on the Engine, that a second run is answered from the cache (no save), and
that check mode writes no cache. Every image carries the label bulwark.test=1
and is removed at the end, whatever happens.
"""

import os
import secrets

import pytest

from ansible_collections.bulwark.hardening.tests.integration.adhoc import run_module
from ansible_collections.bulwark.hardening.tests.integration.images import docker_api, SLEEPER_REF, build_image, ensure_sleeper_image, import_rootfs_with

pytestmark = pytest.mark.integration

DOCKER_HOST = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
REPOSITORY = "bulwark-test/ia-"
TAG = "1"
SETUID_BASE = "bulwark-test/image-audit-setuid-base"

# Secret values of this run: none may appear in the module's output.
KEY_BODY = secrets.token_urlsafe(48)
PRIVATE_KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\n%s\n-----END OPENSSH PRIVATE KEY-----\n" % KEY_BODY).encode()
DOTENV_SECRET = secrets.token_urlsafe(24)
ENV_SECRET = secrets.token_urlsafe(24)
SECRET_VALUES = (KEY_BODY, DOTENV_SECRET, ENV_SECRET)

USER_OK = "USER 65534:65534\n"
HEALTH_OK = 'HEALTHCHECK --interval=30s CMD ["/bin/sleep", "0"]\n'
BASELINE = "FROM %s\n" + USER_OK + HEALTH_OK

# Every image built here is local, so it has no registry digest: BW-005 (image form) fails for each one.
LOCAL = {"BW-005"}
# case: (Dockerfile after FROM (None: the baseline), context files, failing rules beyond LOCAL)
CASES = {
    "nonroot": (USER_OK + HEALTH_OK, {}, set()),
    "root-named": (HEALTH_OK + "USER root\n", {}, {"4.1"}),
    "root-numeric": (HEALTH_OK + "USER 0:0\n", {}, {"4.1"}),
    "privkey": (USER_OK + HEALTH_OK + "COPY id_rsa /home/app/.ssh/id_rsa\n", {"id_rsa": (PRIVATE_KEY, 0o600)},
                {"BW-010", "4.10"}),
    "dotenv": (USER_OK + HEALTH_OK + "COPY app.env /srv/app/.env\n",
               {"app.env": (("LOG_LEVEL=info\nDB_PASSWORD=%s\n" % DOTENV_SECRET).encode(), 0o644)}, {"BW-010", "4.10"}),
    "envsecret": (USER_OK + HEALTH_OK + "ENV API_TOKEN=%s\n" % ENV_SECRET, {}, {"BW-003", "BW-011", "4.10"}),
    "add": (USER_OK + HEALTH_OK + "ADD hello.txt /etc/hello.txt\n", {"hello.txt": (b"hello\n", 0o644)}, set()),
    "nohealth": (USER_OK, {}, {"4.6"}),
    "healthnone": (USER_OK + "HEALTHCHECK NONE\n", {}, {"4.6"}),
    "setuid": (USER_OK + HEALTH_OK, {}, {"4.8"}),
}


def _api():
    return docker_api(timeout=60)


def _remove_test_images(api):
    for name in [REPOSITORY + case for case in CASES] + [SETUID_BASE]:
        for image in api.images(name=name):
            if (image.get("Labels") or {}).get("bulwark.test") == "1":
                api.remove_image(image["Id"], force=True)


def _containers_of(api, image_ids):
    """Containers of these images (other runs on a shared Engine have their own)."""
    return [container for image_id in image_ids for container in api.containers(all=True, filters={"ancestor": image_id})]


@pytest.fixture(scope="module")
def lab():
    """The images of CASES; removed afterwards even when a test fails."""
    api = _api()
    ensure_sleeper_image(api)
    _remove_test_images(api)  # leftovers of an interrupted run
    try:
        ids = {}
        for case, (dockerfile, files, _expected) in CASES.items():
            base = SLEEPER_REF
            if case == "setuid":
                import_rootfs_with(api, SETUID_BASE, TAG, {"/usr/bin/escalate": (b"\x7fELF fake", 0o4755),
                                                           "/usr/bin/mailer": (b"\x7fELF fake", 0o2755)})
                base = SETUID_BASE + ":" + TAG
            ids[case] = build_image(api, REPOSITORY + case + ":" + TAG, "FROM %s\n%s" % (base, dockerfile), files)
        yield api, ids
    finally:
        _remove_test_images(api)


def _run(cache_dir, check=False, **extra):
    args = {"docker_host": DOCKER_HOST, "images": [REPOSITORY + "*"], "cache_dir": str(cache_dir), "report": "all"}
    args.update(extra)
    run = run_module("image_audit", args, check=check)
    assert run.returncode == 0 and not run.result.get("failed"), run.result.get("msg") or run.stderr[-2000:]
    return run


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("image-audit") / "cache"


@pytest.fixture(scope="module")
def audit(lab, cache_dir):
    return _run(cache_dir)


def _failing(run, case):
    return set(f["rule"] for f in run.result["findings"] if f["target"] == REPOSITORY + case + ":" + TAG and f["status"] == "fail")


@pytest.mark.parametrize("case", sorted(CASES))
def test_exact_failing_rules_per_image(audit, case):
    assert _failing(audit, case) == LOCAL | CASES[case][2]


def test_every_image_read_once_with_docker_save_and_nothing_created(lab, audit):
    api, ids = lab
    result = audit.result
    assert result["images"] == len(CASES) and result["scan_errors"] == [] and result["scans_incomplete"] == []
    # Reads only: the list, inspect and history per image, and one docker save per image.
    assert result["api_calls_by_endpoint"] == {"images": 1, "inspect_image": len(CASES), "history": len(CASES),
                                               "get_image": len(CASES)}
    assert result["cache"]["misses"] == len(CASES) and result["cache"]["written"] == len(CASES)
    assert result["cache"]["bytes_read"] > 0
    assert _containers_of(api, set(ids.values())) == []


def test_evidence_names_paths_and_kinds(audit):
    evidence = dict(((f["rule"], f["target"]), f["evidence"]) for f in audit.result["findings"])
    # The sleeper base is one layer, COPY adds the second (USER and HEALTHCHECK add none).
    assert "/home/app/.ssh/id_rsa (private key, %d bytes, layer 2 of 2)" % len(PRIVATE_KEY) in evidence[("BW-010", REPOSITORY + "privkey:1")]
    assert "/srv/app/.env (.env file with secret values" in evidence[("BW-010", REPOSITORY + "dotenv:1")]
    assert "1 setuid (/usr/bin/escalate); 1 setgid (/usr/bin/mailer)" in evidence[("4.8", REPOSITORY + "setuid:1")]
    assert "API_TOKEN=<masked, %d chars>" % len(ENV_SECRET) in evidence[("BW-011", REPOSITORY + "envsecret:1")]
    statuses = dict(((f["rule"], f["target"]), f["status"]) for f in audit.result["findings"])
    assert statuses[("4.9", REPOSITORY + "add:1")] == "warn"  # unscored: ADD warns
    assert statuses[("4.9", REPOSITORY + "nonroot:1")] == "pass"


def test_no_secret_value_anywhere_in_the_output(audit):
    for value in SECRET_VALUES:
        assert value not in audit.stdout and value not in audit.stderr


def test_second_run_is_answered_from_the_cache(audit, cache_dir):
    again = _run(cache_dir)
    calls = again.result["api_calls_by_endpoint"]
    assert "get_image" not in calls
    assert again.result["cache"]["hits"] == len(CASES) and again.result["cache"]["bytes_read"] == 0
    for case in CASES:
        assert _failing(again, case) == LOCAL | CASES[case][2]


def test_check_mode_writes_no_cache(lab, tmp_path):
    cache = tmp_path / "never-written"
    run = _run(cache, check=True, images=[REPOSITORY + "setuid:" + TAG])
    assert run.result["changed"] is False and not cache.exists()
    assert _failing(run, "setuid") == LOCAL | {"4.8"}


def test_without_layer_scan_no_image_is_read(lab, tmp_path):
    run = _run(tmp_path / "unused", layer_scan=False, images=[REPOSITORY + "privkey:" + TAG])
    assert set(run.result["api_calls_by_endpoint"]) == {"images", "inspect_image", "history"}
    assert _failing(run, "privkey") == LOCAL  # BW-010 and 4.8 skipped without a scan; 4.10 decided from history
