# -*- coding: utf-8 -*-
"""run_image_audit: selection, the call budget, the cache's effect on calls, waivers, no secret in the result."""

from __future__ import annotations

import copy
import os
import io
import itertools
import json
import re
import tarfile

import pytest
from docker.errors import APIError, NotFound

from ansible_collections.bulwark.hardening.plugins.module_utils.audit.run import AuditError
from ansible_collections.bulwark.hardening.plugins.module_utils.engine.connection import CountingClient, connection_from
from ansible_collections.bulwark.hardening.plugins.module_utils.images.run import run_image_audit, select_images

from rule_fixtures import load

SECRET = "Xq7rT2mLp9vK4wZs8bN3cY6d"
KEY = b"-----BEGIN RSA PRIVATE KEY-----\nMIIE" + SECRET.encode() + b"\n-----END RSA PRIVATE KEY-----\n"


def image_id(number):
    return "sha256:" + str(number) * 64


def tar_of(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path, data, mode in files:
            info = tarfile.TarInfo(path)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


class FakeAPI(object):
    """The APIClient methods run_image_audit uses, over three images, with a container store as the Engine keeps
    one: containers by id and name, created (never started) or running, removal refused for a running container
    without force. Records what was created and removed, and with which keywords."""

    def __init__(self):
        base = load("image.json")
        self.images_data = {}
        self.filesystems = {}
        for number, (tags, user, files) in enumerate([
            (["app:1.0"], "65534", [("bin/app", b"x", 0o755)]),
            (["tools:latest"], "", [("usr/bin/su", b"x", 0o4755), ("root/.ssh/id_rsa", KEY, 0o600)]),
            (None, "", [("bin/sh", b"x", 0o755)]),
        ], start=1):
            data = copy.deepcopy(base)
            data.update({"Id": image_id(number), "RepoTags": tags or [], "RepoDigests": []})
            data["Config"]["User"] = user
            self.images_data[image_id(number)] = data
            self.filesystems[image_id(number)] = tar_of(files)
        self.store = {}  # container id -> inspect data
        self.created = {}  # container id -> image, of create_container calls
        self.create_options = []
        self.removed = []
        self.remove_options = []
        self.listed = []  # filters of every container list call
        self.numbers = itertools.count()

    def add_container(self, name, image, labels=None, status="running", started="2026-11-01T00:00:00Z", cmd=None):
        """A container the audit did not make (or, with the right name and label, one it did)."""
        container = "%064x" % (0xf000 + next(self.numbers))
        self.store[container] = {"Id": container, "Name": "/" + name, "Mounts": [{"Type": "volume", "Name": "v" + container[:8]}],
                                 "Config": {"Image": image, "Labels": labels or {}, "Cmd": cmd or ["/bin/sleep", "1"]},
                                 "State": {"Status": status, "Running": status == "running", "Paused": False,
                                           "Restarting": False, "StartedAt": started}}
        return container

    def containers(self, all=False, filters=None):  # pylint: disable=redefined-builtin
        self.listed.append(filters)
        return [{"Id": container, "Labels": data["Config"]["Labels"]} for container, data in self.store.items()]

    def images(self):
        return [{"Id": data["Id"], "RepoTags": data["RepoTags"] or None, "RepoDigests": []}
                for data in self.images_data.values()]

    def inspect_image(self, name):
        if name not in self.images_data:
            raise NotFound("no such image")
        return self.images_data[name]

    def history(self, name):
        if name == image_id(2):
            return [{"CreatedBy": "ENV API_TOKEN=" + SECRET}, {"CreatedBy": "ADD file:abc in / "}]
        return [{"CreatedBy": "COPY app /bin/app # buildkit"}]

    def create_container(self, image, command=None, name=None, labels=None, host_config=None, **kwargs):
        container = "%064x" % next(self.numbers)  # scans run in two threads: itertools.count is atomic
        if any(data["Name"] == "/" + name for data in self.store.values()):
            raise APIError("Conflict. The container name %s is already in use" % name)
        self.created[container] = image
        self.create_options.append(dict(kwargs, image=image, command=command, name=name, labels=labels, host_config=host_config))
        self.store[container] = {"Id": container, "Name": "/" + name, "Mounts": [],
                                 "Config": {"Image": image, "Labels": dict(labels or {}), "Cmd": command},
                                 "State": {"Status": "created", "Running": False, "Paused": False, "Restarting": False,
                                           "StartedAt": "0001-01-01T00:00:00Z"}}
        return {"Id": container}

    def inspect_container(self, container):
        for data in self.store.values():
            if container in (data["Id"], data["Name"][1:]):
                return copy.deepcopy(data)
        raise NotFound("no such container")

    def export(self, container):
        data = self.filesystems[self.created[container]]
        return iter([data[:1000], data[1000:]])

    def remove_container(self, container, v=False, force=False):
        if container not in self.store:
            raise NotFound("no such container")
        if self.store[container]["State"]["Running"] and not force:
            raise APIError("You cannot remove a running container")
        self.removed.append(container)
        self.remove_options.append({"v": v, "force": force})
        del self.store[container]


def audit(fake, tmp_path, **options):
    client = CountingClient(connection_from({}), api_factory=lambda version: fake)
    options.setdefault("cache_dir", str(tmp_path / "cache"))
    options.setdefault("report", "all")
    return run_image_audit(client=client, **options)


def failing(result):
    found = {}
    for finding in result["findings"]:
        if finding["status"] == "fail":
            found.setdefault(finding["target"], set()).add(finding["rule"])
    return found


def test_every_image_audited_with_exact_failures_and_the_call_budget(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path)
    assert result["images"] == 2  # the dangling one is left out
    assert failing(result) == {
        "app:1.0": {"4.6", "BW-005"},
        "tools:latest": {"4.1", "4.6", "4.8", "4.10", "BW-005", "BW-010", "BW-011"},  # the ENV is in history only
    }
    assert result["api_calls_by_endpoint"] == {"images": 1, "inspect_image": 2, "history": 2, "create_container": 2,
                                               "export": 2, "inspect_container": 2, "remove_container": 2}
    assert sorted(fake.removed) == sorted(fake.created) and fake.store == {}
    assert fake.remove_options == [{"v": False, "force": False}] * 2  # never the volumes, never by force
    assert fake.listed == []  # no container is ever chosen from a list (by label or name)
    assert result["scan_containers"]["created"] == result["scan_containers"]["removed"] == 2
    assert result["cache"]["misses"] == 2 and result["cache"]["written"] == 2
    assert result["cache"]["bytes_read"] == sum(len(fake.filesystems[image_id(n)]) for n in (1, 2))
    assert SECRET not in json.dumps(result)


def test_second_run_hits_the_cache_without_creating_anything(tmp_path):
    audit(FakeAPI(), tmp_path)
    fake = FakeAPI()
    result = audit(fake, tmp_path)
    assert result["cache"]["hits"] == 2 and result["cache"]["misses"] == 0 and result["cache"]["bytes_read"] == 0
    assert "create_container" not in result["api_calls_by_endpoint"] and "export" not in result["api_calls_by_endpoint"]
    assert fake.created == {}
    assert "BW-010" in failing(result)["tools:latest"]  # decided from the cached scan
    assert result["scan_containers"]["record"] is None and result["scan_containers"]["record_unusable"] is None
    assert os.listdir(str(tmp_path / "cache" / "runs")) == []  # nothing scanned, nothing recorded


def test_check_mode_writes_no_cache_and_creates_no_directory(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path, check_mode=True)
    assert result["cache"]["written"] == 0 and not (tmp_path / "cache").exists()
    assert sorted(fake.removed) == sorted(fake.created) and fake.store == {}  # its own scan containers: removed
    assert result["scan_containers"]["record"] is None and "check mode" in result["scan_containers"]["record_unusable"]


def test_without_layer_scan_nothing_is_created_and_file_rules_skip(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path, layer_scan=False)
    assert fake.created == {} and set(result["api_calls_by_endpoint"]) == {"images", "inspect_image", "history"}
    skipped = set(f["rule"] for f in result["findings"] if f["status"] == "skipped" and f["target"] == "tools:latest")
    assert {"4.8", "BW-010"} <= skipped


def test_dangling_images_with_include_dangling_or_by_id(tmp_path):
    assert audit(FakeAPI(), tmp_path, include_dangling=True)["images"] == 3
    by_id = audit(FakeAPI(), tmp_path, images=[image_id(3)[7:19]])
    assert by_id["images"] == 1 and set(failing(by_id)) == {image_id(3)[7:19]}


def test_waivers_and_bad_input(tmp_path):
    result = audit(FakeAPI(), tmp_path, waivers=[{"rule": "4.6", "target": "app:*", "reason": "batch job"}])
    assert "4.6" not in failing(result)["app:1.0"]
    with pytest.raises(AuditError):
        audit(FakeAPI(), tmp_path, waivers=[{"rule": "4.99", "reason": "x"}])
    with pytest.raises(AuditError):
        audit(FakeAPI(), tmp_path, report="some")


SUMMARIES = [
    {"Id": image_id(1), "RepoTags": ["registry.example.com/team/app:1.0", "app:latest"], "RepoDigests": []},
    {"Id": image_id(2), "RepoTags": ["tools:2"], "RepoDigests": ["docker.io/library/tools@sha256:" + "f" * 64]},
    {"Id": image_id(3), "RepoTags": None, "RepoDigests": None},
    {"Id": image_id(4), "RepoTags": ["<none>:<none>"], "RepoDigests": []},
]


@pytest.mark.parametrize("patterns,dangling,expected", [
    ([], False, [1, 2]),
    ([], True, [1, 2, 3, 4]),
    (["app"], False, [1]),                            # a repository: all its tags
    (["app:latest"], False, [1]),
    (["registry.example.com/*"], False, [1]),
    (["tools"], False, [2]),
    (["docker.io/library/tools@sha256:*"], False, [2]),
    ([image_id(3)[7:19]], False, [3]),                # an id names a dangling image too
    (["sha256:" + "4" * 64], False, [4]),
    (["nothing*"], True, []),
])
def test_select_images(patterns, dangling, expected):
    chosen = select_images(SUMMARIES, patterns, dangling)
    assert [summary["Id"] for summary in chosen] == [image_id(n) for n in expected]


def test_level_1_leaves_out_the_level_2_image_rules(tmp_path):
    result = audit(FakeAPI(), tmp_path, level=1)
    assert failing(result) == {
        "app:1.0": {"4.6"},
        "tools:latest": {"4.1", "4.6", "4.10", "BW-010", "BW-011"},  # not 4.8 (setuid), BW-005 (pinning): Level 2
    }
    assert not set(finding["rule"] for finding in result["findings"]) & {"4.8", "BW-005", "BW-006"}
    assert result["summary"]["level"] == 1 and "4.8" not in result["summary"]["failed_rules"]
    everything = audit(FakeAPI(), tmp_path)
    assert everything["summary"]["level"] == 2
    assert result["summary"]["total"] == sum(1 for finding in everything["findings"] if finding["level"] == 1)


def test_level_1_keeps_waivers_of_level_2_rules_valid(tmp_path):
    result = audit(FakeAPI(), tmp_path, level=1, waivers=[{"rule": "4.8", "reason": "Level 2 only"}])
    assert result["summary"]["by_status"]["waived"] == 0
    with pytest.raises(AuditError, match="level must be one of 1, 2"):
        audit(FakeAPI(), tmp_path, level=3)


# --- only what the audit made; names ansible-core can carry --------------------------------------

@pytest.mark.parametrize("check_mode", [False, True])
@pytest.mark.parametrize("status,started", [("running", "2026-11-01T00:00:00Z"), ("created", "0001-01-01T00:00:00Z"),
                                            ("exited", "2026-11-01T00:00:00Z")])
def test_containers_carrying_the_scan_label_or_name_are_not_touched(tmp_path, check_mode, status, started):
    # Containers inherit their image's labels: a third-party image labelled bulwark.image-scan=1 makes containers
    # that carry it, and anyone may name a container like ours. Neither makes it ours.
    fake = FakeAPI()
    theirs = [fake.add_container("their-app", "sha256:" + "9" * 64, {"bulwark.image-scan": "1"}, status, started),
              fake.add_container("bulwark-image-scan-0123456789abcdef-0", image_id(1), {"bulwark.image-scan": "0123456789abcdef"},
                                 status, started, cmd=["/bulwark-layer-scan-never-runs"])]
    result = audit(fake, tmp_path, check_mode=check_mode)
    assert set(theirs) <= set(fake.store) and not set(theirs) & set(fake.removed)
    assert result["scan_leftovers_removed"] == 0 and fake.listed == []


def test_a_setuid_file_with_a_name_that_is_not_utf8_is_reported_and_cached(tmp_path):
    fake = FakeAPI()
    fake.filesystems[image_id(1)] = tar_of([(b"usr/bin/\xff".decode("utf-8", "surrogateescape"), b"x", 0o4755)])
    for _run in range(2):  # scanned, then from the cache
        result = audit(fake, tmp_path, images=["app:1.0"])
        json.dumps(result, ensure_ascii=False).encode("utf-8")  # what ansible-core needs of a module result
        evidence = [f["evidence"] for f in result["findings"] if f["rule"] == "4.8"]
        assert evidence == ["files with special permission bits: 1 setuid (/usr/bin/\\xff)"]
    assert result["cache"]["hits"] == 1


# --- scan containers: per-run marker, record, leftovers of interrupted runs ------------------------

from ansible_collections.bulwark.hardening.plugins.module_utils.images.record import RunRecord  # noqa: E402


def runs_dir(tmp_path):
    return tmp_path / "cache" / "runs"


def interrupted_run(fake, tmp_path, status="created", started="0001-01-01T00:00:00Z", docker_host="unix:///var/run/docker.sock",
                    run_id="00000000000000aa", record_id=True):
    """What a run killed during its scan leaves: its record (unlocked: the process is gone) and its container."""
    directory = runs_dir(tmp_path)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(str(directory.parent), 0o700)
    os.chmod(str(directory), 0o700)
    name = "bulwark-image-scan-%s-0" % run_id
    container = fake.add_container(name, image_id(1), {"bulwark.image-scan": run_id}, status, started,
                                   cmd=["/bulwark-layer-scan-never-runs"])
    record = RunRecord.start(str(directory), run_id, docker_host)
    record.planned(name, image_id(1))
    if record_id:
        record.created(name, container)
    record.close()  # the lock goes with the process; the file stays: a container is not settled
    return container, record.path


def test_each_run_names_and_labels_its_scan_containers_with_its_own_id_and_records_them(tmp_path):
    fake = FakeAPI()
    fake.images_data[image_id(1)]["Config"]["Volumes"] = {"/data": {}, "/var/log": {}}
    result = audit(fake, tmp_path, images=["app:1.0"])
    run = result["scan_containers"]["run"]
    assert re.match(r"^[0-9a-f]{16}$", run)
    [options] = fake.create_options
    assert options["name"] == "bulwark-image-scan-%s-0" % run and options["labels"] == {"bulwark.image-scan": run}
    assert options["network_disabled"] is True and options["command"] == ["/bulwark-layer-scan-never-runs"]
    # No anonymous volume for the image's VOLUMEs: a tmpfs is mounted there instead.
    assert options["host_config"]["Mounts"] == [{"Type": "tmpfs", "Target": "/data"}, {"Type": "tmpfs", "Target": "/var/log"}]
    assert result["scan_containers"]["record"].endswith("/runs/%s.jsonl" % run)
    assert os.listdir(str(runs_dir(tmp_path))) == []  # every container settled: the record is gone
    again = audit(FakeAPI(), tmp_path, cache_dir=str(tmp_path / "other"), images=["app:1.0"])
    assert again["scan_containers"]["run"] != run


@pytest.mark.parametrize("record_id", [True, False])  # killed after create returned, or before
def test_the_scan_containers_of_an_interrupted_run_are_removed_by_the_next_run(tmp_path, record_id):
    fake = FakeAPI()
    container, path = interrupted_run(fake, tmp_path, record_id=record_id)
    result = audit(fake, tmp_path, images=["app:1.0"])
    assert container in fake.removed and result["scan_leftovers_removed"] == 1
    assert fake.remove_options[0] == {"v": False, "force": False}
    assert not os.path.exists(path)


def test_check_mode_leaves_an_interrupted_runs_containers_and_says_so(tmp_path):
    fake = FakeAPI()
    container, path = interrupted_run(fake, tmp_path)
    result = audit(fake, tmp_path, images=["app:1.0"], check_mode=True)
    assert container in fake.store and container not in fake.removed and result["scan_leftovers_removed"] == 0
    assert [entry["name"] for entry in result["scan_containers"]["left"]] == ["bulwark-image-scan-00000000000000aa-0"]
    assert os.path.exists(path)
    assert sorted(fake.removed) == sorted(fake.created)  # its own: removed


@pytest.mark.parametrize("status,started", [("running", "2026-11-01T00:00:00Z"), ("exited", "2026-11-01T00:00:00Z")])
def test_a_recorded_container_someone_started_is_kept(tmp_path, status, started):
    fake = FakeAPI()
    container, path = interrupted_run(fake, tmp_path, status=status, started=started)
    result = audit(fake, tmp_path, images=["app:1.0"])
    assert container in fake.store and result["scan_leftovers_removed"] == 0
    [left] = result["scan_containers"]["left"]
    assert status in left["reason"] or "started" in left["reason"]
    assert not os.path.exists(path)  # settled as kept: never tried again


def test_a_recorded_name_now_worn_by_another_container_is_kept(tmp_path):
    fake = FakeAPI()
    container, _path = interrupted_run(fake, tmp_path, record_id=False)
    fake.store[container]["Config"]["Image"] = image_id(2)  # the name was taken by someone else's container
    result = audit(fake, tmp_path, images=["app:1.0"])
    assert container in fake.store and "not the scan container" in result["scan_containers"]["left"][0]["reason"]


def test_the_record_of_a_run_still_going_is_left_alone(tmp_path):
    fake = FakeAPI()
    container, path = interrupted_run(fake, tmp_path)
    os.unlink(path)
    alive = RunRecord.start(str(runs_dir(tmp_path)), "00000000000000bb", "unix:///var/run/docker.sock")
    try:
        alive.planned("bulwark-image-scan-00000000000000aa-0", image_id(1))
        result = audit(fake, tmp_path, images=["app:1.0"])
        assert container in fake.store and result["scan_leftovers_removed"] == 0
        assert os.path.exists(alive.path)
    finally:
        alive.close()


def test_the_record_of_a_run_against_another_engine_is_left_for_it(tmp_path):
    fake = FakeAPI()
    container, path = interrupted_run(fake, tmp_path, docker_host="tcp://10.0.0.9:2375")
    audit(fake, tmp_path, images=["app:1.0"])
    assert container in fake.store and os.path.exists(path)


def test_records_in_a_directory_others_can_write_are_not_trusted(tmp_path):
    fake = FakeAPI()
    container, _path = interrupted_run(fake, tmp_path)
    os.chmod(str(runs_dir(tmp_path)), 0o777)
    result = audit(fake, tmp_path, images=["app:1.0"])
    assert container in fake.store and result["scan_leftovers_removed"] == 0
    assert "writable by group or others" in result["scan_containers"]["record_unusable"]
    assert sorted(fake.removed) == sorted(fake.created)  # its own are still removed as each scan ends


def test_an_own_scan_container_started_during_the_scan_is_kept(tmp_path):
    fake = FakeAPI()
    export = fake.export

    def export_then_someone_starts_it(container):
        fake.store[container]["State"].update(Status="running", Running=True, StartedAt="2026-11-01T00:00:00Z")
        return export(container)
    fake.export = export_then_someone_starts_it
    result = audit(fake, tmp_path, images=["app:1.0"])
    assert fake.removed == [] and len(fake.store) == 1
    assert "running" in result["scan_containers"]["left"][0]["reason"] and result["scan_containers"]["removed"] == 0


def test_a_scan_container_made_by_a_create_call_that_failed_is_removed_by_name(tmp_path):
    fake = FakeAPI()
    create = fake.create_container

    def create_then_time_out(image, **kwargs):
        create(image, **kwargs)
        raise APIError("timed out")
    fake.create_container = create_then_time_out
    result = audit(fake, tmp_path, images=["app:1.0"])
    assert fake.store == {} and len(fake.removed) == 1
    assert result["scan_errors"] and result["scan_errors"][0]["image"] == "app:1.0"


# --- caps -------------------------------------------------------------------------------------------

def test_a_capped_scan_says_so_in_the_finding_and_is_not_cached(tmp_path):
    fake = FakeAPI()
    result = audit(fake, tmp_path, images=["tools:latest"], scan_max_entries=1)  # only usr/bin/su is read
    findings = dict((f["rule"], f) for f in result["findings"])
    assert findings["4.8"]["status"] == "fail" and "layer scan incomplete: stopped after 1 archive entries" in findings["4.8"]["evidence"]
    assert findings["BW-010"]["status"] == "skipped" and "scan_max_entries" in findings["BW-010"]["evidence"]
    assert result["scans_incomplete"] == [{"image": "tools:latest",
                                           "reason": "stopped after 1 archive entries (scan_max_entries)"}]
    assert result["cache"]["written"] == 0
    again = audit(fake, tmp_path, images=["tools:latest"])  # no cap now: scanned again, and whole
    assert again["cache"]["misses"] == 1 and again["scans_incomplete"] == []
    assert dict((f["rule"], f["status"]) for f in again["findings"])["BW-010"] == "fail"


def test_a_scan_capped_before_it_found_anything_is_skipped_not_passed(tmp_path):
    fake = FakeAPI()
    fake.filesystems[image_id(1)] = tar_of([("bin/app%d" % n, b"x", 0o755) for n in range(50)] + [("bin/zz", b"x", 0o4755)])
    result = audit(fake, tmp_path, images=["app:1.0"], scan_max_bytes=4096)
    findings = dict((f["rule"], f) for f in result["findings"])
    assert findings["4.8"]["status"] == "skipped" and "scan_max_bytes" in findings["4.8"]["evidence"]
    assert findings["BW-010"]["status"] == "skipped"
    assert "layer files after the scan stopped" in findings["4.10"]["evidence"]


@pytest.mark.parametrize("option,value", [("scan_max_entries", 0), ("scan_max_bytes", -1), ("scan_max_seconds", True)])
def test_caps_must_be_positive(tmp_path, option, value):
    with pytest.raises(AuditError, match=option):
        audit(FakeAPI(), tmp_path, **{option: value})


def test_a_scan_container_is_removed_when_the_export_fails(tmp_path):
    fake = FakeAPI()

    def broken(container):
        raise APIError("export broke")
    fake.export = broken
    result = audit(fake, tmp_path, images=["app:1.0"])
    assert fake.store == {} and len(fake.removed) == 1
    assert result["scan_errors"] == [{"image": "app:1.0", "error": "export broke"}]
